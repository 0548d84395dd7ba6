"""Eulerian motion fields: a constant velocity (pixels per frame) inside the motion mask.

The field ``M`` is built from sparse *hints* (a position and a velocity each), densified by a
normalised Gaussian RBF and multiplied by the mask, as in Holynski et al. / 3d-cinemagraphy -- but
with a deterministic RBF width (3d-cinemagraphy draws it at random, so its runs differ). Hints come
from the user's arrows when given; otherwise from the disaster's motion kind, the mask and the
depth: water flows towards the camera and down-slope, mud slides down, fire and smoke rise and sway,
snow falls, storm waves and rain sweep sideways, heat haze and earthquake dust drift slowly.

Convention: ``field[..., 0]`` is the x (column) velocity, ``field[..., 1]`` the y (row) velocity,
in pixels per frame; y points down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..disasters import get_disaster
from ._checks import check_map, check_mask, check_same_size

__all__ = [
    "MOTION_KINDS",
    "MotionStyle",
    "MOTION_STYLES",
    "DEFAULT_HINT_SCALE",
    "resolve_motion_kind",
    "default_feather",
    "arrows_to_hints",
    "auto_hints",
    "densify_hints",
    "motion_field",
]

DEFAULT_HINT_SCALE = 50.0
"""An arrow from (x0, y0) to (x1, y1) means a velocity of (x1 - x0, y1 - y0) / 50 px per frame
(3d-cinemagraphy's convention)."""


@dataclass(frozen=True)
class MotionStyle:
    """How one motion kind moves.

    Attributes:
        speed: px/frame for the nearest content of a 1000-px-wide picture (scaled by ``max(H, W)``).
        down: weight of the straight-down (+y) direction.
        slope: weight of the towards-the-camera direction (up the disparity gradient).
        side: weight of a sideways (+-x, sign from the seed) direction.
        sway: amplitude of a sideways oscillation along y (rising smoke, fire).
        scatter: whether hint directions turn from one hint to the next (heat haze).
    """

    speed: float
    down: float = 0.0
    slope: float = 0.0
    side: float = 0.0
    sway: float = 0.0
    scatter: bool = False


MOTION_STYLES: dict[str, MotionStyle] = {
    "flow": MotionStyle(speed=1.2, down=0.5, slope=1.0),
    "slide": MotionStyle(speed=0.6, down=1.0, slope=0.5),
    "shimmer": MotionStyle(speed=0.25, scatter=True),
    "rise": MotionStyle(speed=1.0, down=-1.0, sway=0.35),
    "fall": MotionStyle(speed=1.5, down=1.0, side=0.2),
    "storm": MotionStyle(speed=1.5, down=0.3, side=1.0),
    "shake": MotionStyle(speed=0.3, down=-0.5, side=0.5),
}
MOTION_KINDS: tuple[str, ...] = tuple(MOTION_STYLES)


def default_feather(height: int, width: int) -> int:
    """Default width of the speed ramp at mask edges: 2% of ``max(H, W)``, at least 2 px."""
    return max(2, round(0.02 * max(height, width)))


def resolve_motion_kind(disaster_or_kind: str) -> str:
    """A motion kind from a kind name (``"flow"``) or a disaster key/name (``"flood"``, ``"홍수"``)."""
    if disaster_or_kind in MOTION_STYLES:
        return disaster_or_kind
    return get_disaster(disaster_or_kind).motion


def arrows_to_hints(
    arrows: Sequence[Sequence[float]] | np.ndarray, hint_scale: float = DEFAULT_HINT_SCALE
) -> tuple[np.ndarray, np.ndarray]:
    """User arrows ``(x0, y0, x1, y1)`` in pixels to hints.

    Returns:
        ``positions`` ``float32 (K, 2)`` (the arrow starts) and ``velocities`` ``float32 (K, 2)``
        ``= (end - start) / hint_scale`` px/frame.
    """
    arr = np.asarray(arrows, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4 or len(arr) == 0 or not np.isfinite(arr).all():
        raise ValueError(f"`arrows` must be a non-empty list of finite (x0, y0, x1, y1); got shape {arr.shape}")
    if not hint_scale > 0:
        raise ValueError(f"`hint_scale` must be > 0; got {hint_scale!r}")
    return arr[:, :2].astype(np.float32), ((arr[:, 2:] - arr[:, :2]) / hint_scale).astype(np.float32)


def _hint_positions(mask: np.ndarray, cells: int) -> np.ndarray:
    """Deterministic hint positions: per grid cell with enough mask, the mask pixel nearest its centroid."""
    height, width = mask.shape
    step = max(1, math.ceil(max(height, width) / cells))
    min_pixels = max(1, step * step // 20)
    positions = []
    for top in range(0, height, step):
        for left in range(0, width, step):
            ys, xs = np.nonzero(mask[top : top + step, left : left + step])
            if len(ys) < min_pixels:
                continue
            cy, cx = ys.mean(), xs.mean()
            i = int(np.argmin((ys - cy) ** 2 + (xs - cx) ** 2))
            positions.append((left + xs[i], top + ys[i]))
    if not positions and mask.any():  # a mask too thin for any cell: one hint at its first pixel
        ys, xs = np.nonzero(mask)
        positions.append((xs[len(xs) // 2], ys[len(ys) // 2]))
    return np.asarray(positions, np.float32).reshape(-1, 2)


def auto_hints(
    kind: str, mask: np.ndarray, depth: np.ndarray, *, speed: float | None = None, seed: int = 0, cells: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Hints a motion kind implies for this mask and depth.

    Args:
        kind: one of :data:`MOTION_KINDS` (or a disaster name).
        mask: ``bool (H, W)`` region that moves.
        depth: ``(H, W)`` depth, nearest = 1.
        speed: override of the style's speed (px/frame at 1000 px).
        seed: picks the sideways sign and the sway/haze phases.
        cells: hints are placed on a ``cells x cells`` grid (at most ``cells**2`` hints).

    Returns:
        ``positions`` and ``velocities``, ``float32 (K, 2)`` each; ``K = 0`` for an empty mask.
    """
    style = MOTION_STYLES[resolve_motion_kind(kind)]
    mask = check_mask(mask)
    depth = check_map(depth, "depth")
    height, width = check_same_size(mask=mask, depth=depth)
    positions = _hint_positions(mask, cells)
    if len(positions) == 0:
        return positions, np.zeros((0, 2), np.float32)
    rng = np.random.default_rng(seed)
    side_sign = 1.0 if rng.random() < 0.5 else -1.0
    phase = rng.uniform(0.0, 2.0 * math.pi)

    disparity = 1.0 / np.maximum(depth, 1e-6)
    # Disparity gradient at the scale of the hint spacing ("towards the camera" for a ground
    # plane), computed on a downsampled map: the blur is wide and only its direction matters.
    down = max(1, max(height, width) // 128)
    small = cv2.resize(disparity, (max(1, width // down), max(1, height // down)), interpolation=cv2.INTER_AREA)
    blur = cv2.GaussianBlur(small, (0, 0), sigmaX=max(1.0, max(height, width) / (4.0 * cells * down)))
    gy, gx = np.gradient(blur) if min(blur.shape) > 1 else (np.zeros_like(blur), np.zeros_like(blur))
    xs, ys = positions[:, 0].astype(int), positions[:, 1].astype(int)
    sx = np.minimum(xs // down, blur.shape[1] - 1)
    sy = np.minimum(ys // down, blur.shape[0] - 1)
    grad = np.stack([gx[sy, sx], gy[sy, sx]], axis=1)
    norm = np.linalg.norm(grad, axis=1, keepdims=True)
    towards = np.where(norm > 1e-9, grad / np.maximum(norm, 1e-12), np.array([[0.0, 1.0]]))

    direction = np.zeros_like(grad)
    direction[:, 1] += style.down
    direction += style.slope * towards
    direction[:, 0] += style.side * side_sign
    if style.sway:
        direction[:, 0] += style.sway * np.sin(2.0 * math.pi * ys / max(height / 3.0, 1.0) + phase)
    if style.scatter:
        angles = phase + np.arange(len(positions)) * (math.pi * (3.0 - math.sqrt(5.0)))  # golden angle
        direction = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    dnorm = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = np.where(dnorm > 1e-9, direction / np.maximum(dnorm, 1e-12), np.array([[0.0, 1.0]]))

    base = (style.speed if speed is None else float(speed)) * max(height, width) / 1000.0
    # Perspective: the same physical speed covers more pixels near the camera.
    magnitude = base * (0.3 + 0.7 * np.clip(disparity[ys, xs], 0.0, 1.0))
    return positions, (direction * magnitude[:, None]).astype(np.float32)


def densify_hints(
    positions: np.ndarray,
    velocities: np.ndarray,
    mask: np.ndarray,
    *,
    sigma: float | None = None,
    stride: int = 4,
) -> np.ndarray:
    """Dense field from sparse hints: normalised Gaussian RBF, zero outside ``mask``.

    ``field(p) = sum_i w_i(p) v_i / sum_i w_i(p)`` with ``w_i = exp(-|p - p_i|^2 / (2 sigma^2))``,
    evaluated in a numerically stable way (far from every hint, the nearest hint wins rather than
    0/0). The default ``sigma = sqrt(mask area / K)`` (the typical spacing of K hints) is a pure
    function of the inputs.

    Args:
        positions: ``(K, 2)`` hint positions ``(x, y)`` in pixels.
        velocities: ``(K, 2)`` px/frame.
        mask: ``bool (H, W)``.
        sigma: RBF width in pixels.
        stride: the RBF is evaluated every ``stride`` pixels and bilinearly upsampled (it is smooth).

    Returns:
        ``float32 (H, W, 2)``.
    """
    mask = check_mask(mask)
    positions = np.asarray(positions, np.float64).reshape(-1, 2)
    velocities = np.asarray(velocities, np.float64).reshape(-1, 2)
    if len(positions) != len(velocities):
        raise ValueError(f"{len(positions)} hint positions but {len(velocities)} velocities")
    if not (np.isfinite(positions).all() and np.isfinite(velocities).all()):
        raise ValueError("hint positions and velocities must be finite")
    height, width = mask.shape
    field = np.zeros((height, width, 2), np.float32)
    if len(positions) == 0 or not mask.any():
        return field
    if sigma is None:
        sigma = max(2.0, math.sqrt(mask.sum() / len(positions)))
    if not sigma > 0:
        raise ValueError(f"`sigma` must be > 0; got {sigma!r}")
    gy = np.arange(0, height + stride - 1, stride, dtype=np.float64)
    gx = np.arange(0, width + stride - 1, stride, dtype=np.float64)
    d2 = (gx[None, :, None] - positions[:, 0]) ** 2 + (gy[:, None, None] - positions[:, 1]) ** 2  # h x w x K
    logw = -d2 / (2.0 * sigma * sigma)
    w = np.exp(logw - logw.max(axis=2, keepdims=True))
    coarse = (w @ velocities) / w.sum(axis=2, keepdims=True)  # h x w x 2
    # Coarse sample (i, j) sits at pixel (i*stride, j*stride): resize with that exact mapping.
    scale_x, scale_y = 1.0 / stride, 1.0 / stride
    matrix = np.array([[scale_x, 0.0, 0.0], [0.0, scale_y, 0.0]])
    dense = cv2.warpAffine(
        coarse.astype(np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    field[mask] = dense[mask]
    return field


def motion_field(
    disaster_or_kind: str,
    mask: np.ndarray,
    depth: np.ndarray,
    *,
    arrows: Sequence[Sequence[float]] | np.ndarray | None = None,
    hint_scale: float = DEFAULT_HINT_SCALE,
    speed: float | None = None,
    seed: int = 0,
    sigma: float | None = None,
    feather: int | None = None,
) -> np.ndarray:
    """The Eulerian velocity field for a disaster picture.

    Args:
        disaster_or_kind: a disaster key or name (``"flood"``) or a motion kind (``"flow"``).
        mask: ``(H, W)`` bool region that moves; may be empty (then the field is all zero and the
            result is a camera-only 3D photo).
        depth: ``(H, W)`` depth, nearest = 1.
        arrows: optional user hints ``(x0, y0, x1, y1)`` in pixels; when given they replace the
            automatic hints entirely (see :func:`arrows_to_hints`).
        hint_scale: arrow length per px/frame.
        speed: override of the motion style's speed (automatic hints only).
        seed: sideways sign and phases of the automatic hints.
        sigma: RBF width (default: see :func:`densify_hints`).
        feather: the speed ramps from 0 at the mask's edge to full over this many pixels
            (default :func:`default_feather`; 0 = a hard edge). A hard edge makes points pile up
            where the fluid meets the still region and opens a gap where it leaves it, and the
            gap shows as a band in the loop (Holynski et al. and 3d-cinemagraphy blur the field
            for the same reason).

    Returns:
        ``float32 (H, W, 2)`` velocity in px/frame, exactly zero outside ``mask``.
    """
    kind = resolve_motion_kind(disaster_or_kind)
    mask = check_mask(mask)
    depth = check_map(depth, "depth")
    check_same_size(mask=mask, depth=depth)
    if arrows is not None and len(arrows) > 0:
        positions, velocities = arrows_to_hints(arrows, hint_scale)
    else:
        positions, velocities = auto_hints(kind, mask, depth, speed=speed, seed=seed)
    field = densify_hints(positions, velocities, mask, sigma=sigma)
    feather = default_feather(*mask.shape) if feather is None else feather
    if isinstance(feather, bool) or not isinstance(feather, (int, np.integer)) or feather < 0:
        raise ValueError(f"`feather` must be an integer >= 0; got {feather!r}")
    if feather and mask.any():
        # Distance (L2) of every mask pixel to the nearest pixel outside it.
        inside = np.pad(mask, 1).astype(np.uint8)  # the image border counts as inside
        inside[0, :] = inside[-1, :] = inside[:, 0] = inside[:, -1] = 1
        dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5)[1:-1, 1:-1]
        field *= np.clip(dist / float(feather), 0.0, 1.0)[..., None]
    return field
