"""evaluation and evaluation_summary: the paper's Table 1 (FID, CLIP, LPIPS, SSIM; plus KID) per
disaster type, for our prompts with and without the adapter and for the plain keyword prompt."""

import time
from typing import Any

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import (
    ADAPTER_ASSET,
    ALL,
    GENERATION_SETTINGS,
    GPU_OP_TAGS,
    GPU_POOL,
    GROUP_EVALUATION,
    OWNERS,
    timed,
    timing_metadata,
    usable_adapter,
)
from cinema_dag.disasters import DISASTER_KEYS
from cinema_dag.evaluation.fid import DEFAULT_KID_SUBSET_SIZE, DEFAULT_KID_SUBSETS
from cinema_dag.evaluation.pairs import DEFAULT_MAX_PAIRS, DEFAULT_PAIR_SIZE
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice

ADAPTER_CHECK = "adapter_not_worse_than_previous"
DEFAULT_REGRESSION_MARGIN = 0.05


class EvaluationConfig(dg.Config):
    num_images: int = Field(
        default=8, ge=2, le=1000,
        description="Images per arm; image i has seed + i in every arm. FID needs >= 2 and is biased below ~200.")
    seed: int = Field(default=0, description="Seed of the prompts and of the first image.")
    max_reference: int = Field(default=200, ge=2, description="Scraped photos of the type used at most (kept order).")
    num_inference_steps: int | None = Field(default=None, description="Denoising steps; None = the profile's.")
    height: int | None = Field(default=None, description="Image height; None = the profile's.")
    width: int | None = Field(default=None, description="Image width; None = the profile's.")
    pair_size: int = Field(default=DEFAULT_PAIR_SIZE, ge=16, description="SSIM/LPIPS compare pairs at this size².")
    max_pairs: int = Field(default=DEFAULT_MAX_PAIRS, ge=1, description="SSIM/LPIPS (generated, photo) pairs at most.")
    kid_subset_size: int = Field(default=DEFAULT_KID_SUBSET_SIZE, ge=2, description="KID subset size per side.")
    kid_subsets: int = Field(default=DEFAULT_KID_SUBSETS, ge=1, description="KID subsets.")
    regression_margin: float = Field(
        default=DEFAULT_REGRESSION_MARGIN, ge=0,
        description=f"{ADAPTER_CHECK}: a metric may be worse than the previous adapter's by this fraction.")
    reuse_unchanged_arms: bool = Field(
        default=True,
        description="Take the keyword and base-LLM arms from the previous record when nothing they depend on "
                    "changed (settings, scorers, reference photos): a nightly run then only measures the adapter.")
    regression_blocks: bool = Field(
        default=False,
        description=f"{ADAPTER_CHECK} fails with ERROR (blocks evaluation_summary) instead of warning.")


@dg.asset(
    partitions_def=disaster_types,
    deps=["scraped_images", ADAPTER_ASSET],
    group_name=GROUP_EVALUATION, owners=OWNERS[GROUP_EVALUATION], code_version="1",
    kinds={"pytorch", "diffusers"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
    check_specs=[dg.AssetCheckSpec(
        ADAPTER_CHECK, asset="evaluation", blocking=True,
        description="The current adapter's metrics are not worse than the previous adapter's by more than the "
                    "configured margin (warns by default; regression_blocks makes it block).")],
)
def evaluation(context: dg.AssetExecutionContext, config: EvaluationConfig, store: ArtefactStore,
               models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """FID, KID, CLIP score, LPIPS and SSIM of three arms of the same T2I model -- the plain keyword
    prompt, our metadata prompts from the base LLM, and from the LLM with the current adapter --
    against the scraped photos of the type; same seeds and sizes in every arm. ``results.json``
    holds every cell (a number or "unavailable: why"), the prompts, which extractor and models
    scored, and the previous adapter's numbers."""
    import numpy as np

    from cinema_dag.artefacts import (
        REFERENCE_FEATURES_FILE,
        RESULTS_FILE,
        arm_images,
        read_array,
        read_images,
        read_images_from_paths,
        read_json,
        write_array,
        write_images,
        write_json,
    )
    from cinema_dag.disasters import get_disaster
    from cinema_dag.evaluation import (
        ADAPTER_ARM,
        PAPER_SOURCE,
        PAPER_TABLE1,
        ReferenceSet,
        evaluate_images,
        fingerprint,
        load_scorers,
        paper_rows,
        previous_adapter,
        record_rows,
        reusable_arms,
        to_markdown,
    )
    from cinema_dag.models import get_spec
    from cinema_dag.previews import png_markdown
    from cinema_dag.scraping.layout import MANIFEST_FILE
    from cinema_dag.scraping.manifest import read_manifest
    from cinema_dag.text.prompts import generate_prompts
    from cinema_dag.vision.generate import generate_images

    key = context.partition_key
    timings: dict[str, float] = {}
    torch_device, torch_dtype = device.torch_device(), device.torch_dtype()

    # 1. The reference set: the type's kept scraped photos
    photos = store.require("scraped_images", key)
    kept = read_manifest(photos / MANIFEST_FILE).kept[: config.max_reference]
    reference_paths = [photos / row.path for row in kept]
    reference_images = read_images_from_paths(reference_paths)
    reference_id = fingerprint(reference_paths)
    if not reference_images:
        context.log.warning(f"scraped_images for {key!r} kept no photos: every comparison with them is unavailable")

    # 2. What this run compares, and what the record it replaces already measured
    adapter_path, adapter_version = usable_adapter(context, store)
    generation: dict[str, Any] = {k: get_spec("text_to_image", models.profile).defaults.get(k)
                                  for k in GENERATION_SETTINGS}
    generation.update({k: getattr(config, k) for k in ("height", "width", "num_inference_steps")
                       if getattr(config, k) is not None})
    settings = {"profile": models.profile, "text_to_image": models.model_id("text_to_image"),
                "llm": models.model_id("llm"), "num_images": config.num_images, "seed": config.seed,
                "generation": generation, "pair_size": config.pair_size, "max_pairs": config.max_pairs,
                "kid_subset_size": config.kid_subset_size, "kid_subsets": config.kid_subsets}
    stored_folder = store.require("evaluation", key) if store.is_complete("evaluation", key) else None
    stored: dict[str, Any] | None = read_json(stored_folder, RESULTS_FILE) if stored_folder is not None else None
    with timed(context, "load scorers", timings):
        scorers = load_scorers(load_clip=lambda: models.load("clip", torch_device, torch_dtype), device=torch_device)
    described = scorers.describe()
    for what, text in described.items():
        context.log.info(f"{what}: {text}")
    reused = reusable_arms(stored, settings, reference_id, described) if config.reuse_unchanged_arms else []
    # Arms are reused only from a stored record, so from here on `reused` implies both exist.
    record: dict[str, Any] = stored or {}
    if reused:
        context.log.info(f"{', '.join(reused)}: unchanged since {record['evaluated_at']}, taken from that record")

    # 3. The arms' prompts: the keyword, then the metadata generator without and with the adapter
    texts: dict[str, list[str]] = {"keyword": [get_disaster(key).english] * config.num_images}
    negatives: dict[str, list[str] | None] = {"keyword": None}  # the paper's baseline: the keyword, nothing else
    skipped: dict[str, str] = {}
    if adapter_path is None:
        skipped[ADAPTER_ARM] = "no prompt_lora adapter has passed its held-out loss check"
    for arm, path in (("base", None), (ADAPTER_ARM, adapter_path)):
        if arm in reused:
            texts[arm] = record["prompts"][arm]
        elif arm not in skipped:
            with timed(context, "prompts", timings, arm):
                llm = models.load("llm", torch_device, torch_dtype)
                prompts = generate_prompts(llm, key, num_prompts=config.num_images, seed=config.seed,
                                           adapter_path=path)
            texts[arm] = [p.prompt for p in prompts]
            negatives[arm] = [p.negative_prompt for p in prompts]

    # 4. Images, the same seeds and settings in every arm (reused arms: the stored ones)
    images = {}
    for arm in texts:
        if arm in reused and stored_folder is not None:
            images[arm] = read_images(stored_folder, arm_images(arm))
            continue
        with timed(context, "generate", timings, f"{arm}: {config.num_images} images"):
            pipe = models.load("text_to_image", torch_device, torch_dtype)
            images[arm] = generate_images(pipe, texts[arm], negatives[arm], seed=config.seed, **generation)

    # 5. Metrics against the photos (their features too are reused when the photos are the same)
    stored_reference = (stored or {}).get("reference", {})
    if (stored_folder is not None and stored_reference.get("fingerprint") == reference_id
            and stored_reference.get("features_by") == described["fid_extractor"]
            and (stored_folder / REFERENCE_FEATURES_FILE).is_file()):
        reference = ReferenceSet([np.asarray(img) for img in reference_images],
                                 read_array(stored_folder, REFERENCE_FEATURES_FILE))
    else:
        with timed(context, "reference features", timings, f"{len(reference_images)} photos"):
            reference = ReferenceSet.build(reference_images, scorers)
    results = {}
    for arm in texts:
        if arm in reused:
            results[arm] = record["arms"][arm]
            continue
        with timed(context, "metrics", timings, arm):
            results[arm] = evaluate_images(
                images[arm], texts[arm], reference, scorers, pair_size=config.pair_size, max_pairs=config.max_pairs,
                kid_subset_size=config.kid_subset_size, kid_subsets=config.kid_subsets, seed=config.seed).to_dict()

    # 6. The record; the previous adapter's numbers come from the record it replaces
    previous = previous_adapter(stored, adapter_version, settings)
    record = {
        "disaster": key, "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "adapter_version": adapter_version,
        "settings": settings, "scorers": described,
        "reference": {"count": len(reference_images), "fingerprint": reference_id,
                      "features_by": described["fid_extractor"] if not isinstance(reference.features, str) else None},
        "prompts": texts, "arms": results, "reused": reused, "skipped": skipped, "previous": previous,
    }
    with store.stage("evaluation", key, {"adapter": adapter_version, "seed": config.seed}) as out:
        for arm, generated in images.items():
            write_images(out, generated, arm_images(arm))  # keyword_000.png, base_000.png …
        if not isinstance(reference.features, str):
            write_array(out, REFERENCE_FEATURES_FILE, reference.features)
        write_json(out, RESULTS_FILE, record)
    device.free_memory()

    # 7. The adapter check and the table
    rows = (paper_rows([key]) if key in PAPER_TABLE1 else []) + record_rows(record)
    return dg.MaterializeResult(
        metadata={
            "table": dg.MetadataValue.md(to_markdown(rows)),
            "adapter": adapter_version or "none (no adapter passed its check)",
            "previous_adapter": previous["adapter_version"] if previous else "none",
            "images_per_arm": config.num_images,
            "reference_images": len(reference_images),
            **described,
            "paper_source": PAPER_SOURCE,
            "fid_note": next((r["details"]["fid_note"] for r in results.values() if "fid_note" in r["details"]),
                             "none"),
            "reused_arms": ", ".join(reused) or "none",
            "preview": dg.MetadataValue.md(" ".join(f"{arm}: {png_markdown(imgs[0], alt=arm, size=96)}"
                                                    for arm, imgs in images.items())),
            "path": dg.MetadataValue.path(store.uri("evaluation", key)),
            **timing_metadata(timings),
        },
        check_results=[_adapter_check(record, previous, config)],
    )


def _adapter_check(record: dict, previous: dict | None, config: EvaluationConfig) -> dg.AssetCheckResult:
    """The current adapter against the previous one, on the metrics whose numbers are comparable
    (same scorer, reference photos and estimate settings); passes, with a note, when either
    adapter is missing."""
    from cinema_dag.evaluation import ADAPTER_ARM, not_comparable, regressions

    severity = dg.AssetCheckSeverity.ERROR if config.regression_blocks else dg.AssetCheckSeverity.WARN
    current = record["arms"].get(ADAPTER_ARM)
    if current is None or previous is None:
        why = ("no usable adapter now" if current is None
               else "no earlier adapter was evaluated with these settings")
        return dg.AssetCheckResult(check_name=ADAPTER_CHECK, passed=True, severity=severity,
                                   metadata={"compared": False, "note": f"nothing to compare: {why}"})
    incomparable = not_comparable(record, previous)
    comparable = {k: v for k, v in current["cells"].items() if k not in incomparable}
    worse = regressions(comparable, previous["cells"], config.regression_margin)
    metadata = {
        "compared": True,
        "adapter": record["adapter_version"],
        "previous_adapter": previous["adapter_version"],
        "margin": config.regression_margin,
        "compared_metrics": ", ".join(comparable) or "none",
        "worse": ", ".join(worse) or "none",
        "details": dg.MetadataValue.json(worse),
        "not_comparable": dg.MetadataValue.json(incomparable),
    }
    if previous.get("n_reference") != current["n_reference"]:
        metadata["note"] = (f"the reference set changed from {previous.get('n_reference')} to "
                            f"{current['n_reference']} photos since the previous adapter was evaluated")
    return dg.AssetCheckResult(check_name=ADAPTER_CHECK, passed=not worse, severity=severity, metadata=metadata)


@dg.asset(deps=["evaluation"], group_name=GROUP_EVALUATION, owners=OWNERS[GROUP_EVALUATION], code_version="1",
          kinds={"parquet"})
def evaluation_summary(context: dg.AssetExecutionContext, store: ArtefactStore) -> dg.MaterializeResult:
    """The paper's table shape over every type: its published rows, our three arms, the change since
    the previous adapter; as Markdown here and as ``table.csv`` / ``table.parquet``."""
    from cinema_dag.artefacts import RESULTS_FILE, TABLE_CSV, TABLE_MARKDOWN, TABLE_PARQUET, read_json
    from cinema_dag.atomic import atomic_write_text
    from cinema_dag.evaluation import (
        PAPER_SOURCE,
        missing_rows,
        paper_rows,
        record_rows,
        to_markdown,
        write_csv,
        write_parquet,
    )

    rows, evaluated = [], []
    for key in DISASTER_KEYS:
        rows += paper_rows([key])
        if store.is_complete("evaluation", key):
            rows += record_rows(read_json(store.require("evaluation", key), RESULTS_FILE))
            evaluated.append(key)
        else:
            rows += missing_rows(key)
    markdown = to_markdown(rows)
    with store.stage("evaluation_summary", ALL, {"types_evaluated": evaluated}) as out:
        write_csv(rows, out / TABLE_CSV)
        write_parquet(rows, out / TABLE_PARQUET)
        atomic_write_text(out / TABLE_MARKDOWN, markdown + "\n")
    if not evaluated:
        context.log.warning("no disaster type has an evaluation yet: the table shows the paper's rows only")
    return dg.MaterializeResult(metadata={
        "table": dg.MetadataValue.md(markdown),
        "types_evaluated": ", ".join(evaluated) or "none",
        "rows": len(rows),
        "paper_source": PAPER_SOURCE,
        "csv": dg.MetadataValue.path(store.uri("evaluation_summary", ALL, TABLE_CSV)),
        "parquet": dg.MetadataValue.path(store.uri("evaluation_summary", ALL, TABLE_PARQUET)),
    })
