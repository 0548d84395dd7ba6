"""depth_maps: DPT monocular depth (relative inverse depth), saved losslessly."""

import dagster as dg

from cinema_dag.assets._common import GPU_OP_TAGS, GPU_POOL, GROUP_GENERATION, OWNERS, timed, timing_metadata
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


@dg.asset(
    partitions_def=disaster_types,
    deps=["disaster_images"],
    group_name=GROUP_GENERATION, owners=OWNERS[GROUP_GENERATION], code_version="1",
    kinds={"pytorch", "transformers"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def depth_maps(context: dg.AssetExecutionContext, store: ArtefactStore, models: ModelRegistry,
               device: TorchDevice) -> dg.MaterializeResult:
    """Monocular depth (DPT) of each disaster image: ``disparity_NNN.npy`` (float32, larger = nearer)
    and a 16-bit PNG of the same map."""
    from cinema_dag.artefacts import DISPARITY, read_images, write_arrays, write_disparity_pngs
    from cinema_dag.previews import png_markdown
    from cinema_dag.vision.depth import colorize_depth, estimate_depth

    key = context.partition_key
    images = read_images(store.require("disaster_images", key))
    timings: dict[str, float] = {}
    with timed(context, "load model", timings):
        depth_model = models.load("depth", device.torch_device(), device.torch_dtype())
    with timed(context, "estimate", timings, f"{len(images)} images"):
        maps = estimate_depth(depth_model, images)
    with store.stage("depth_maps", key) as out:
        write_arrays(out, maps, DISPARITY)
        write_disparity_pngs(out, maps)
    device.free_memory()
    return dg.MaterializeResult(metadata={
        "num_maps": len(maps),
        "size": f"{maps[0].shape[1]}x{maps[0].shape[0]}" if maps else "",
        "model_id": models.model_id("depth"),
        "preview": dg.MetadataValue.md(png_markdown([colorize_depth(m) for m in maps])),
        "path": dg.MetadataValue.path(store.uri("depth_maps", key)),
        **timing_metadata(timings),
    })
