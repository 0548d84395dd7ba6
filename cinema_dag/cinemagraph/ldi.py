"""Layered depth image: split the depth at discontinuities, inpaint what hides behind front edges.

Layer 0 is the picture as seen (every pixel, its own depth). Each back layer ``k >= 1`` holds only
the pixels that a nearer surface hides *near an occluding edge*: a band of ``margin`` pixels on the
front side of every depth discontinuity between layers ``< k`` and ``>= k``. Their colour and depth
are inpainted from the layer's own context (pixels at depth layer ``>= k``), never from the front
surface, so when the camera moves sideways the disoccluded strip shows background, not a smear of
the foreground.

The layering is deterministic and does not grow with the resolution (unlike 3d-cinemagraphy's Ward
clustering, which gives 3 layers at 640x360 and 6 at 1080p): thresholds are placed on disparity
where the most edge pixels change layer, at most ``num_layers - 1`` of them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cinema_dag.defaults import DEFAULT_NUM_LAYERS

from ..atomic import atomic_write_bytes
from ._checks import check_image, check_map, check_positive_int, check_same_size
from .pointcloud import PointCloud, default_focal, unproject

__all__ = [
    "DEFAULT_NUM_LAYERS",
    "DEFAULT_EDGE_THRESHOLD",
    "Inpainter",
    "TeleaInpainter",
    "LayeredDepthImage",
    "depth_edges",
    "layer_labels",
    "default_margin",
    "build_ldi",
]

DEFAULT_EDGE_THRESHOLD = 0.04
"""Disparity jump (nearest depth = disparity 1) between neighbours that counts as an occluding edge.

With the default camera amplitudes (lateral moves up to ~6% of the nearest depth, f = max(H, W))
a jump of 0.04 opens a gap of about 2 px at 720p: smaller gaps are closed by the renderer's crack
and hole fillers, larger ones need a back layer.
"""

DEPTH_GAP = 1.02
"""A back layer's depth is at least this factor behind the surface in front of it."""

Inpainter = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``inpainter(image uint8 (H, W, 3), hole bool (H, W)) -> uint8 (H, W, 3)``.

Must fill the ``hole`` pixels from the others (treating hole pixels as unknown) and may return
anything outside the hole. A diffusion inpainter of a real model profile fits this signature.
"""


class TeleaInpainter:
    """Classical inpainting (Telea 2004, ``cv2.inpaint``): fast, deterministic, no model.

    Args:
        radius: neighbourhood radius in pixels used for each filled pixel.
    """

    def __init__(self, radius: int = 5) -> None:
        self.radius = check_positive_int(radius, "radius")

    def __repr__(self) -> str:
        return f"TeleaInpainter(radius={self.radius})"

    def __call__(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        if not hole.any():
            return image.copy()
        return cv2.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8), self.radius, cv2.INPAINT_TELEA)


def _inpaint_map(values: np.ndarray, hole: np.ndarray, radius: int = 5) -> np.ndarray:
    """Navier-Stokes inpainting of a float32 map (depth, disparity).

    Not Telea: OpenCV's Telea on float32 input lets the hole's old values leak into its gradient
    term (a constant context around a hole of ones comes back oscillating between -1.2 and 1.3),
    while its uint8 path and the Navier-Stokes method are sound.
    """
    if not hole.any():
        return values.copy()
    return cv2.inpaint(np.ascontiguousarray(values, np.float32), hole.astype(np.uint8), radius, cv2.INPAINT_NS)


def depth_edges(disparity: np.ndarray, threshold: float = DEFAULT_EDGE_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour pairs across which the disparity jumps by more than ``threshold``.

    Args:
        disparity: ``(H, W)`` inverse depth (nearest = 1).
        threshold: minimum jump.

    Returns:
        ``(near, far)``: two ``float32 (E,)`` arrays, the disparities on the near and far side of
        every 4-neighbour pair that forms an edge.
    """
    near, far = [], []
    for a, b in ((disparity[:, :-1], disparity[:, 1:]), (disparity[:-1, :], disparity[1:, :])):
        jump = np.abs(a - b) > threshold
        near.append(np.maximum(a, b)[jump])
        far.append(np.minimum(a, b)[jump])
    return np.concatenate(near).astype(np.float32), np.concatenate(far).astype(np.float32)


def layer_labels(
    depth: np.ndarray,
    num_layers: int = DEFAULT_NUM_LAYERS,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
    bins: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth layer of every pixel (0 = nearest), cut where depth discontinuities are.

    Every edge pair (see :func:`depth_edges`) spans a disparity interval ``(far, near]``; a
    threshold inside it puts the two sides in different layers. Thresholds are chosen greedily on a
    fixed grid of ``bins`` disparities: each one where the most not-yet-separated edge pairs are
    separated. A smooth depth ramp has no edge pairs and is never cut.

    Args:
        depth: ``(H, W)`` depth, nearest = 1.
        num_layers: maximum number of layers, >= 1.
        edge_threshold: disparity jump that counts as an edge.
        bins: resolution of the threshold grid on disparity ``(0, 1]``.

    Returns:
        ``labels`` ``int8 (H, W)`` and the chosen disparity ``thresholds`` ``float32 (K,)``,
        ``K <= num_layers - 1``, descending (near to far); pixels with disparity above
        ``thresholds[0]`` get label 0.
    """
    num_layers = check_positive_int(num_layers, "num_layers")
    if num_layers > 127:
        raise ValueError(f"`num_layers` must be at most 127; got {num_layers}")
    disparity = 1.0 / check_map(depth, "depth")
    thresholds: list[float] = []
    if num_layers > 1:
        near, far = depth_edges(disparity, edge_threshold)
        # Candidate thresholds at bin centres; pair i is separated by t when far_i < t <= near_i.
        grid = (np.arange(bins, dtype=np.float64) + 0.5) / bins
        lo = np.searchsorted(grid, far, side="right")  # first grid index with t > far
        hi = np.searchsorted(grid, near, side="right")  # first grid index with t > near
        alive = lo < hi
        for _ in range(num_layers - 1):
            if not alive.any():
                break
            coverage = np.zeros(bins + 1, np.int64)
            np.add.at(coverage, lo[alive], 1)
            np.add.at(coverage, hi[alive], -1)
            counts = np.cumsum(coverage[:-1])
            best = int(np.argmax(counts))  # ties go to the farthest threshold: deterministic
            if counts[best] == 0:
                break
            thresholds.append(float(grid[best]))
            alive &= ~((lo <= best) & (best < hi))
    thresholds_arr = np.array(sorted(thresholds, reverse=True), np.float32)
    labels = (disparity[..., None] < thresholds_arr).sum(-1).astype(np.int8) if len(thresholds_arr) else np.zeros(depth.shape, np.int8)
    return labels, thresholds_arr


def default_margin(height: int, width: int) -> int:
    """Default width of the hidden band behind front edges: 6% of ``max(H, W)``, at least 4 px.

    A sideways camera move of 6% of the nearest depth (the largest default amplitude) shifts the
    nearest surface by that much against the far background.
    """
    return max(4, int(round(0.06 * max(height, width))))


@dataclass(frozen=True, eq=False)
class LayeredDepthImage:
    """A picture split in depth layers, with hidden content inpainted behind front edges.

    Attributes:
        colors: ``uint8 (L, H, W, 3)``; layer 0 is the input image.
        depths: ``float32 (L, H, W)``, nearest visible depth = 1; back layers are behind layer 0.
        alphas: ``bool (L, H, W)``; which pixels of each layer exist. Layer 0 is all True.
        labels: ``int8 (H, W)`` depth layer of each visible pixel (0 = nearest).
        focal: focal length in pixels.
    """

    colors: np.ndarray
    depths: np.ndarray
    alphas: np.ndarray
    labels: np.ndarray
    focal: float

    def __post_init__(self) -> None:
        if self.colors.ndim != 4 or self.colors.shape[-1] != 3 or self.colors.dtype != np.uint8:
            raise ValueError(f"`colors` must be uint8 (L, H, W, 3); got {self.colors.shape} {self.colors.dtype}")
        shape = self.colors.shape[:3]
        if self.depths.shape != shape or self.alphas.shape != shape or self.labels.shape != shape[1:]:
            raise ValueError(
                f"LayeredDepthImage parts disagree: colors {self.colors.shape}, depths {self.depths.shape}, "
                f"alphas {self.alphas.shape}, labels {self.labels.shape}"
            )
        if self.alphas.dtype != bool or not self.alphas[0].all():
            raise ValueError("`alphas` must be bool with layer 0 all True")
        if not np.isfinite(self.depths[self.alphas]).all() or (self.depths[self.alphas] <= 0).any():
            raise ValueError("`depths` must be finite and > 0 wherever `alphas` is True")

    @property
    def num_layers(self) -> int:
        return int(self.colors.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)``."""
        return int(self.colors.shape[1]), int(self.colors.shape[2])

    @property
    def num_points(self) -> int:
        return int(self.alphas.sum())

    @property
    def image(self) -> np.ndarray:
        """The visible picture, ``uint8 (H, W, 3)``."""
        return self.colors[0]

    @property
    def depth(self) -> np.ndarray:
        """The visible depth, ``float32 (H, W)``."""
        return self.depths[0]

    def point_indices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(layer, row, col)`` ``int64 (P,)`` of every point, layer 0 first, row-major inside a layer."""
        layer, row, col = np.nonzero(self.alphas)
        return layer, row, col

    def points(self) -> PointCloud:
        """Every pixel of every layer lifted to 3D (pinhole, focal :attr:`focal`)."""
        layer, row, col = self.point_indices()
        pixels = np.stack([col, row], axis=1).astype(np.float32)
        xyz = unproject(pixels, self.depths[layer, row, col], self.size, self.focal)
        return PointCloud(xyz=xyz, colors=self.colors[layer, row, col], layer=layer.astype(np.int8))

    def to_bytes(self) -> bytes:
        """An ``.npz`` serialisation (no pickle) for the artefact store."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            colors=self.colors,
            depths=self.depths,
            alphas=self.alphas,
            labels=self.labels,
            focal=np.float64(self.focal),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LayeredDepthImage:
        """Inverse of :meth:`to_bytes`."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            missing = {"colors", "depths", "alphas", "labels", "focal"} - set(z.files)
            if missing:
                raise ValueError(f"not a LayeredDepthImage archive: missing {sorted(missing)}")
            return cls(
                colors=z["colors"], depths=z["depths"], alphas=z["alphas"], labels=z["labels"], focal=float(z["focal"])
            )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_bytes` to ``path`` atomically (:func:`cinema_dag.atomic.atomic_write_bytes`)."""
        return atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LayeredDepthImage:
        """Read a file written by :meth:`save`."""
        return cls.from_bytes(Path(path).read_bytes())


def _occluding_edge_seeds(disparity: np.ndarray, front: np.ndarray, threshold: float) -> np.ndarray:
    """Front pixels with a 4-neighbour behind them (not front) by a disparity jump > threshold."""
    seeds = np.zeros(front.shape, bool)
    back = ~front
    # Horizontal and vertical neighbour pairs, both orders: (a is front, b is back, a nearer).
    for sl_a, sl_b in (
        ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
        ((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
        ((slice(None, -1), slice(None)), (slice(1, None), slice(None))),
        ((slice(1, None), slice(None)), (slice(None, -1), slice(None))),
    ):
        hit = front[sl_a] & back[sl_b] & (disparity[sl_a] - disparity[sl_b] > threshold)
        seeds[sl_a] |= hit
    return seeds


def _bbox(mask: np.ndarray, pad: int) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(1))
    cols = np.flatnonzero(mask.any(0))
    h, w = mask.shape
    return (
        slice(max(0, rows[0] - pad), min(h, rows[-1] + pad + 1)),
        slice(max(0, cols[0] - pad), min(w, cols[-1] + pad + 1)),
    )


def build_ldi(
    image: np.ndarray,
    depth: np.ndarray,
    *,
    num_layers: int = DEFAULT_NUM_LAYERS,
    margin: int | None = None,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
    inpainter: Inpainter | None = None,
    focal: float | None = None,
) -> LayeredDepthImage:
    """Split ``image`` + ``depth`` into a layered depth image with inpainted hidden content.

    Args:
        image: ``uint8 (H, W, 3)`` RGB.
        depth: ``(H, W)`` depth with the nearest pixel at 1 (see
            :func:`~cinema_dag.cinemagraph.depth.disparity_to_depth`); finite, > 0.
        num_layers: maximum number of layers (default :data:`DEFAULT_NUM_LAYERS`). The count is fixed by this argument, not
            by the resolution; back layers are empty where nothing is occluded.
        margin: width in pixels of the hidden band inpainted behind each occluding edge; default
            :func:`default_margin`. A value >= H + W inpaints everything behind the front.
        edge_threshold: disparity jump that counts as an occluding edge.
        inpainter: colour inpainter for the hidden pixels; default :class:`TeleaInpainter`.
            Depth is always inpainted (Navier-Stokes on disparity), then pushed behind the front.
        focal: focal length in pixels; default ``max(H, W)``.

    Returns:
        the :class:`LayeredDepthImage`.

    Example:
        >>> img = np.zeros((32, 32, 3), np.uint8); d = np.full((32, 32), 4.0, np.float32)
        >>> d[8:24, 8:24] = 1.0
        >>> ldi = build_ldi(img, d, margin=4)
        >>> ldi.num_layers, int(ldi.alphas[1].sum()) > 0
        (2, True)
    """
    # 1. Check inputs
    image = check_image(image)
    depth = check_map(depth, "depth")
    height, width = check_same_size(image=image, depth=depth)
    if not np.isfinite(depth).all() or depth.min() <= 0:
        raise ValueError(
            "`depth` must be finite and > 0 everywhere (use disparity_to_depth on a DPT map); "
            f"got min {np.nanmin(depth) if np.isfinite(depth).any() else 'nan'} and "
            f"{int((~np.isfinite(depth)).sum())} non-finite pixels"
        )
    num_layers = check_positive_int(num_layers, "num_layers")
    margin = default_margin(height, width) if margin is None else check_positive_int(margin, "margin")
    if not edge_threshold > 0:
        raise ValueError(f"`edge_threshold` must be > 0; got {edge_threshold!r}")
    inpainter = TeleaInpainter() if inpainter is None else inpainter
    focal = default_focal(height, width) if focal is None else float(focal)

    # 2. Depth layers, cut at discontinuities
    labels, _ = layer_labels(depth, num_layers, edge_threshold)
    disparity = 1.0 / depth
    colors = np.repeat(image[None], num_layers, axis=0)
    depths = np.repeat(depth[None], num_layers, axis=0)
    alphas = np.zeros((num_layers, height, width), bool)
    alphas[0] = True

    # 3. Each back layer: the band behind occluding edges, inpainted from the layer's own context
    for k in range(1, num_layers):
        front = labels < k
        seeds = _occluding_edge_seeds(disparity, front, edge_threshold)
        if not seeds.any() or front.all():
            continue
        if margin >= height + width:
            band = front
        else:
            # Distance (L2) of every pixel to the nearest seed: distanceTransform measures to zeros.
            dist = cv2.distanceTransform((~seeds).astype(np.uint8), cv2.DIST_L2, 5)
            band = front & (dist < margin)
        # Inpaint only around the band; inside that crop every front pixel is unknown, so nothing
        # of the foreground leaks into the hidden colours.
        rows, cols = _bbox(band, pad=margin // 2 + 8)
        hole = front[rows, cols]
        crop_colors = inpainter(np.ascontiguousarray(image[rows, cols]), hole)
        if crop_colors.shape != hole.shape + (3,) or crop_colors.dtype != np.uint8:
            raise ValueError(
                f"inpainter {inpainter!r} returned {crop_colors.shape} {crop_colors.dtype}; "
                f"expected uint8 {hole.shape + (3,)}"
            )
        crop_disp = _inpaint_map(disparity[rows, cols], hole)
        # Behind the visible surface (and behind the previous layer where that one exists).
        behind = depth[rows, cols] * DEPTH_GAP
        if k > 1:
            prev = alphas[k - 1, rows, cols]
            behind = np.where(prev, np.maximum(behind, depths[k - 1, rows, cols] * DEPTH_GAP), behind)
        crop_depth = np.maximum(1.0 / np.maximum(crop_disp, 1e-6), behind).astype(np.float32)
        crop_band = band[rows, cols]
        colors[k, rows, cols][crop_band] = crop_colors[crop_band]
        depths[k, rows, cols][crop_band] = crop_depth[crop_band]
        alphas[k, rows, cols] = crop_band
    return LayeredDepthImage(colors=colors, depths=depths, alphas=alphas, labels=labels, focal=focal)
