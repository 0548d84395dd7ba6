"""Measures of a rendered loop: sharpness stability, stutter, seam, holes, flicker, motion.

These are the numbers that tell whether the moving texture stays as sharp as the photo in every
frame and moves smoothly (no whole-pixel jumps), whether the loop closes exactly, whether any pixel
was left unfilled, and whether anything outside the moving region flickers. They are used by the
renderer's tests, the render and evaluation benchmarks and the cinemagraph asset checks
(:func:`measure_loop` gathers them all, :func:`check_loop` compares them with
:class:`LoopThresholds`). Pure numpy/OpenCV, no Dagster; torch only inside
:func:`render_still_pass`, which runs the renderer.

Convention: frames are ``uint8 (N, H, W, 3)`` RGB, the source picture ``uint8 (H, W, 3)`` and the
motion mask ``bool (H, W)`` in the source's pixel grid (exact with a still camera; with a moving
camera the region drifts by the camera's parallax, so the measure is approximate there).

Flicker is only defined with a still camera (a moving one changes every pixel). For a video whose
camera moves it can be measured on a short still-camera pass of the same loop
(:func:`render_still_pass`: same LDI, flow, frame count, seed, kernel, cross-fade and hole filling,
a few frames with frame N among them); without one it is ``None`` and says why, never 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from ..defaults import (
    DEFAULT_MAX_FLICKER,
    DEFAULT_MAX_SEAM_ERROR,
    DEFAULT_MAX_SHARPNESS_JUMP,
    DEFAULT_MAX_UNFILLED_FRACTION,
    DEFAULT_MAX_WRAP_STEP_RATIO,
    DEFAULT_MIN_SHARPNESS,
    DEFAULT_STILL_PASS_FRAMES,
)
from .metrics import loop_seam_ratio

__all__ = [
    "DEFAULT_ERODE_PX",
    "DEFAULT_FLICKER_MARGIN_PX",
    "laplacian_energy",
    "sharpness_series",
    "sharpness_jump",
    "region_steps",
    "stutter_ratio",
    "seam_error",
    "motion_region",
    "motion_fraction",
    "flicker_outside",
    "DEFAULT_STILL_PASS_FRAMES",
    "still_pass_times",
    "render_still_pass",
    "LoopQuality",
    "LoopThresholds",
    "LoopCheck",
    "LOOP_CHECKS",
    "DEFAULT_MAX_SEAM_ERROR",
    "DEFAULT_MAX_WRAP_STEP_RATIO",
    "DEFAULT_MAX_UNFILLED_FRACTION",
    "DEFAULT_MAX_FLICKER",
    "DEFAULT_MIN_SHARPNESS",
    "DEFAULT_MAX_SHARPNESS_JUMP",
    "measure_loop",
    "measure_render",
    "check_loop",
]

DEFAULT_ERODE_PX = 7
"""The motion mask is eroded by this many pixels before measuring: the mask's own edge (where the
moving texture meets the still one, and crack filling acts) is not the texture's detail."""


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"an RGB image (H, W, 3) is expected; got shape {image.shape}")
    return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _eroded(mask: np.ndarray, erode_px: int) -> np.ndarray:
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"`mask` must be (H, W); got shape {mask.shape}")
    if erode_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1, 2 * erode_px + 1))
        mask = cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    if not mask.any():
        raise ValueError(f"the motion mask is empty after eroding it by {erode_px} px: nothing to measure")
    return mask


def laplacian_energy(image: np.ndarray, region: np.ndarray) -> float:
    """Mean absolute Laplacian (3x3, 4-neighbour) of an RGB image's grey levels over ``region``.

    Args:
        image: ``uint8 (H, W, 3)``.
        region: ``bool (H, W)``, not empty.

    Example:
        >>> flat = np.full((8, 8, 3), 100, np.uint8)
        >>> laplacian_energy(flat, np.ones((8, 8), bool))
        0.0
    """
    lap = cv2.Laplacian(_grey(image), cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    region = np.asarray(region, bool)
    if region.shape != lap.shape:
        raise ValueError(f"`region` is {region.shape} but the image is {lap.shape}")
    if not region.any():
        raise ValueError("`region` is empty")
    # A masked mean in OpenCV: no copy of the region's values (S(t) measures every frame).
    return float(cv2.mean(np.abs(lap), mask=np.ascontiguousarray(region).view(np.uint8))[0])


def sharpness_series(frames: np.ndarray, source: np.ndarray, mask: np.ndarray,
                     erode_px: int = DEFAULT_ERODE_PX) -> np.ndarray:
    """S(t): the moving region's detail in frame ``t`` relative to the source picture.

    ``S(t) = mean |Laplacian(grey(frame_t))| / mean |Laplacian(grey(source))|``, both over the
    motion mask eroded by ``erode_px``. 1 means as sharp as the photo; bilinear re-sampling of the
    texture shows as values well below 1, a double image (two displaced copies averaged) too.

    Args:
        frames: ``uint8 (N, H, W, 3)``.
        source: ``uint8 (H, W, 3)``, the picture the loop was made from.
        mask: ``bool (H, W)``, the motion mask.
        erode_px: erosion of the mask before measuring (default :data:`DEFAULT_ERODE_PX`).

    Returns:
        ``float64 (N,)``.

    Raises:
        ValueError: for mismatched shapes, an empty (eroded) mask, or a source without detail
            in the region (a flat region has nothing to lose).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"`frames` must be (N, H, W, 3); got shape {frames.shape}")
    if frames.shape[1:] != np.asarray(source).shape:
        raise ValueError(f"frames are {frames.shape[1:3]} but the source is {np.asarray(source).shape[:2]}")
    region = _eroded(mask, erode_px)
    # Only the region's bounding box, grown by the Laplacian's 1-px reach, is filtered: the same
    # numbers (every region pixel keeps its real neighbours; only the box's own edge, outside the
    # region, is reflected) for a fraction of the work when the moving region is part of the frame.
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    box = (slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2))
    region = region[box]
    reference = laplacian_energy(np.asarray(source)[box], region)
    if reference <= 0.0:
        raise ValueError("the source has no detail (zero Laplacian) inside the motion mask: sharpness is undefined")
    return np.array([laplacian_energy(frame[box], region) / reference for frame in frames], np.float64)


def sharpness_jump(series: np.ndarray) -> float:
    """Largest ``|S(t) - S(t-1)|`` around the loop, the wrap from the last frame to frame 0 included.

    Example:
        >>> sharpness_jump(np.array([1.0, 0.98, 0.97, 0.99]))  # the wrap 0.99 -> 1.0 counts too
        0.02
    """
    series = np.asarray(series, np.float64)
    if series.ndim != 1 or len(series) < 2:
        raise ValueError(f"need a series of at least 2 values; got shape {series.shape}")
    return round(float(np.abs(series - np.roll(series, 1)).max()), 12)


def region_steps(frames: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute difference between each frame and the next, over ``mask`` (all pixels if None),
    wrapping around: entry ``i`` compares frame ``i`` with frame ``(i + 1) % N``.

    Returns:
        ``float64 (N,)``, in grey levels (0..255).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 2:
        raise ValueError(f"`frames` must be (N >= 2, H, W, 3); got shape {frames.shape}")
    region = np.ones(frames.shape[1:3], bool) if mask is None else np.asarray(mask, bool)
    if region.shape != frames.shape[1:3] or not region.any():
        raise ValueError(f"`mask` must be a non-empty (H, W) = {frames.shape[1:3]} array; got {region.shape}")
    pixels = frames[:, region].astype(np.int16)  # N x P x 3
    return np.abs(pixels - np.roll(pixels, -1, axis=0)).mean(axis=(1, 2)).astype(np.float64)


def stutter_ratio(frames: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Largest frame-to-frame step over the median step (wrap included), inside ``mask``.

    A smooth drift scores close to 1; a slow flow that moves in whole-pixel jumps (nothing, nothing,
    a jump) scores far above 1. A still region (median step 0) scores 1.0 if nothing moves at all
    and ``inf`` otherwise.
    """
    steps = region_steps(frames, mask)
    typical = float(np.median(steps))
    largest = float(steps.max())
    if typical == 0.0:
        return 1.0 if largest == 0.0 else float("inf")
    return largest / typical


# ---------------------------------------------------------------------------------- whole loop

DEFAULT_FLICKER_MARGIN_PX = 2
"""The moving region for the flicker measure is the velocity field's support grown by this many
pixels: moving points are splatted to the nearest pixel and resampled at sub-pixel positions, so
they reach one pixel past the last non-zero velocity (measured on the renderer: 0 flicker outside
a 1-px margin, some inside it)."""


def seam_error(frame_n: np.ndarray, frame_0: np.ndarray) -> float:
    """Mean absolute difference between frame ``N`` and frame 0 over every pixel and RGB channel
    (0..255 per channel; no conversion to grey, so a change in one channel alone counts too).

    A loop whose frame ``N`` reproduces frame 0 scores exactly 0; any changed value makes it > 0
    (one channel of one pixel changed by ``d`` scores ``d / (3 H W)``).

    Example:
        >>> a = np.zeros((4, 4, 3), np.uint8); b = a.copy(); b[0, 0, 0] = 48
        >>> seam_error(a, a), seam_error(b, a)
        (0.0, 1.0)
    """
    frame_n, frame_0 = np.asarray(frame_n), np.asarray(frame_0)
    if frame_n.shape != frame_0.shape or frame_n.ndim != 3 or frame_n.shape[-1] != 3:
        raise ValueError(f"frames must be two (H, W, 3) arrays of one shape; got {frame_n.shape} and {frame_0.shape}")
    return float(cv2.absdiff(np.ascontiguousarray(frame_n, np.uint8), np.ascontiguousarray(frame_0, np.uint8)).mean())


def motion_region(flow: np.ndarray, margin_px: int = DEFAULT_FLICKER_MARGIN_PX) -> np.ndarray:
    """Pixels that may change with a still camera: non-zero velocity, grown by ``margin_px``.

    Args:
        flow: ``(H, W, 2)`` velocity in px/frame.
        margin_px: dilation (default :data:`DEFAULT_FLICKER_MARGIN_PX`).

    Returns:
        ``bool (H, W)``.
    """
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f"`flow` must be (H, W, 2); got shape {flow.shape}")
    if margin_px < 0:
        raise ValueError(f"`margin_px` must be >= 0; got {margin_px}")
    moving = (flow != 0).any(-1)
    if margin_px == 0 or not moving.any():
        return moving
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin_px + 1, 2 * margin_px + 1))
    return cv2.dilate(moving.astype(np.uint8), kernel).astype(bool)


def motion_fraction(flow: np.ndarray) -> float:
    """Fraction of the frame whose velocity is non-zero (what moves in the picture), in [0, 1]."""
    return float(motion_region(flow, 0).mean())


def flicker_outside(frames: np.ndarray, region: np.ndarray) -> float:
    """Largest change (grey levels) of any pixel outside ``region`` from frame 0, over the loop.

    With a still camera nothing outside the moving region may change: the answer must be 0.

    Args:
        frames: ``uint8 (N, H, W, 3)``.
        region: ``bool (H, W)``, the pixels allowed to change (:func:`motion_region`).

    Returns:
        ``max |frame_t - frame_0|`` over ``t``, channels and pixels outside ``region``; 0.0 when
        nothing there changes (or ``region`` covers the frame).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"`frames` must be uint8 (N, H, W, 3); got shape {frames.shape}, dtype {frames.dtype}")
    region = np.asarray(region, bool)
    if region.shape != frames.shape[1:3]:
        raise ValueError(f"`region` is {region.shape} but the frames are {frames.shape[1:3]}")
    if region.all():
        return 0.0
    # Per frame: OpenCV's SIMD absolute difference, then the largest value under the outside mask
    # (channels side by side, the mask repeated for each): ~1 ms a 512² frame, against ~8 ms for
    # a vectorised numpy comparison over the whole video.
    height, width = region.shape
    outside = np.repeat((~region).astype(np.uint8), 3, axis=1)  # H x 3W
    first = np.ascontiguousarray(frames[0])
    worst = 0.0
    for frame in frames[1:]:
        diff = cv2.absdiff(np.ascontiguousarray(frame), first).reshape(height, 3 * width)
        worst = max(worst, cv2.minMaxLoc(diff, mask=outside)[1])
    return float(worst)


def still_pass_times(num_frames: int, count: int = DEFAULT_STILL_PASS_FRAMES) -> list[int]:
    """Frame numbers of the still-camera pass: 0 first, ``num_frames`` (N) last, the rest evenly
    spread between (the cross-fade and the hole filler act at different times of the loop),
    ascending (the renderer steps its forward copy only forwards); ``benchmarks/evaluation.py``
    times the pass.

    Example:
        >>> still_pass_times(60), still_pass_times(3, 5), still_pass_times(60, 2)
        ([0, 15, 30, 45, 60], [0, 1, 2, 3], [0, 60])
    """
    if num_frames < 1:
        raise ValueError(f"`num_frames` must be >= 1; got {num_frames}")
    if count < 2:
        raise ValueError(f"`count` must be >= 2 (frame 0 and frame N); got {count}")
    return sorted({round(i * num_frames / (count - 1)) for i in range(count)})


def render_still_pass(renderer: Any, count: int = DEFAULT_STILL_PASS_FRAMES) -> np.ndarray:
    """The frames :func:`still_pass_times` of a video's loop rendered with the camera standing still.

    A video whose camera moves cannot show flicker (every pixel may change); the same loop with the
    camera still can, and only through the renderer (moving colours leaking out of the moving
    region, the hole filler, the cross-fade). The pass comes from the video's own renderer
    (:meth:`~cinema_dag.cinemagraph.animate.CinemagraphRenderer.with_camera`): the same points,
    textures, trajectories and cross-fade pattern, so it costs a few frames, not a second set-up.
    The result goes to :func:`measure_loop` as ``still_frames``.

    Args:
        renderer: the video's :class:`~cinema_dag.cinemagraph.animate.CinemagraphRenderer` (its
            camera moves: a renderer made for a still camera is its own still pass).
        count: frames to render (default :data:`DEFAULT_STILL_PASS_FRAMES`).

    Returns:
        ``uint8 (K, H, W, 3)``, frame 0 first and frame N last.
    """
    if renderer.path.is_still:
        raise ValueError("the video's camera is still: measure its flicker on the video itself")
    still = renderer.with_camera("none")
    return np.stack([still.render_frame(t)[0].cpu().numpy() for t in still_pass_times(renderer.num_frames, count)])


@dataclass
class LoopQuality:
    """The measures of one rendered loop (see :func:`measure_loop`); ``None`` = not measured, with
    the reason in ``notes``.

    Attributes:
        seam_error: mean |frame N - frame 0| in grey levels; must be exactly 0.
        wrap_step_ratio: the step from the last frame to frame 0 over the median step
            (:func:`~cinema_dag.cinemagraph.metrics.loop_seam_ratio`); about 1 for a good loop.
        unfilled_before_fill: mean fraction of pixels no point reached, before the hole filler.
        unfilled_before_fill_max: the largest such fraction of any frame (a moving camera opens
            its largest disocclusions at the path's extremes: the mean hides them).
        unfilled_after_fill: largest fraction of pixels left unfilled after it, over the frames;
            must be 0.
        flicker: :func:`flicker_outside` the moving region with a still camera; must be 0.
        flicker_from: what the flicker was measured on: ``"video"`` (a still camera) or
            ``"still pass (K frames)"`` (:func:`render_still_pass`, for a moving camera).
        motion_fraction: :func:`motion_fraction` of the velocity field.
        sharpness_min: the smallest S(t) (:func:`sharpness_series`).
        sharpness_jump: the largest |S(t) - S(t-1)|, the wrap included (:func:`sharpness_jump`).
        notes: why a measure is ``None``.
    """

    seam_error: float
    wrap_step_ratio: float
    unfilled_before_fill: float
    unfilled_before_fill_max: float | None
    unfilled_after_fill: float | None
    flicker: float | None
    flicker_from: str | None
    motion_fraction: float
    sharpness_min: float | None
    sharpness_jump: float | None
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``inf`` ratios as the string ``"inf"``), 6 decimals."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float):
                value = round(value, 6) if math.isfinite(value) else str(value)
            out[key] = value
        return out


@dataclass(frozen=True)
class LoopThresholds:
    """Limits of :func:`check_loop`; the defaults are the ones asset config refers to.

    Attributes:
        max_seam_error: frame N must reproduce frame 0 (0 = bit-identical).
        max_wrap_step_ratio: the wrap may be at most this many times the median step (the camera's
            speed profile and the blend make steps vary: 0.4-1.6 measured on good 12- to 60-frame
            loops, the larger on short loops with a still camera; a jump back is several times).
        max_unfilled_fraction: pixels left unfilled after the hole filler (0 = none).
        max_flicker: change outside the moving region with a still camera (0 = none), grey levels.
        min_sharpness: the moving region's S(t) should stay above this (a third of the detail
            lost in some frames shows as a blur pulse).
        max_sharpness_jump: the largest frame-to-frame change of S(t) (a jump shows as a pulse).
    """

    max_seam_error: float = DEFAULT_MAX_SEAM_ERROR
    max_wrap_step_ratio: float = DEFAULT_MAX_WRAP_STEP_RATIO
    max_unfilled_fraction: float = DEFAULT_MAX_UNFILLED_FRACTION
    max_flicker: float = DEFAULT_MAX_FLICKER
    min_sharpness: float = DEFAULT_MIN_SHARPNESS
    max_sharpness_jump: float = DEFAULT_MAX_SHARPNESS_JUMP


@dataclass(frozen=True)
class LoopCheck:
    """One check's verdict on one loop: ``passed`` is ``None`` when the measure was not taken."""

    name: str
    passed: bool | None
    observed: dict[str, Any]
    expected: dict[str, Any]


#: The verdicts :func:`check_loop` gives (whether a failure blocks is the caller's policy; the
#: cinemagraph asset blocks on seam, holes and flicker and warns on sharpness).
LOOP_CHECKS: tuple[str, ...] = ("seam", "holes", "flicker", "sharpness")


def measure_loop(
    frames: np.ndarray,
    frame_n: np.ndarray,
    source: np.ndarray,
    flow: np.ndarray,
    stats: dict[str, Any],
    *,
    still_camera: bool,
    still_frames: np.ndarray | None = None,
    erode_px: int = DEFAULT_ERODE_PX,
    flicker_margin_px: int = DEFAULT_FLICKER_MARGIN_PX,
) -> LoopQuality:
    """Every measure of one rendered loop.

    Args:
        frames: ``uint8 (N, H, W, 3)``, frames ``0 .. N-1`` as rendered (before any resize).
        frame_n: ``uint8 (H, W, 3)``, frame ``N`` rendered separately
            (``CinemagraphRenderer.render_frame(N)``).
        source: ``uint8 (H, W, 3)``, the picture the loop was made from.
        flow: ``(H, W, 2)`` velocity field of the loop.
        stats: the render's ``RenderResult.stats`` (``hole_fraction_mean``, ``hole_fraction_max``,
            and ``unfilled_fraction_after_fill_max`` where the renderer reports it).
        still_camera: whether the camera stood still (then flicker is measured on ``frames``).
        still_frames: for a moving camera, ``uint8 (K, H, W, 3)`` frames of the same loop with a
            still camera, frame 0 first (:func:`render_still_pass`): flicker is measured on them.
            Without them a moving camera's flicker is ``None``, with the reason in ``notes``.
        erode_px: mask erosion for S(t).
        flicker_margin_px: see :func:`motion_region`.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 3:
        raise ValueError(f"`frames` must be (N >= 3, H, W, 3); got shape {frames.shape}")
    notes: dict[str, str] = {}
    moving = motion_region(flow, 0)
    if moving.shape != frames.shape[1:3]:
        raise ValueError(f"`flow` is {moving.shape} but the frames are {frames.shape[1:3]}")
    flicker, flicker_from = None, None
    if still_camera:
        flicker, flicker_from = flicker_outside(frames, motion_region(flow, flicker_margin_px)), "video"
    elif still_frames is not None:
        still_frames = np.asarray(still_frames)
        if still_frames.ndim != 4 or still_frames.shape[1:] != frames.shape[1:] or len(still_frames) < 2:
            raise ValueError(f"`still_frames` must be (K >= 2, H, W, 3) like the frames {frames.shape[1:]}; "
                             f"got {still_frames.shape}")
        flicker = flicker_outside(still_frames, motion_region(flow, flicker_margin_px))
        flicker_from = f"still pass ({len(still_frames)} frames)"
    else:
        notes["flicker"] = ("not measured: the camera moves (every pixel may change) and no still-camera pass "
                            "of the loop was given")
    sharp_min = sharp_jump = None
    try:
        series = sharpness_series(frames, source, moving, erode_px)
        sharp_min, sharp_jump = float(series.min()), sharpness_jump(series)
    except ValueError as err:  # an empty (eroded) mask or a flat source: nothing to measure
        notes["sharpness"] = str(err)
    after = stats.get("unfilled_fraction_after_fill_max")
    if after is None:
        notes["unfilled_after_fill"] = "the renderer did not report unfilled pixels after filling"
    before_max = stats.get("hole_fraction_max")
    if before_max is None:
        notes["unfilled_before_fill_max"] = "the renderer did not report its largest hole fraction"
    return LoopQuality(
        seam_error=seam_error(frame_n, frames[0]),
        wrap_step_ratio=float(loop_seam_ratio(frames)),
        unfilled_before_fill=float(stats.get("hole_fraction_mean", 0.0)),
        unfilled_before_fill_max=None if before_max is None else float(before_max),
        unfilled_after_fill=None if after is None else float(after),
        flicker=flicker,
        flicker_from=flicker_from,
        motion_fraction=float(moving.mean()),
        sharpness_min=sharp_min,
        sharpness_jump=sharp_jump,
        notes=notes,
    )


def measure_render(renderer: Any, frames: np.ndarray, stats: dict[str, Any], source: np.ndarray, flow: np.ndarray,
                   still_pass_frames: int | None = DEFAULT_STILL_PASS_FRAMES) -> LoopQuality:
    """:func:`measure_loop` of the loop a renderer just rendered: frame N rendered once more (the
    seam) and, when its camera moves, a still-camera pass (:func:`render_still_pass`) for flicker.

    Args:
        renderer: the :class:`~cinema_dag.cinemagraph.animate.CinemagraphRenderer` that rendered it.
        frames, stats: its ``RenderResult`` (frames ``0 .. N-1`` and statistics).
        source, flow: the picture and the velocity field the loop was made from.
        still_pass_frames: frames of the still pass; ``None`` or 0: no pass (a moving camera's
            flicker is then ``None``, with the reason in ``notes``).
    """
    # Frame N is rendered only to prove that it reproduces frame 0 (the seam).
    frame_n = renderer.render_frame(renderer.num_frames)[0].cpu().numpy()
    still_camera = renderer.path.is_still
    still = render_still_pass(renderer, still_pass_frames) if still_pass_frames and not still_camera else None
    return measure_loop(frames, frame_n, source, flow, stats, still_camera=still_camera, still_frames=still)


def check_loop(quality: LoopQuality, thresholds: LoopThresholds = LoopThresholds()) -> dict[str, LoopCheck]:
    """The verdicts of the :data:`LOOP_CHECKS` on one loop.

    * ``seam``: ``seam_error <= max_seam_error`` and ``wrap_step_ratio <= max_wrap_step_ratio``;
    * ``holes``: ``unfilled_after_fill <= max_unfilled_fraction``;
    * ``flicker``: ``flicker <= max_flicker`` (``None`` when not measured: a moving camera
      without a still-camera pass);
    * ``sharpness``: ``sharpness_min >= min_sharpness`` and ``sharpness_jump <= max_sharpness_jump``.
    """
    q, t = quality, thresholds
    checks = {
        "seam": LoopCheck(
            "seam", q.seam_error <= t.max_seam_error and q.wrap_step_ratio <= t.max_wrap_step_ratio,
            {"seam_error": q.seam_error, "wrap_step_ratio": q.wrap_step_ratio},
            {"max_seam_error": t.max_seam_error, "max_wrap_step_ratio": t.max_wrap_step_ratio}),
        "holes": LoopCheck(
            "holes", None if q.unfilled_after_fill is None else q.unfilled_after_fill <= t.max_unfilled_fraction,
            {"unfilled_after_fill": q.unfilled_after_fill, "unfilled_before_fill": q.unfilled_before_fill,
             "unfilled_before_fill_max": q.unfilled_before_fill_max},
            {"max_unfilled_fraction": t.max_unfilled_fraction}),
        "flicker": LoopCheck(
            "flicker", None if q.flicker is None else q.flicker <= t.max_flicker,
            {"flicker": q.flicker}, {"max_flicker": t.max_flicker}),
        "sharpness": LoopCheck(
            "sharpness", None if q.sharpness_min is None or q.sharpness_jump is None else (
                q.sharpness_min >= t.min_sharpness and q.sharpness_jump <= t.max_sharpness_jump),
            {"sharpness_min": q.sharpness_min, "sharpness_jump": q.sharpness_jump},
            {"min_sharpness": t.min_sharpness, "max_sharpness_jump": t.max_sharpness_jump}),
    }
    return checks
