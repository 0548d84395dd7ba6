"""motion_masks: the regions that will move (LangSAM method: GroundingDINO boxes → SAM masks)."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GPU_OP_TAGS, GPU_POOL, GROUP_GENERATION, OWNERS, timed, timing_metadata
from cinema_dag.defaults import DEFAULT_BOX_THRESHOLD, DEFAULT_TEXT_THRESHOLD
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


class MaskConfig(dg.Config):
    box_threshold: float = Field(default=DEFAULT_BOX_THRESHOLD, description="GroundingDINO box score threshold.")
    text_threshold: float = Field(default=DEFAULT_TEXT_THRESHOLD, description="GroundingDINO text score threshold.")
    prompts: list[str] = Field(default_factory=list,
                               description="Phrases for what moves; empty = the disaster type's defaults.")


@dg.asset(
    partitions_def=disaster_types,
    deps=["disaster_images"],
    group_name=GROUP_GENERATION, owners=OWNERS[GROUP_GENERATION], code_version="1",
    kinds={"pytorch", "transformers"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def motion_masks(context: dg.AssetExecutionContext, config: MaskConfig, store: ArtefactStore,
                 models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """Boolean masks of water, fire, smoke, snow … per image; an image where nothing is found gets an
    empty mask recorded as such (the cinemagraph then moves only the camera)."""
    from cinema_dag.artefacts import MASKS_FILE, USER_MASK, read_images, read_mask, write_json, write_masks
    from cinema_dag.disasters import get_disaster
    from cinema_dag.previews import overlay_mask, png_markdown
    from cinema_dag.vision.segment import segment_motion

    key = context.partition_key
    images = read_images(store.require("disaster_images", key))
    phrases = list(config.prompts) or list(get_disaster(key).motion_prompts)
    timings: dict[str, float] = {}
    with timed(context, "load models", timings):
        grounding = models.load("grounding", device.torch_device(), device.torch_dtype())
        segmenter = models.load("segmenter", device.torch_device(), device.torch_dtype())
    with timed(context, "segment", timings, f"{len(images)} images"):
        results = segment_motion(grounding, segmenter, images, phrases,
                                 box_threshold=config.box_threshold, text_threshold=config.text_threshold)
    # A user's mask (labelme or mask file beside a folder photo, see disaster_images) overrides LangSAM.
    image_folder = store.require("disaster_images", key)
    user_masks = [read_mask(image_folder, i, USER_MASK) for i in range(len(results))]
    masks = [r.mask if user is None else user for r, user in zip(results, user_masks)]
    overridden = [i for i, user in enumerate(user_masks) if user is not None]
    records = [{"index": i, **r.to_dict(), "user_mask": i in overridden} for i, r in enumerate(results)]
    empty = [i for i, r in enumerate(results) if r.empty and i not in overridden]
    for i in empty:
        context.log.warning(f"image {i}: no region above the thresholds for {phrases}: empty mask")
    with store.stage("motion_masks", key, {"prompts": phrases}) as out:
        write_masks(out, masks)
        write_json(out, MASKS_FILE, {"prompts": phrases, "box_threshold": config.box_threshold,
                                       "text_threshold": config.text_threshold, "masks": records})
    device.free_memory()
    coverage = [r.coverage for r in results]
    return dg.MaterializeResult(metadata={
        "num_masks": len(results),
        "empty_masks": len(empty),
        "mean_coverage": sum(coverage) / max(len(coverage), 1),
        "prompts": ", ".join(phrases),
        "model_ids": f"{models.model_id('grounding')} + {models.model_id('segmenter')}",
        "preview": dg.MetadataValue.md(png_markdown(
            [overlay_mask(img, m) for img, m in zip(images, masks)])),
        "user_masks": len(overridden),
        "path": dg.MetadataValue.path(store.uri("motion_masks", key)),
        **timing_metadata(timings),
    })
