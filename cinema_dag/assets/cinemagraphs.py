"""cinemagraphs: the looping videos — 3D symmetric animation of each LDI along camera paths."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GPU_OP_TAGS, GPU_POOL, GROUP_ANIMATION, OWNERS, timed, timing_metadata
from cinema_dag.defaults import DEFAULT_CRF, DEFAULT_CROSSFADE, DEFAULT_FPS, DEFAULT_KERNEL, DEFAULT_NUM_FRAMES
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, TorchDevice

AUTO = "auto"


class CinemagraphConfig(dg.Config):
    cameras: list[str] = Field(
        default_factory=lambda: [AUTO],
        description="Camera paths: auto (the disaster's default; earthquake: shake), none, circle, up_down, "
                    "swing, zoom, shake. One video per image × camera × seed.")
    seeds: list[int] = Field(default_factory=lambda: [0], description="Seeds (shake phases), one video each.")
    num_frames: int = Field(default=DEFAULT_NUM_FRAMES, ge=2, le=1200, description="Frames in the loop.")
    fps: float = Field(default=float(DEFAULT_FPS), gt=0, le=240, description="Frames per second.")
    camera_scale: float = Field(default=1.0, ge=0.0, le=4.0, description="Multiplies the camera amplitudes.")
    width: int | None = Field(default=None, ge=16, description="Output width; None = the image's (height follows).")
    kernel: str = Field(
        default=DEFAULT_KERNEL,
        description="Sub-pixel resampling of moving texture: sharp (filters designed for the texture), lanczos3, "
                    "cubic (Catmull-Rom), linear (bilinear, softer).")
    crossfade: float = Field(
        default=DEFAULT_CROSSFADE, gt=0.0, le=1.0,
        description="Each pixel's cross-fade between the loop's two copies, as a fraction of the loop (staggered "
                    "per pixel; 1.0 = the classic loop-long blend, which shows a double image at mid-loop).")
    crf: int = Field(default=DEFAULT_CRF, ge=0, le=51,
                     description="H.264 quality: 0 lossless … 51 worst; the default looks lossless.")
    gif: bool = Field(default=True, description="Also write a looping GIF beside each MP4.")
    gif_max_side: int = Field(default=480, ge=32, description="Longest GIF side (GIFs get large).")


def _camera_kind(name: str, disaster: str) -> str:
    from cinema_dag.cinemagraph import CAMERA_KINDS, default_camera_kind

    kind = default_camera_kind(disaster) if name == AUTO else name
    if kind not in CAMERA_KINDS:
        raise dg.Failure(f"unknown camera path {name!r}; valid: {AUTO}, {', '.join(CAMERA_KINDS)}")
    return kind


@dg.asset(
    partitions_def=disaster_types,
    deps=["depth_ldis", "flow_fields"],
    group_name=GROUP_ANIMATION, owners=OWNERS[GROUP_ANIMATION], code_version="1",
    kinds={"pytorch", "video"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def cinemagraphs(context: dg.AssetExecutionContext, config: CinemagraphConfig, store: ArtefactStore,
                 device: TorchDevice) -> dg.MaterializeResult:
    """A cinemagraph library per disaster type: ``<image>_<camera>_s<seed>.mp4`` (H.264, yuv420p),
    a looping ``.gif`` and a poster ``.png`` each, and ``library.json`` listing them."""
    from cinema_dag.artefacts import FLOW, LIBRARY_FILE, cinemagraph_stem, read_arrays, read_ldi, write_json
    from cinema_dag.cinemagraph import (
        camera_path,
        loop_seam_ratio,
        render_cinemagraph,
        write_gif,
        write_mp4,
        write_poster,
    )
    from cinema_dag.previews import gif_markdown

    key = context.partition_key
    ldi_folder = store.require("depth_ldis", key)
    flows = read_arrays(store.require("flow_fields", key), FLOW)
    kinds = [_camera_kind(c, key) for c in config.cameras]
    torch_device = device.torch_device()
    timings: dict[str, float] = {}
    library, preview = [], None
    with store.stage("cinemagraphs", key, {"num_frames": config.num_frames, "fps": config.fps}) as out:
        for i, flow in enumerate(flows):
            ldi = read_ldi(ldi_folder, i)
            for kind in kinds:
                for seed in config.seeds:
                    path = camera_path(kind, config.num_frames, scale=config.camera_scale, seed=seed)
                    with timed(context, "render", timings, f"image {i}, {kind}, seed {seed}"):
                        result = render_cinemagraph(ldi, flow, num_frames=config.num_frames, camera=path,
                                                    device=torch_device, seed=seed, kernel=config.kernel,
                                                    crossfade=config.crossfade)
                    frames = _resize(result.frames, config.width)
                    name = cinemagraph_stem(i, kind, seed)
                    with timed(context, "encode", timings):
                        write_mp4(frames, out / f"{name}.mp4", fps=config.fps, crf=config.crf)
                        if config.gif:
                            write_gif(frames, out / f"{name}.gif", fps=config.fps, max_side=config.gif_max_side)
                        write_poster(frames[0], out / f"{name}.png")
                    seam = float(loop_seam_ratio(frames))
                    library.append({"name": name, "image": i, "camera": kind, "seed": seed,
                                    "frames": len(frames), "fps": config.fps,
                                    "size": [int(frames.shape[2]), int(frames.shape[1])],
                                    "loop_seam_ratio": seam,
                                    "render_seconds": round(float(result.stats["render_s"]), 4),
                                    "hole_fraction_before_fill": result.stats["hole_fraction_mean"]})
                    context.log.info(f"{name}: {frames.shape[2]}x{frames.shape[1]}, seam ratio {seam:.3f}")
                    if preview is None:
                        preview = frames
        write_json(out, LIBRARY_FILE, library)
    device.free_memory()
    return dg.MaterializeResult(metadata={
        "num_videos": len(library),
        "cameras": ", ".join(kinds),
        "frames": config.num_frames,
        "fps": config.fps,
        "max_loop_seam_ratio": max((v["loop_seam_ratio"] for v in library), default=0.0),
        "library": dg.MetadataValue.json(library),
        "preview": dg.MetadataValue.md(gif_markdown(preview, fps=config.fps) if preview is not None else ""),
        "path": dg.MetadataValue.path(store.uri("cinemagraphs", key)),
        "video": dg.MetadataValue.path(store.uri("cinemagraphs", key, f"{library[0]['name']}.mp4") if library else ""),
        **timing_metadata(timings),
    })


def _resize(frames, width: int | None):
    """Frames scaled to ``width`` (Lanczos), height following the aspect ratio; unchanged for None."""
    import numpy as np
    from PIL import Image

    if width is None or width == frames.shape[2]:
        return frames
    height = max(2, round(frames.shape[1] * width / frames.shape[2]))
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.LANCZOS))
                     for f in frames])
