"""cinemagraphs: the looping videos — 3D symmetric animation of each LDI along camera paths."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GPU_OP_TAGS, GPU_POOL, GROUP_ANIMATION, OWNERS, timed, timing_metadata
from cinema_dag.defaults import (
    DEFAULT_CRF,
    DEFAULT_CROSSFADE,
    DEFAULT_FPS,
    DEFAULT_KERNEL,
    DEFAULT_MAX_FLICKER,
    DEFAULT_MAX_SEAM_ERROR,
    DEFAULT_MAX_SHARPNESS_JUMP,
    DEFAULT_MAX_UNFILLED_FRACTION,
    DEFAULT_MAX_WRAP_STEP_RATIO,
    DEFAULT_MIN_SHARPNESS,
    DEFAULT_NUM_FRAMES,
)
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, TorchDevice

AUTO = "auto"

# Quality checks of every video (cinema_dag.cinemagraph.quality.check_loop): check name ->
# (verdict key, blocking, description). Seam, holes and flicker are defects one sees at once and
# block; sharpness is a matter of degree and warns.
QUALITY_CHECKS: dict[str, tuple[str, bool, str]] = {
    "loop_seam": ("seam", True, "Frame N reproduces frame 0 exactly, and the wrap step is like any other step."),
    "no_unfilled_pixels": ("holes", True, "No pixel is left unfilled after the hole filler."),
    "no_flicker_outside_motion": (
        "flicker", True, "With a still camera, nothing outside the moving region changes."),
    "sharpness_stable": (
        "sharpness", False, "The moving region keeps the photo's detail (min S(t)) without pulses (largest jump)."),
}


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
    fill_holes: bool = Field(
        default=True,
        description="Fill pixels no point reaches. Off only to debug: they stay black and fail no_unfilled_pixels.")
    max_seam_error: float = Field(
        default=DEFAULT_MAX_SEAM_ERROR, ge=0, description="loop_seam: largest mean |frame N - frame 0| (grey levels).")
    max_wrap_step_ratio: float = Field(
        default=DEFAULT_MAX_WRAP_STEP_RATIO, gt=0, description="loop_seam: largest wrap step over the median step.")
    max_unfilled_fraction: float = Field(
        default=DEFAULT_MAX_UNFILLED_FRACTION, ge=0, le=1,
        description="no_unfilled_pixels: largest fraction of a frame left unfilled after the hole filler.")
    max_flicker: float = Field(
        default=DEFAULT_MAX_FLICKER, ge=0,
        description="no_flicker_outside_motion: largest change (grey levels) outside the moving region, still camera.")
    min_sharpness: float = Field(
        default=DEFAULT_MIN_SHARPNESS, ge=0,
        description="sharpness_stable (warns): smallest S(t) of the moving region.")
    max_sharpness_jump: float = Field(
        default=DEFAULT_MAX_SHARPNESS_JUMP, ge=0, description="sharpness_stable (warns): largest |S(t) - S(t-1)|.")


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
    check_specs=[dg.AssetCheckSpec(name, asset="cinemagraphs", blocking=blocking, description=description)
                 for name, (_, blocking, description) in QUALITY_CHECKS.items()],
)
def cinemagraphs(context: dg.AssetExecutionContext, config: CinemagraphConfig, store: ArtefactStore,
                 device: TorchDevice) -> dg.MaterializeResult:
    """A cinemagraph library per disaster type: ``<image>_<camera>_s<seed>.mp4`` (H.264, yuv420p),
    a looping ``.gif`` and a poster ``.png`` each, and ``library.json`` listing them with each
    video's quality measures (seam, unfilled pixels, flicker, motion, sharpness S(t)), which the
    asset checks judge."""
    from cinema_dag.artefacts import FLOW, LIBRARY_FILE, cinemagraph_stem, read_arrays, read_ldi, write_json
    from cinema_dag.cinemagraph import CinemagraphRenderer, camera_path, write_gif, write_mp4, write_poster
    from cinema_dag.cinemagraph.quality import LoopThresholds, check_loop, measure_loop
    from cinema_dag.previews import gif_markdown

    key = context.partition_key
    ldi_folder = store.require("depth_ldis", key)
    flows = read_arrays(store.require("flow_fields", key), FLOW)
    kinds = [_camera_kind(c, key) for c in config.cameras]
    torch_device = device.torch_device()
    thresholds = LoopThresholds(
        max_seam_error=config.max_seam_error, max_wrap_step_ratio=config.max_wrap_step_ratio,
        max_unfilled_fraction=config.max_unfilled_fraction, max_flicker=config.max_flicker,
        min_sharpness=config.min_sharpness, max_sharpness_jump=config.max_sharpness_jump)
    timings: dict[str, float] = {}
    library, preview, verdicts = [], None, []
    with store.stage("cinemagraphs", key, {"num_frames": config.num_frames, "fps": config.fps}) as out:
        for i, flow in enumerate(flows):
            ldi = read_ldi(ldi_folder, i)
            for kind in kinds:
                for seed in config.seeds:
                    path = camera_path(kind, config.num_frames, scale=config.camera_scale, seed=seed)
                    with timed(context, "render", timings, f"image {i}, {kind}, seed {seed}"):
                        renderer = CinemagraphRenderer(ldi, flow, num_frames=config.num_frames, camera=path,
                                                       device=torch_device, seed=seed, kernel=config.kernel,
                                                       crossfade=config.crossfade, fill_holes=config.fill_holes)
                        result = renderer.render()
                    with timed(context, "measure", timings):
                        # Frame N is rendered only to prove it reproduces frame 0 (the seam).
                        frame_n = renderer.render_frame(config.num_frames)[0].cpu().numpy()
                        quality = measure_loop(result.frames, frame_n, ldi.colors[0], flow, result.stats,
                                               still_camera=path.is_still)
                        verdict = check_loop(quality, thresholds)
                    frames = _resize(result.frames, config.width)
                    name = cinemagraph_stem(i, kind, seed)
                    with timed(context, "encode", timings):
                        write_mp4(frames, out / f"{name}.mp4", fps=config.fps, crf=config.crf)
                        if config.gif:
                            write_gif(frames, out / f"{name}.gif", fps=config.fps, max_side=config.gif_max_side)
                        write_poster(frames[0], out / f"{name}.png")
                    seam = quality.wrap_step_ratio
                    library.append({"name": name, "image": i, "camera": kind, "seed": seed,
                                    "frames": len(frames), "fps": config.fps,
                                    "size": [int(frames.shape[2]), int(frames.shape[1])],
                                    "loop_seam_ratio": seam,
                                    "render_seconds": round(float(result.stats["render_s"]), 4),
                                    "hole_fraction_before_fill": result.stats["hole_fraction_mean"],
                                    "quality": quality.to_dict(),
                                    "checks": {c: verdict[v].passed for c, (v, _, _) in QUALITY_CHECKS.items()}})
                    verdicts.append((name, verdict))
                    context.log.info(f"{name}: {frames.shape[2]}x{frames.shape[1]}, seam ratio {seam:.3f}, "
                                     f"quality {quality.to_dict()}")
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
        "quality": dg.MetadataValue.md(_quality_markdown(library)),
        "library": dg.MetadataValue.json(library),
        "preview": dg.MetadataValue.md(gif_markdown(preview, fps=config.fps) if preview is not None else ""),
        "path": dg.MetadataValue.path(store.uri("cinemagraphs", key)),
        "video": dg.MetadataValue.path(store.uri("cinemagraphs", key, f"{library[0]['name']}.mp4") if library else ""),
        **timing_metadata(timings),
    }, check_results=[_check_result(name, verdicts) for name in QUALITY_CHECKS])


_QUALITY_COLUMNS = ("seam_error", "wrap_step_ratio", "unfilled_before_fill", "unfilled_after_fill", "flicker",
                    "motion_fraction", "sharpness_min", "sharpness_jump")


def _quality_markdown(library: list[dict]) -> str:
    """One row per video: its measures (n/a where not measured)."""
    head = "| video | " + " | ".join(_QUALITY_COLUMNS) + " |\n|" + "---|" * (len(_QUALITY_COLUMNS) + 1)
    rows = []
    for video in library:
        q = video["quality"]
        cells = ["n/a" if q[c] is None else (f"{q[c]:.4g}" if isinstance(q[c], float) else str(q[c]))
                 for c in _QUALITY_COLUMNS]
        rows.append(f"| {video['name']} | " + " | ".join(cells) + " |")
    return "\n".join([head, *rows])


def _check_result(check: str, verdicts: list) -> dg.AssetCheckResult:
    """One check over every video: fails if any measured video fails; metadata names them and
    gives the worst observed values next to the thresholds."""
    key, blocking, _ = QUALITY_CHECKS[check]
    measured = [(name, v[key]) for name, v in verdicts if v[key].passed is not None]
    failed = [name for name, v in measured if not v.passed]
    worst: dict[str, float] = {}
    for _, v in measured:
        for field, value in v.observed.items():
            if value is None:
                continue
            # Smaller is worse only for the sharpness minimum; every other measure is "at most".
            pick = min if field == "sharpness_min" else max
            worst[field] = pick(worst.get(field, value), value)
    expected = verdicts[0][1][key].expected if verdicts else {}
    metadata = {
        "videos_measured": len(measured),
        "videos_failed": ", ".join(failed) or "none",
        **{f"worst_{k}": _number(v) for k, v in worst.items()},
        **{k: _number(v) for k, v in expected.items()},
    }
    if len(measured) < len(verdicts):
        metadata["not_measured"] = f"{len(verdicts) - len(measured)} videos (e.g. moving camera for flicker)"
    return dg.AssetCheckResult(
        check_name=check, passed=not failed, metadata=metadata,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN)


def _number(value: float) -> float | str:
    """A float for metadata; ``inf``/``nan`` (e.g. a still loop whose wrap changes) as text."""
    import math

    return float(value) if math.isfinite(value) else str(value)


def _resize(frames, width: int | None):
    """Frames scaled to ``width`` (Lanczos), height following the aspect ratio; unchanged for None."""
    import numpy as np
    from PIL import Image

    if width is None or width == frames.shape[2]:
        return frames
    height = max(2, round(frames.shape[1] * width / frames.shape[2]))
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.LANCZOS))
                     for f in frames])
