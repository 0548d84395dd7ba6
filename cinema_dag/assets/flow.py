"""flow_fields: the Eulerian velocity field (px/frame) of each image, zero outside its motion mask."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GROUP_ANIMATION, OWNERS, timed, timing_metadata
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore


class FlowConfig(dg.Config):
    arrows: list[list[float]] = Field(
        default_factory=list,
        description="Hints (x0, y0, x1, y1) in pixels that replace the automatic ones, for every image.")
    speed: float | None = Field(
        default=None, gt=0,
        description="Override of the motion style's speed: px/frame for the nearest content of a 1000-px-wide "
                    "picture (scaled to the image's width).")
    seed: int = Field(default=0, description="Sideways sign and phases of the automatic hints.")


@dg.asset(
    partitions_def=disaster_types,
    deps=["motion_masks", "depth_ldis", "disaster_images"],
    group_name=GROUP_ANIMATION, owners=OWNERS[GROUP_ANIMATION], code_version="1",
    kinds={"numpy"},
)
def flow_fields(context: dg.AssetExecutionContext, config: FlowConfig, store: ArtefactStore) -> dg.MaterializeResult:
    """Eulerian motion fields, the pixel velocities the animation integrates: per image
    ``flow_NNN.npy`` (float32 H×W×2) inside the motion mask — water flows down-slope, fire and smoke rise …"""
    from cinema_dag.artefacts import FLOW, IMAGES_FILE, read_json, read_ldi, read_masks, write_arrays
    from cinema_dag.cinemagraph import motion_field
    from cinema_dag.previews import flow_to_color, png_markdown

    key = context.partition_key
    masks = read_masks(store.require("motion_masks", key))
    ldi_folder = store.require("depth_ldis", key)
    depths = [read_ldi(ldi_folder, i).depth for i in range(len(masks))]
    timings: dict[str, float] = {}
    # Hint lines of a user's labelme file (folder photos, see disaster_images) replace the automatic hints.
    image_records = read_json(store.require("disaster_images", key), IMAGES_FILE).get("images", [])
    user_arrows = {r["index"]: r["arrows"] for r in image_records if r.get("arrows")}
    with timed(context, "motion fields", timings, f"{len(masks)} images"):
        flows = [motion_field(key, mask, depth, arrows=user_arrows.get(i) or config.arrows or None, speed=config.speed,
                              seed=config.seed)
                 for i, (mask, depth) in enumerate(zip(masks, depths))]
    with store.stage("flow_fields", key, {"seed": config.seed, "user_arrows": bool(config.arrows)}) as out:
        write_arrays(out, flows, FLOW)
    speeds = [float(abs(f).max()) for f in flows]
    return dg.MaterializeResult(metadata={
        "num_fields": len(flows),
        "max_speed_px_per_frame": max(speeds, default=0.0),
        "still_images": sum(1 for s in speeds if s == 0.0),
        "hints": "user arrows" if config.arrows else "automatic (disaster type, mask, depth)",
        "images_with_labelme_hints": len(user_arrows),
        "preview": dg.MetadataValue.md(png_markdown([flow_to_color(f) for f in flows])),
        "path": dg.MetadataValue.path(store.uri("flow_fields", key)),
        **timing_metadata(timings),
    })
