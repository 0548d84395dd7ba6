"""depth_ldis: layered depth images (layers cut at depth edges, hidden content inpainted) + point clouds."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GROUP_ANIMATION, OWNERS, timed, timing_metadata
from cinema_dag.defaults import DEFAULT_MAX_DEPTH, DEFAULT_NUM_LAYERS
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore


class LdiConfig(dg.Config):
    num_layers: int = Field(default=DEFAULT_NUM_LAYERS, ge=1, le=8,
                            description="Depth layers (fixed count, not data-dependent).")
    max_depth: float = Field(default=DEFAULT_MAX_DEPTH, gt=1.0, description="Far clip, in units of the nearest depth.")
    write_ply: bool = Field(default=True, description="Also save each point cloud as PLY (open3d).")


@dg.asset(
    partitions_def=disaster_types,
    deps=["disaster_images", "depth_maps"],
    group_name=GROUP_ANIMATION, owners=OWNERS[GROUP_ANIMATION], code_version="1",
    kinds={"numpy", "open3d"},
)
def depth_ldis(context: dg.AssetExecutionContext, config: LdiConfig, store: ArtefactStore) -> dg.MaterializeResult:
    """Layered depth images, so the camera can move through the scene in 3D: per image ``ldi_NNN.npz``
    (colours, depths, alphas, labels, focal) and the point cloud ``points_NNN.ply``."""
    import numpy as np

    from cinema_dag.artefacts import DISPARITY, POINTS, read_arrays, read_images, write_ldis
    from cinema_dag.cinemagraph import build_ldi, disparity_to_depth, save_ply
    from cinema_dag.previews import png_markdown

    key = context.partition_key
    images = read_images(store.require("disaster_images", key))
    disparities = read_arrays(store.require("depth_maps", key), DISPARITY)
    if len(images) != len(disparities):
        raise dg.Failure(f"{key}: {len(images)} images but {len(disparities)} depth maps; re-materialize depth_maps")
    timings: dict[str, float] = {}
    ldis = []
    with timed(context, "build ldis", timings, f"{len(images)} images, {config.num_layers} layers"):
        for image, disparity in zip(images, disparities):
            depth = disparity_to_depth(disparity, max_depth=config.max_depth)
            ldis.append(build_ldi(np.asarray(image), depth, num_layers=config.num_layers))
    with store.stage("depth_ldis", key, {"num_layers": config.num_layers}) as out:
        write_ldis(out, ldis)
        if config.write_ply:
            for i, ldi in enumerate(ldis):
                with timed(context, "write ply", timings):
                    save_ply(ldi.points(), POINTS.path(out, i))
    hidden = [int(ldi.alphas[1:].sum()) for ldi in ldis]
    return dg.MaterializeResult(metadata={
        "num_ldis": len(ldis),
        "num_layers": config.num_layers,
        "points": sum(ldi.num_points for ldi in ldis),
        "inpainted_points": sum(hidden),
        "preview": dg.MetadataValue.md(png_markdown([
            np.concatenate(list(ldis[0].colors), axis=1)] if ldis else [])),
        "path": dg.MetadataValue.path(store.uri("depth_ldis", key)),
        **timing_metadata(timings),
    })
