"""image_captions: BLIP captions of the kept photos, as a Hugging Face ``datasets`` dataset."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GPU_OP_TAGS, GPU_POOL, GROUP_COLLECTION, OWNERS, timed, timing_metadata
from cinema_dag.defaults import DEFAULT_CAPTION_BATCH_SIZE, DEFAULT_CAPTION_MAX_NEW_TOKENS
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


class CaptionConfig(dg.Config):
    max_new_tokens: int = Field(default=DEFAULT_CAPTION_MAX_NEW_TOKENS, ge=1, le=200,
                                description="Longest caption, in tokens.")
    prompt: str | None = Field(default=None, description="Optional BLIP text prefix, e.g. 'a photograph of'.")
    batch_size: int = Field(default=DEFAULT_CAPTION_BATCH_SIZE, ge=1, description="Images per forward pass.")


@dg.asset(
    partitions_def=disaster_types,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["scraped_images"],
    group_name=GROUP_COLLECTION, owners=OWNERS[GROUP_COLLECTION], code_version="1",
    kinds={"pytorch", "transformers"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def image_captions(context: dg.AssetExecutionContext, config: CaptionConfig, store: ArtefactStore,
                   models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """BLIP captions of the kept scraped photos, a dataset per disaster type: one row per photo
    with its image path, caption, disaster type, source page, image URL and licence."""
    from cinema_dag.artefacts import CAPTIONS_DIR, read_images_from_paths
    from cinema_dag.scraping.layout import MANIFEST_FILE
    from cinema_dag.text.corpus import CaptionRow, build_captions_dataset, save_captions_dataset
    from cinema_dag.vision.caption import caption_images
    from cinema_dag.scraping.manifest import read_manifest

    timings: dict[str, float] = {}
    captioner = None
    counts: dict[str, int] = {}
    samples: list[str] = []
    for key in context.partition_keys:
        folder = store.require("scraped_images", key)
        kept = read_manifest(folder / MANIFEST_FILE).kept
        captions: list[str] = []
        if kept:
            if captioner is None:
                with timed(context, "load model", timings):
                    captioner = models.load("captioner", device.torch_device(), device.torch_dtype())
            images = read_images_from_paths([folder / row.path for row in kept])
            with timed(context, "caption", timings, f"{len(images)} {key} images"):
                captions = caption_images(captioner, images, max_new_tokens=config.max_new_tokens,
                                          prompt=config.prompt, batch_size=config.batch_size)
        else:
            context.log.warning(f"{key}: no kept images to caption; writing an empty dataset")
        rows = [CaptionRow(image_path=str(store.uri("scraped_images", key, row.path)), caption=caption,
                           disaster_type=key, source_page=row.page_url or "", image_url=row.image_url or "",
                           licence=row.licence or "")
                for row, caption in zip(kept, captions)]
        with store.stage("image_captions", key, {"rows": len(rows)}) as out:
            save_captions_dataset(build_captions_dataset(rows), out / CAPTIONS_DIR)
        counts[key] = len(rows)
        samples.extend(f"| {key} | {r.caption[:120]} |" for r in rows[:3])
    device.free_memory()
    return dg.MaterializeResult(metadata={
        "rows": sum(counts.values()),
        "per_type": dg.MetadataValue.json(counts),
        "model_id": models.model_id("captioner"),
        "samples": dg.MetadataValue.md("| type | caption |\n|---|---|\n" + "\n".join(samples[:12])),
        **timing_metadata(timings),
    })
