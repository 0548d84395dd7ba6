"""Closed camera paths: the camera loops with the fluid.

A path gives the camera centre for every frame ``t`` (the camera only translates; it always looks
down +z like the source camera). Every path is periodic with a ``period`` (in frames) that must
divide the number of frames, and ``t`` is reduced modulo the period *before* any trigonometry, so
frame ``N`` and frame 0 get bit-identical poses and the loop has no camera seam. (The straight-line
"up-down", "zoom-in" and "side" paths of 3d-cinemagraphy are not closed, so their GIFs jump.)

Amplitudes are in units of the nearest depth (which is 1, see :mod:`.depth`), like 3d-photo-inpainting
and 3d-cinemagraphy: a sideways move of 0.04 shifts the nearest surface by 4% of the focal length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cinema_dag.defaults import DEFAULT_CAMERA_SCALE, DEFAULT_NUM_FRAMES

from ..disasters import get_disaster

__all__ = [
    "CAMERA_KINDS",
    "DEFAULT_AMPLITUDES",
    "CameraPath",
    "camera_path",
    "default_camera_kind",
    "overscan_zoom",
]

DEFAULT_AMPLITUDES: dict[str, tuple[float, float, float]] = {
    "none": (0.0, 0.0, 0.0),
    "circle": (0.04, 0.04, 0.06),  # 3d-cinemagraphy's circle: (0.04, 0.04, 0.09)
    "up_down": (0.0, 0.05, 0.0),
    "swing": (0.06, 0.0, 0.0),
    "zoom": (0.0, 0.0, 0.15),
    "shake": (0.012, 0.012, 0.004),
}
CAMERA_KINDS: tuple[str, ...] = tuple(DEFAULT_AMPLITUDES)

_DISASTER_CAMERA = {
    "flood": "circle",
    "landslide": "up_down",
    "drought": "zoom",
    "wildfire": "up_down",
    "heavy_snow": "swing",
    "typhoon": "circle",
    "earthquake": "shake",
}

# Shake: sums of sines with integer cycles per period (so the path closes); (x, y, z) components.
_SHAKE_CYCLES = ((3, 7), (5, 11), (2, 9))


def default_camera_kind(disaster: str) -> str:
    """The camera path a disaster gets by default; ``"shake"`` for earthquakes."""
    return _DISASTER_CAMERA[get_disaster(disaster).key]


@dataclass(frozen=True)
class CameraPath:
    """A closed camera trajectory.

    Attributes:
        kind: one of :data:`CAMERA_KINDS`.
        period: frames per cycle, >= 1.
        amplitude: ``(ax, ay, az)`` in nearest-depth units.
        phases: per-component phase offsets of the shake (from the seed).
    """

    kind: str
    period: int
    amplitude: tuple[float, float, float]
    phases: tuple[float, ...] = field(default=(0.0,) * 6)

    def __post_init__(self) -> None:
        if self.kind not in DEFAULT_AMPLITUDES:
            raise ValueError(f"unknown camera path {self.kind!r}; valid paths are: {', '.join(CAMERA_KINDS)}")
        if isinstance(self.period, bool) or not isinstance(self.period, (int, np.integer)) or self.period < 1:
            raise ValueError(f"`period` must be a positive integer; got {self.period!r}")
        if len(self.amplitude) != 3 or not all(math.isfinite(a) for a in self.amplitude):
            raise ValueError(f"`amplitude` must be three finite numbers; got {self.amplitude!r}")
        if abs(self.amplitude[2]) >= 0.5:
            # A dolly of half the nearest depth would put near points behind the camera's near range.
            raise ValueError(f"the z amplitude must be below 0.5 (nearest depth is 1); got {self.amplitude[2]!r}")

    @property
    def is_still(self) -> bool:
        return self.kind == "none" or not any(self.amplitude)

    def centres(self, frames: np.ndarray | list[int] | int) -> np.ndarray:
        """Camera centres ``float64 (T, 3)`` for integer frame numbers (any integers; periodic)."""
        t = np.atleast_1d(np.asarray(frames))
        if not np.issubdtype(t.dtype, np.integer):
            raise ValueError(f"frame numbers must be integers; got dtype {t.dtype}")
        theta = 2.0 * math.pi * (np.mod(t, self.period).astype(np.float64) / self.period)
        amp = np.asarray(self.amplitude, np.float64)
        if self.kind == "circle":
            waves = np.stack([np.sin(theta), np.cos(theta), np.sin(theta)], axis=1)
        elif self.kind in ("up_down", "swing"):  # back and forth along the amplitude vector
            waves = np.repeat(np.sin(theta)[:, None], 3, axis=1)
        elif self.kind == "zoom":  # in and back out along the amplitude vector, from the source view
            waves = np.repeat(((1.0 - np.cos(theta)) / 2.0)[:, None], 3, axis=1)
        elif self.kind == "shake":
            waves = np.stack(
                [
                    (np.sin(c1 * theta + self.phases[2 * i]) + 0.5 * np.sin(c2 * theta + self.phases[2 * i + 1])) / 1.5
                    for i, (c1, c2) in enumerate(_SHAKE_CYCLES)
                ],
                axis=1,
            )
        else:  # "none"
            waves = np.zeros((len(t), 3))
        out = waves * amp
        return out


def camera_path(
    kind: str = "none",
    num_frames: int = DEFAULT_NUM_FRAMES,
    *,
    period: int | None = None,
    amplitude: tuple[float, float, float] | None = None,
    scale: float = DEFAULT_CAMERA_SCALE,
    seed: int = 0,
) -> CameraPath:
    """Build a closed camera path.

    Args:
        kind: ``"none"``, ``"circle"``, ``"up_down"``, ``"swing"``, ``"zoom"`` or ``"shake"``; a
            disaster key/name gives that disaster's default (:func:`default_camera_kind`).
        num_frames: frames of the loop; the period must divide it.
        period: frames per camera cycle (default ``num_frames``).
        amplitude: ``(ax, ay, az)`` in nearest-depth units (default :data:`DEFAULT_AMPLITUDES`).
        scale: multiplies the amplitude.
        seed: phases of the shake.

    Example:
        >>> path = camera_path("swing", 60)
        >>> bool(np.array_equal(path.centres([0]), path.centres([60])))
        True
    """
    if kind not in DEFAULT_AMPLITUDES:
        kind = default_camera_kind(kind)
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"`num_frames` must be a positive integer; got {num_frames!r}")
    period = int(num_frames) if period is None else period
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1 or num_frames % period:
        raise ValueError(f"`period` must be a positive divisor of num_frames={num_frames}; got {period!r}")
    base = DEFAULT_AMPLITUDES[kind] if amplitude is None else tuple(float(a) for a in amplitude)
    if not math.isfinite(scale) or scale < 0:
        raise ValueError(f"`scale` must be a finite number >= 0; got {scale!r}")
    rng = np.random.default_rng(seed)
    phases = tuple(float(p) for p in rng.uniform(0.0, 2.0 * math.pi, 6))
    return CameraPath(kind=kind, period=int(period), amplitude=tuple(a * scale for a in base), phases=phases)  # type: ignore[arg-type]


def overscan_zoom(
    path: CameraPath,
    depth: np.ndarray,
    *,
    focal: float | None = None,
    max_zoom: float = 1.15,
) -> float:
    """Smallest zoom (focal multiplier) that keeps the image borders covered along ``path``.

    A moving camera pulls the picture's own border into view, where there is nothing to show.
    Zooming in slightly about the centre keeps every border pixel's point outside the rendered
    frame (checked over one period of the path with the visible border depths). The zoom is capped
    at ``max_zoom``; what is still uncovered is left to the renderer's hole filler.

    Args:
        path: the camera path.
        depth: ``(H, W)`` visible depth, nearest = 1.
        focal: focal length in pixels (default ``max(H, W)``).
        max_zoom: upper bound, >= 1.

    Returns:
        a zoom in ``[1, max_zoom]``; exactly 1.0 for a still camera.
    """
    if not max_zoom >= 1.0:
        raise ValueError(f"`max_zoom` must be >= 1; got {max_zoom!r}")
    if path.is_still:
        return 1.0
    height, width = depth.shape
    f = float(max(height, width)) if focal is None else float(focal)
    ox, oy = (width - 1) / 2.0, (height - 1) / 2.0
    centres = path.centres(np.arange(path.period))  # T x 3
    needed = 1.0
    # (pixel coordinate along the axis, depth) of each border; the sign says which side it is on.
    borders = (
        (0, np.arange(height), np.zeros(height, int), -1.0),  # left: x = 0
        (0, np.arange(height), np.full(height, width - 1), 1.0),  # right
        (1, np.zeros(width, int), np.arange(width), -1.0),  # top: y = 0
        (1, np.full(width, height - 1), np.arange(width), 1.0),  # bottom
    )
    for axis, rows, cols, side in borders:
        z = depth[rows, cols].astype(np.float64)  # B
        pix = cols if axis == 0 else rows
        half = ox if axis == 0 else oy
        world = (pix - half) * z / f  # X (or Y) of the border points
        offset = f * (world[None, :] - centres[:, axis : axis + 1]) / (z[None, :] - centres[:, 2:3])  # T x B
        reach = side * offset  # distance from the centre towards this border, in pixels
        # Zoom s maps offset -> s * offset; the border point must land a pixel beyond the last
        # pixel centre (nearest-pixel rounding would otherwise leave the edge column uncovered).
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(reach > 0, (half + 1.0) / reach, np.inf)
        needed = max(needed, float(np.max(ratio, initial=1.0)))  # inf (a border crossed the centre) -> capped
    return float(min(max(needed, 1.0), max_zoom))
