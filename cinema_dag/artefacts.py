"""The pipeline's artefact files: every name, and one reader and one writer per kind, in one place.

A partition folder (from :class:`cinema_dag.storage.ArtefactStorage`: ``stage`` to write,
``require`` to read) holds per-image files of one or more :class:`IndexedFiles` kinds, indexed
``000, 001, …`` across stages — ``image_003.png`` has ``mask_003.png``, ``disparity_003.npy``,
``ldi_003.npz`` and ``flow_003.npy`` — and the single files and folders named below. Assets ask
for names here instead of spelling them, so writer and readers cannot drift apart. Every writer
goes through :mod:`cinema_dag.atomic` (no half file, usual permissions).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from cinema_dag.atomic import atomic_path, atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:
    from cinema_dag.cinemagraph.ldi import LayeredDepthImage

__all__ = [
    "IndexedFiles",
    "IMAGE", "MASK", "DISPARITY", "DISPARITY_PNG", "LDI", "POINTS", "FLOW", "USER_MASK",
    "PROMPTS_FILE", "IMAGES_FILE", "MASKS_FILE", "LIBRARY_FILE", "CHECK_FILE",
    "CAPTIONS_DIR", "CORPUS_DIR", "ADAPTER_DIR",
    "VIDEO_FILE", "POSTER_FILE", "SPEECH_FILE", "CAP_OUT_FILE", "LINEAGE_FILE", "CATALOGUE_FILE",
    "cinemagraph_stem", "CinemagraphFiles",
    "RESULTS_FILE", "REFERENCE_FEATURES_FILE", "TABLE_CSV", "TABLE_PARQUET", "TABLE_MARKDOWN", "arm_images",
    "write_json", "read_json", "write_array", "read_array",
    "write_images", "read_images", "read_images_from_paths",
    "write_mask", "write_masks", "read_mask", "read_masks",
    "write_arrays", "read_arrays",
    "write_ldis", "read_ldi", "read_ldis",
    "write_disparity_pngs",
    "MAX_IMAGE_PIXELS",
]

# Upstream images come from our own generator, but a store can be shared: refuse absurd sizes early.
MAX_IMAGE_PIXELS = 64_000_000


@dataclass(frozen=True)
class IndexedFiles:
    """One kind of per-image file: ``<prefix>_000<suffix>``, ``<prefix>_001<suffix>`` …

    Example:
        >>> LDI.name(3)
        'ldi_003.npz'
    """

    prefix: str
    suffix: str

    def name(self, index: int) -> str:
        """The file name of image ``index``."""
        if index < 0 or index > 999:
            raise ValueError(f"`index` must be in [0, 999] (three digits); got {index}")
        return f"{self.prefix}_{index:03d}{self.suffix}"

    def path(self, folder: str | os.PathLike[str], index: int) -> Path:
        """The file of image ``index`` in ``folder``."""
        return Path(folder) / self.name(index)

    def paths(self, folder: str | os.PathLike[str]) -> list[Path]:
        """The files of this kind in ``folder``, in index order."""
        return sorted(Path(folder).glob(f"{self.prefix}_[0-9][0-9][0-9]{self.suffix}"))


IMAGE = IndexedFiles("image", ".png")                 # disaster_images: RGB, lossless
MASK = IndexedFiles("mask", ".png")                   # motion_masks: 8-bit 0/255
DISPARITY = IndexedFiles("disparity", ".npy")         # depth_maps: float32, larger = nearer
DISPARITY_PNG = IndexedFiles("disparity", ".png")     # depth_maps: 16-bit preview of the same map
LDI = IndexedFiles("ldi", ".npz")                     # depth_ldis: LayeredDepthImage.to_bytes
POINTS = IndexedFiles("points", ".ply")               # depth_ldis: open3d point cloud
FLOW = IndexedFiles("flow", ".npy")                   # flow_fields: float32 (H, W, 2), px/frame
USER_MASK = IndexedFiles("user_mask", ".png")         # disaster_images: a user's mask for a folder photo

PROMPTS_FILE = "prompts.json"     # generated_prompts
IMAGES_FILE = "images.json"       # disaster_images: settings and the prompt of each image
MASKS_FILE = "masks.json"         # motion_masks: prompts, thresholds, detections
LIBRARY_FILE = "library.json"     # cinemagraphs: one record per video
CHECK_FILE = "check.json"         # prompt_lora: the held-out loss check's verdict
CAPTIONS_DIR = "dataset"          # image_captions: a datasets.Dataset
CORPUS_DIR = "corpus"             # prompt_corpus: a datasets.DatasetDict
ADAPTER_DIR = "adapter"           # prompt_lora: the peft adapter folder

RESULTS_FILE = "results.json"                      # evaluation: every cell, prompts, scorers, previous adapter
REFERENCE_FEATURES_FILE = "reference_features.npy"  # evaluation: FID features of the reference photos
TABLE_CSV = "table.csv"                            # evaluation_summary: the table, one column per metric
TABLE_PARQUET = "table.parquet"                    # evaluation_summary: the same, numbers typed
TABLE_MARKDOWN = "table.md"                        # evaluation_summary: the same as the UI shows it

# alert_cinemagraphs/<alert key>/ (cinema_dag.alerts.render, assets/alerts.py) and video_catalogue/all/
VIDEO_FILE = "video.mp4"          # alert_cinemagraphs: the accessible card, with the spoken headline
POSTER_FILE = "poster.png"        # alert_cinemagraphs: its first frame
SPEECH_FILE = "speech.wav"        # alert_cinemagraphs: the spoken headline while rendering (muxed, then removed)
CAP_OUT_FILE = "alert.cap.xml"    # alert_cinemagraphs: the CAP 1.2 document carrying the video
LINEAGE_FILE = "lineage.json"     # alert_cinemagraphs: the video's catalogue row and the alert's fields
CATALOGUE_FILE = "catalogue.json"  # video_catalogue: one lineage row per video


def cinemagraph_stem(image: int, camera: str, seed: int) -> str:
    """The name, without suffix, of a cinemagraph's ``.mp4``, ``.gif`` and poster ``.png``.

    Example:
        >>> cinemagraph_stem(0, "circle", 3)
        '000_circle_s3'
    """
    return f"{image:03d}_{camera}_s{seed}"


def _kind(kind: IndexedFiles | str, suffix: str) -> IndexedFiles:
    return kind if isinstance(kind, IndexedFiles) else IndexedFiles(kind, suffix)


def write_json(folder: str | os.PathLike[str], name: str, value: Any) -> Path:
    """Write ``value`` as UTF-8 JSON (indent 2, Korean kept readable) to ``folder/name``."""
    return atomic_write_json(Path(folder) / name, value)


def read_json(folder: str | os.PathLike[str], name: str) -> Any:
    path = Path(folder) / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the upstream artefact is incomplete; re-materialize it")
    return json.loads(path.read_text(encoding="utf-8"))


def write_images(folder: str | os.PathLike[str], images: list[Image.Image],
                 kind: IndexedFiles = IMAGE) -> list[Path]:
    """Save RGB images as ``image_000.png …`` (lossless)."""
    paths = []
    for i, image in enumerate(images):
        with atomic_path(kind.path(folder, i)) as tmp:
            image.convert("RGB").save(tmp, format="PNG")
        paths.append(kind.path(folder, i))
    return paths


def read_images(folder: str | os.PathLike[str], kind: IndexedFiles = IMAGE) -> list[Image.Image]:
    """Load the ``image_NNN.png`` images of a folder, in order, as RGB.

    Raises:
        ValueError: for an undecodable or oversized image, naming the file.
    """
    return read_images_from_paths(kind.paths(folder))


def write_mask(folder: str | os.PathLike[str], index: int, mask: np.ndarray, kind: IndexedFiles = MASK) -> Path:
    """Save one boolean mask (H, W) as an 8-bit PNG with values 0 and 255, as image ``index``'s."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask {index} must be (H, W); got shape {mask.shape}")
    with atomic_path(kind.path(folder, index)) as tmp:
        Image.fromarray(np.where(mask.astype(bool), 255, 0).astype(np.uint8), mode="L").save(tmp, format="PNG")
    return kind.path(folder, index)


def write_masks(folder: str | os.PathLike[str], masks: list[np.ndarray], kind: IndexedFiles = MASK) -> list[Path]:
    """Save boolean masks (H, W) as 8-bit PNGs with values 0 and 255."""
    return [write_mask(folder, i, mask, kind) for i, mask in enumerate(masks)]


def _read_mask(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L")) > 127


def read_mask(folder: str | os.PathLike[str], index: int, kind: IndexedFiles = MASK) -> np.ndarray | None:
    """Image ``index``'s mask of this kind as a boolean array (H, W), or None when there is none."""
    path = kind.path(folder, index)
    return _read_mask(path) if path.is_file() else None


def read_masks(folder: str | os.PathLike[str], kind: IndexedFiles = MASK) -> list[np.ndarray]:
    """Load the masks of a folder as boolean arrays (H, W)."""
    return [_read_mask(p) for p in kind.paths(folder)]


def write_arrays(folder: str | os.PathLike[str], arrays: list[np.ndarray], kind: IndexedFiles | str) -> list[Path]:
    """Save arrays losslessly as ``<prefix>_NNN.npy`` (no pickle); ``kind`` e.g. :data:`FLOW`."""
    kind = _kind(kind, ".npy")
    paths = []
    for i, array in enumerate(arrays):
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        paths.append(atomic_write_bytes(kind.path(folder, i), buffer.getvalue()))
    return paths


def read_arrays(folder: str | os.PathLike[str], kind: IndexedFiles | str) -> list[np.ndarray]:
    """Load the ``<prefix>_NNN.npy`` arrays of a folder, in order; ``kind`` e.g. :data:`FLOW`."""
    return [np.load(p, allow_pickle=False) for p in _kind(kind, ".npy").paths(folder)]


def write_ldis(folder: str | os.PathLike[str], ldis: list[LayeredDepthImage]) -> list[Path]:
    """Save layered depth images as ``ldi_NNN.npz``."""
    return [atomic_write_bytes(LDI.path(folder, i), ldi.to_bytes()) for i, ldi in enumerate(ldis)]


def read_ldi(folder: str | os.PathLike[str], index: int) -> LayeredDepthImage:
    """Load ``ldi_<index>.npz``; one at a time keeps memory flat for long lists."""
    from cinema_dag.cinemagraph.ldi import LayeredDepthImage  # noqa: PLC0415 - the engine imports torch

    path = LDI.path(folder, index)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: re-materialize depth_ldis")
    return LayeredDepthImage.from_bytes(path.read_bytes())


def read_ldis(folder: str | os.PathLike[str]) -> list[LayeredDepthImage]:
    """Load every ``ldi_NNN.npz`` of a folder, in order."""
    return [read_ldi(folder, i) for i in range(len(LDI.paths(folder)))]


def write_disparity_pngs(folder: str | os.PathLike[str], maps: list[np.ndarray]) -> list[Path]:
    """Save 16-bit PNG previews (min-max normalised) of disparity maps as ``disparity_NNN.png``."""
    from cinema_dag.vision.depth import depth_to_png16  # noqa: PLC0415 - imports torch

    return [atomic_write_bytes(DISPARITY_PNG.path(folder, i), depth_to_png16(m)) for i, m in enumerate(maps)]


def read_images_from_paths(paths: list[Path]) -> list[Image.Image]:
    """Load listed image files as RGB (same guards as :func:`read_images`)."""
    images = []
    for path in paths:
        try:
            with Image.open(path) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise ValueError(f"{path} has {img.width}x{img.height} pixels, over {MAX_IMAGE_PIXELS}")
                images.append(img.convert("RGB"))
        except (OSError, Image.DecompressionBombError) as err:
            raise ValueError(f"cannot decode {path}: {err}") from None
    return images


@dataclass(frozen=True)
class CinemagraphFiles:
    """The files of one cinemagraph in its partition folder, named by its :func:`cinemagraph_stem`:
    the video ``<stem>.mp4``, the looping ``<stem>.gif`` and the poster ``<stem>.png``. The
    ``cinemagraphs`` asset writes them and the catalogue reads them through this one place.

    Example:
        >>> CinemagraphFiles("out", "000_circle_s3").video.as_posix()
        'out/000_circle_s3.mp4'
    """

    folder: Path | str
    stem: str

    @property
    def video(self) -> Path:
        return Path(self.folder) / f"{self.stem}.mp4"

    @property
    def gif(self) -> Path:
        return Path(self.folder) / f"{self.stem}.gif"

    @property
    def poster(self) -> Path:
        return Path(self.folder) / f"{self.stem}.png"


def arm_images(arm: str) -> IndexedFiles:
    """An evaluation arm's images: ``keyword_000.png``, ``base_000.png``, ``adapter_000.png`` …

    Example:
        >>> arm_images("adapter").name(1)
        'adapter_001.png'
    """
    return IndexedFiles(arm, ".png")


def write_array(folder: str | os.PathLike[str], name: str, array: np.ndarray) -> Path:
    """Save one array losslessly as ``folder/name`` (``.npy``, no pickle)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return atomic_write_bytes(Path(folder) / name, buffer.getvalue())


def read_array(folder: str | os.PathLike[str], name: str) -> np.ndarray:
    """Load ``folder/name`` written by :func:`write_array`."""
    path = Path(folder) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the upstream artefact is incomplete; re-materialize it")
    return np.load(path, allow_pickle=False)
