"""cinemagraphs: the looping videos — 3D symmetric animation of each LDI along camera paths."""

from typing import Any

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import (
    GPU_OP_TAGS,
    GPU_POOL,
    GROUP_ANIMATION,
    MODEL_ID_METADATA,
    OWNERS,
    timed,
    timing_metadata,
)
from cinema_dag.defaults import (
    DEFAULT_CAMERA_SCALE,
    DEFAULT_CRF,
    DEFAULT_CROSSFADE,
    DEFAULT_FILL_HOLES,
    DEFAULT_FPS,
    DEFAULT_KERNEL,
    DEFAULT_MAX_FLICKER,
    DEFAULT_MAX_SEAM_ERROR,
    DEFAULT_MAX_SHARPNESS_JUMP,
    DEFAULT_MAX_UNFILLED_FRACTION,
    DEFAULT_MAX_WRAP_STEP_RATIO,
    DEFAULT_MIN_SHARPNESS,
    DEFAULT_NUM_FRAMES,
    DEFAULT_STILL_PASS_FRAMES,
)
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, TorchDevice

AUTO = "auto"

# Quality checks of every video (cinema_dag.cinemagraph.quality.check_loop): check name ->
# (verdict key, blocking, description). Seam, holes and flicker are defects one sees at once and
# block; sharpness is a matter of degree and warns. A check that could measure no video fails as a
# warning that says so (it neither passes silently nor blocks on a defect nobody saw).
QUALITY_CHECKS: dict[str, tuple[str, bool, str]] = {
    "loop_seam": ("seam", True, "Frame N reproduces frame 0 exactly, and the wrap step is like any other step."),
    "no_unfilled_pixels": ("holes", True, "No pixel is left unfilled after the hole filler."),
    "no_flicker_outside_motion": (
        "flicker", True, "With a still camera, nothing outside the moving region changes (a moving camera's video "
                         "is measured on a still-camera pass of the same loop)."),
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
    camera_scale: float = Field(default=DEFAULT_CAMERA_SCALE, ge=0.0, le=4.0,
                                description="Multiplies the camera amplitudes.")
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
        default=DEFAULT_FILL_HOLES,
        description="Fill pixels no point reaches. Off only to debug: they stay black and fail no_unfilled_pixels.")
    still_pass: bool = Field(
        default=True,
        description="no_flicker_outside_motion for a moving camera: render still_pass_frames frames of the same "
                    "loop with the camera still (from the video's own renderer: a few frames' time) and measure "
                    "their flicker. Off, the check says 'not measured' for those videos.")
    still_pass_frames: int = Field(
        default=DEFAULT_STILL_PASS_FRAMES, ge=2, le=1201,
        description="Frames of the still-camera pass: 0, N and evenly spread ones between.")
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
    asset checks judge, and its lineage as of the render (code version, upstream model ids, prompt
    adapter)."""
    from cinema_dag.alerts.catalogue import code_version
    from cinema_dag.artefacts import (
        FLOW,
        LIBRARY_FILE,
        CinemagraphFiles,
        cinemagraph_stem,
        read_arrays,
        read_ldi,
        write_json,
    )
    from cinema_dag.cinemagraph import CinemagraphRenderer, camera_path, write_gif, write_mp4, write_poster
    from cinema_dag.cinemagraph.quality import LoopThresholds, check_loop, measure_render
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
    # What made these videos, recorded now: the catalogue reads it from library.json later.
    lineage: dict[str, Any] = {"code_version": code_version(), "model_ids": _upstream_model_ids(context, key),
                               "adapter_version": _prompt_adapter(store, key)}
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
                        quality = measure_render(renderer, result.frames, result.stats, ldi.colors[0], flow,
                                                 config.still_pass_frames if config.still_pass else None)
                        verdict = check_loop(quality, thresholds)
                    frames = _resize(result.frames, config.width)
                    name = cinemagraph_stem(i, kind, seed)
                    files = CinemagraphFiles(out, name)
                    with timed(context, "encode", timings):
                        write_mp4(frames, files.video, fps=config.fps, crf=config.crf)
                        if config.gif:
                            write_gif(frames, files.gif, fps=config.fps, max_side=config.gif_max_side)
                        write_poster(frames[0], files.poster)
                    seam = quality.wrap_step_ratio
                    library.append({"name": name, "image": i, "camera": kind, "seed": seed,
                                    "frames": len(frames), "fps": config.fps,
                                    "size": [int(frames.shape[2]), int(frames.shape[1])],
                                    "loop_seam_ratio": seam,
                                    "render_seconds": round(float(result.stats["render_s"]), 4),
                                    "hole_fraction_before_fill": result.stats["hole_fraction_mean"],
                                    "quality": quality.to_dict(),
                                    "checks": {c: verdict[v].passed for c, (v, _, _) in QUALITY_CHECKS.items()},
                                    **lineage})
                    verdicts.append((name, verdict, quality.notes))
                    context.log.info(f"{name}: {frames.shape[2]}x{frames.shape[1]}, seam ratio {seam:.3f}, "
                                     f"quality {quality.to_dict()}")
                    if preview is None:
                        preview = frames
        write_json(out, LIBRARY_FILE, library)
    device.free_memory()
    first_video = CinemagraphFiles("", library[0]["name"]).video.name if library else None
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
        "video": dg.MetadataValue.path(store.uri("cinemagraphs", key, first_video) if first_video else ""),
        "code_version": lineage["code_version"],
        "model_ids": dg.MetadataValue.json(lineage["model_ids"]),
        **timing_metadata(timings),
    }, check_results=[_check_result(name, verdicts) for name in QUALITY_CHECKS])


def _upstream_model_ids(context: dg.AssetExecutionContext, partition: str) -> dict[str, str]:
    """The models that made this partition's inputs, from the upstream assets' latest
    materializations (what the store now holds and this render reads); ``unknown`` where one
    does not say (e.g. photos from a folder, or artefacts put in the store by hand)."""
    ids: dict[str, str] = {}
    for asset, (field, components) in MODEL_ID_METADATA.items():
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1).records
        value = records[0].asset_materialization.metadata.get(field) if records else None
        text = str(value.value) if value is not None else "unknown"
        parts = [p.strip() for p in text.split("+")] if len(components) > 1 else [text]
        for component, model in zip(components, parts + ["unknown"] * len(components), strict=False):
            ids[component] = model
    return ids


def _prompt_adapter(store: ArtefactStore, partition: str) -> str | None:
    """The ``prompt_lora`` version the partition's prompts were generated with (None: the base
    model), as ``generated_prompts`` recorded it; ``unknown`` without stored prompts (photos from a
    folder, or artefacts put in the store by hand)."""
    if not store.is_complete("generated_prompts", partition):
        return "unknown"
    return store.manifest("generated_prompts", partition)["metadata"].get("adapter")


_QUALITY_COLUMNS = ("seam_error", "wrap_step_ratio", "unfilled_before_fill", "unfilled_before_fill_max",
                    "unfilled_after_fill", "flicker", "motion_fraction", "sharpness_min", "sharpness_jump")


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


#: The note (LoopQuality.notes key) that says why a verdict's measure was not taken.
_NOTE_OF_VERDICT = {"holes": "unfilled_after_fill", "flicker": "flicker", "sharpness": "sharpness"}
#: What makes a verdict measurable where the config can.
_HOW_TO_MEASURE = {"flicker": "leave still_pass on to measure a moving camera's flicker on a still-camera pass"}


def _check_result(check: str, verdicts: list) -> dg.AssetCheckResult:
    """One check over every video: fails if any measured video fails; metadata names them and
    gives the worst observed values next to the thresholds. Videos it could not measure are named
    with the reason; when it could measure none, it fails as a warning ("not measured"), never a
    pass."""
    key, blocking, _ = QUALITY_CHECKS[check]
    measured = [(name, v[key]) for name, v, _ in verdicts if v[key].passed is not None]
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
    metadata: dict[str, Any] = {
        "videos_measured": len(measured),
        "videos_failed": ", ".join(failed) or "none",
        **{f"worst_{k}": _number(v) for k, v in worst.items()},
        **{k: _number(v) for k, v in expected.items()},
    }
    unmeasured = [f"{name} ({notes.get(_NOTE_OF_VERDICT.get(key, ''), 'no reason given')})"
                  for name, v, notes in verdicts if v[key].passed is None]
    if unmeasured:
        metadata["not_measured"] = f"{len(unmeasured)} of {len(verdicts)} videos: " + "; ".join(unmeasured)
        if key in _HOW_TO_MEASURE:
            metadata["how_to_measure"] = _HOW_TO_MEASURE[key]
    severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN
    if not measured:
        metadata["not_measured"] = metadata.get("not_measured", "no videos were rendered")
        return dg.AssetCheckResult(check_name=check, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   metadata=metadata, description="not measured: no video could be measured")
    return dg.AssetCheckResult(check_name=check, passed=not failed, metadata=metadata, severity=severity)


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
