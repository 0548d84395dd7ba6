"""3D symmetric animation: a looping cinemagraph from a layered depth image and a velocity field.

Every LDI pixel is a 3D point. Points where the (per-layer) velocity is zero are *static*; the
others are *moving*. Frame ``t`` of an ``N``-frame loop splats two point sets into the camera of
frame ``t``:

* forward: the moving points after ``t`` Euler steps along ``+M``, plus the static points;
* backward: the moving points after ``N - t`` steps along ``-M``, plus the static points;

and blends them per pixel with weights ``(1 - t/N) exp(alpha disp_f) A_f`` and
``(t/N) exp(alpha disp_b) A_b`` (``disp`` = 1/depth of the pixel's winning point, ``A`` its
coverage), normalised. At ``t = 0`` only the unmoved forward set counts and at ``t = N`` only the
unmoved backward set, so frame ``N`` is bit-identical to frame 0: the loop has no seam. Moving
points slide in the image plane at their own depth (3d-cinemagraphy's scene flow).

Where the speed comes from (3d-cinemagraphy renders ~2 s per 720p frame on an RTX 3090):

* Static points are identical in both sets: they are splatted once per camera pose into a key
  buffer that both sets start from, and with a still camera once per video.
* One ``scatter_reduce_(amin)`` of packed ``depth|id`` keys per set is the whole z-test
  (:mod:`.splat`); off-image points land on a sentinel border, so nothing is masked.
* Per-point constants are folded in advance: a frame's projection is a subtract, a multiply, a
  clamp, a floor and one fused add per point, into preallocated buffers; the key's id half is
  written once and only the depth half per frame.
* Only pixels where the two sets disagree are blended; elsewhere a single gather of packed RGBA
  colours writes the frame.
* Euler integration is O(N): the forward set is stepped as frames are rendered, the backward set
  once up front (stored as float16 displacements).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

from ._checks import check_positive_int
from .camera import CameraPath, camera_path, overscan_zoom
from .euler import EulerIntegrator
from .ldi import LayeredDepthImage
from .splat import HI_WORD, LO_WORD, PaddedGrid, crack_tolerance, empty_key, fill_cracks, fill_holes_tiled

__all__ = [
    "DEFAULT_NUM_FRAMES",
    "DEFAULT_FPS",
    "DEFAULT_ALPHA",
    "RenderResult",
    "CinemagraphRenderer",
    "render_cinemagraph",
    "layer_flows",
]

DEFAULT_NUM_FRAMES = 60
DEFAULT_FPS = 25
DEFAULT_ALPHA = 8.0
"""Depth preference of the blend, on disparity with the nearest depth = 1: where the two sets
disagree, a point 0.1 nearer in disparity weighs e^0.8 ~ 2.2x more (3d-cinemagraphy learns this
scalar and feeds the blend to a decoder; we have no decoder, so the blend must hide occlusions)."""


@dataclass
class RenderResult:
    """Frames of a loop and figures about how they were made.

    Attributes:
        frames: ``uint8 (N, H, W, 3)``; frame ``N`` (not included) would equal frame 0.
        stats: plain numbers and strings (safe for Dagster metadata): point counts, timings in
            seconds, zoom, camera, hole fractions before the hole filler.
    """

    frames: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)


def layer_flows(ldi: LayeredDepthImage, flow: np.ndarray) -> np.ndarray:
    """The velocity field of every LDI layer, ``float32 (L, H, W, 2)``.

    Layer 0 uses ``flow``. A back layer's hidden pixels take the velocity of the nearest pixel of
    that layer's own context (pixels at depth layer ``>= k``): water hidden behind a standing
    person flows like the water around them, while the person's own velocity is not inherited.
    """
    num_layers = ldi.num_layers
    fields = np.empty((num_layers,) + flow.shape, np.float32)
    fields[0] = flow
    for k in range(1, num_layers):
        front = ldi.labels < k
        if not ldi.alphas[k].any() or front.all() or not front.any():
            fields[k] = flow
            continue
        # Nearest context (non-front) pixel of every pixel: distanceTransform measures to zeros.
        _, labels = cv2.distanceTransformWithLabels(
            front.astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        table = np.zeros((int(labels.max()) + 1, 2), np.float32)
        context = ~front
        table[labels[context]] = flow[context]
        fields[k] = table[labels]
    return fields


def _check_flow(flow: Any, size: tuple[int, int]) -> np.ndarray:
    if not isinstance(flow, np.ndarray) or flow.ndim != 3 or flow.shape[2] != 2:
        shape = getattr(flow, "shape", type(flow).__name__)
        raise ValueError(f"`flow` must be an array of shape (H, W, 2); got {shape}")
    if flow.shape[:2] != size:
        raise ValueError(
            f"sizes (HxW) differ: `flow` {flow.shape[0]}x{flow.shape[1]}, `ldi` {size[0]}x{size[1]}; "
            "they must be the same size"
        )
    flow = flow.astype(np.float32, copy=False)
    if not np.isfinite(flow).all():
        raise ValueError(f"`flow` has {int((~np.isfinite(flow)).sum())} non-finite values")
    return flow


class CinemagraphRenderer:
    """Prepared scene that renders any frame of the loop (see the module docstring).

    Args:
        ldi: the layered depth image (:func:`~cinema_dag.cinemagraph.ldi.build_ldi`).
        flow: ``float32 (H, W, 2)`` velocity in px/frame
            (:func:`~cinema_dag.cinemagraph.motion.motion_field`); zero everywhere gives a
            camera-only 3D photo.
        num_frames: frames in the loop, ``N`` (default 60).
        camera: a :class:`~cinema_dag.cinemagraph.camera.CameraPath`, or a path kind / disaster
            name for :func:`~cinema_dag.cinemagraph.camera.camera_path` with default amplitude and
            period ``N``. Its period must divide ``N``.
        zoom: focal multiplier of the rendering camera, or ``"auto"`` for the smallest zoom that
            keeps the image borders covered (:func:`~cinema_dag.cinemagraph.camera.overscan_zoom`,
            1.0 for a still camera).
        alpha: depth preference of the blend (:data:`DEFAULT_ALPHA`).
        crack_fill: close one-pixel cracks where the camera magnifies the static surfaces
            (:func:`~cinema_dag.cinemagraph.splat.fill_cracks`). Cracks in the moving sets are
            left to the blend: where one set has a gap, the other set's sample is used.
        fill_holes: fill pixels no point reaches (push-pull, background-weighted) so that no
            unfilled pixel remains; off, they stay black.
        device: torch device (default CPU); the same code runs on CUDA.
        seed: phases of a shake camera when ``camera`` is a name.
    """

    def __init__(
        self,
        ldi: LayeredDepthImage,
        flow: np.ndarray,
        *,
        num_frames: int = DEFAULT_NUM_FRAMES,
        camera: CameraPath | str = "none",
        zoom: float | str = "auto",
        alpha: float = DEFAULT_ALPHA,
        crack_fill: bool = True,
        fill_holes: bool = True,
        device: torch.device | str | None = None,
        seed: int = 0,
    ) -> None:
        t_start = time.perf_counter()
        # 1. Check inputs
        if sys.byteorder != "little":
            raise RuntimeError("the cinemagraph renderer packs keys and RGBA words for little-endian machines only")
        if not isinstance(ldi, LayeredDepthImage):
            raise ValueError(f"`ldi` must be a LayeredDepthImage; got {type(ldi).__name__}")
        height, width = ldi.size
        flow = _check_flow(flow, (height, width))
        self.num_frames = check_positive_int(num_frames, "num_frames")
        path = camera if isinstance(camera, CameraPath) else camera_path(camera, self.num_frames, seed=seed)
        if self.num_frames % path.period:
            raise ValueError(f"the camera period {path.period} must divide num_frames={self.num_frames}")
        if zoom == "auto":
            zoom_value = overscan_zoom(path, ldi.depth, focal=ldi.focal)
        elif isinstance(zoom, (int, float)) and not isinstance(zoom, bool) and 0.25 <= zoom <= 4.0:
            zoom_value = float(zoom)
        else:
            raise ValueError(f'`zoom` must be "auto" or a number in [0.25, 4]; got {zoom!r}')
        if not math.isfinite(alpha) or alpha < 0:
            raise ValueError(f"`alpha` must be a finite number >= 0; got {alpha!r}")
        self.path, self.zoom, self.alpha = path, zoom_value, float(alpha)
        self.crack_fill, self.fill_holes = bool(crack_fill), bool(fill_holes)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.size = (height, width)
        self.grid = PaddedGrid(height, width)
        dev = self.device
        f32 = dict(dtype=torch.float32, device=dev)

        # 2. Points, static ones first: a static point never moves, so it is splatted once per
        # camera pose; static ids are also smaller, so a static point wins a depth tie.
        fields = layer_flows(ldi, flow)
        layer, row, col = ldi.point_indices()
        moving = np.any(fields[layer, row, col] != 0.0, axis=1)
        order = np.concatenate([np.flatnonzero(~moving), np.flatnonzero(moving)])  # moving: layer-major
        layer, row, col = layer[order], row[order], col[order]
        n_static = int((~moving).sum())
        n_points = len(order)
        self.n_static, self.n_moving = n_static, n_points - n_static
        self.sentinel = n_points
        self.empty = empty_key(self.sentinel)
        z = torch.from_numpy(ldi.depths[layer, row, col]).to(**f32)
        rgba = np.zeros((n_points + 1, 4), np.uint8)  # last row: the sentinel, alpha 0 = "no point"
        rgba[:n_points, :3] = ldi.colors[layer, row, col]
        rgba[:n_points, 3] = 255
        self._colors32 = torch.from_numpy(rgba).to(dev).view(torch.int32).view(-1)

        # 3. Per-point constants. Rendering camera: focal s*f, principal point (ox, oy); a point
        # at pixel x and depth Z lands at  x' + 1.5 = (A - a_t) / (Z - cz)  with
        # A = Z (s (x - ox) + ox + 1.5) and a_t = s f cx + (ox + 1.5) cz  (+1.5 = rounding + border).
        # Coordinates are kept as (2, P) rows ("structure of arrays"): the same op broadcast over a
        # (P, 2) layout is 5-10x slower on CPU.
        s, f = self.zoom, float(ldi.focal)
        ox, oy = (width - 1) / 2.0, (height - 1) / 2.0
        self._f, self._ox, self._oy = f, ox, oy
        xy = torch.from_numpy(np.stack([col, row], axis=1).astype(np.float32)).to(dev)
        centre = torch.tensor([ox, oy], **f32)
        zs = z[:n_static]
        self._z_static = zs
        self._ab_static = (zs[:, None] * (s * (xy[:n_static] - centre) + centre + 1.5)).t().contiguous()
        self._keys_static = self._new_keys(0, n_static)
        self._pix_static = torch.empty(n_static, dtype=torch.int64, device=dev)
        self._uv_static = torch.empty((2, n_static), **f32)
        self._r_static = torch.empty(n_static, **f32)
        self._pixf_static = torch.empty(n_static, **f32)

        zm = z[n_static:]
        self._z_moving = zm
        # Moving points are tracked in normalised coordinates n: x = ox (n + 1), so
        # A = Z (s ox n + ox + 1.5): one addcmul per frame.
        self._a1_moving = (zm[:, None] * torch.tensor([s * ox, s * oy], **f32)).t().contiguous()
        self._a0_moving = (zm[:, None] * (centre + 1.5)).t().contiguous()
        self._c1 = torch.tensor([[s * ox], [s * oy]], **f32)  # still camera: x' + 1.5 = c1 n + c0
        self._c0 = (centre + 1.5)[:, None].contiguous()
        self._keys_moving = self._new_keys(n_static, self.n_moving)
        self._pix_moving = torch.empty(self.n_moving, dtype=torch.int64, device=dev)
        self._uv_moving = torch.empty((2, self.n_moving), **f32)
        self._r_moving = torch.empty(self.n_moving, **f32)
        self._pixf_moving = torch.empty(self.n_moving, **f32)

        # 4. Euler integration per layer group: the forward set is stepped as frames are rendered,
        # the backward set once here and kept as float16 displacements (entry 0 is exactly zero,
        # so frame N reproduces frame 0 bit for bit; 1/16 px resolution up to 128 px of travel).
        t_integrate = time.perf_counter()
        self._pos_forward = torch.empty((self.n_moving, 2), **f32)
        self._pos_backward = torch.empty((self.n_moving, 2), **f32)
        self._start = torch.empty((self.n_moving, 2), **f32)
        self._disp_backward = torch.empty((self.num_frames + 1, self.n_moving, 2), dtype=torch.float16, device=dev)
        self._forward: list[EulerIntegrator] = []
        moving_layers = layer[n_static:]
        xy_moving = xy[n_static:]
        for k in np.unique(moving_layers):
            lo, hi = (int(i) for i in np.searchsorted(moving_layers, [k, k + 1]))
            flow_k = torch.from_numpy(fields[k]).to(**f32)
            self._forward.append(EulerIntegrator(flow_k, xy_moving[lo:hi], 1, buffer=self._pos_forward[lo:hi]))
            backward = EulerIntegrator(flow_k, xy_moving[lo:hi], -1, buffer=self._pos_backward[lo:hi])
            start = backward.start_normalised
            self._start[lo:hi] = start
            self._disp_backward[0, lo:hi] = 0.0
            for i in range(1, self.num_frames + 1):
                backward.step()
                torch.sub(backward.normalised_position, start, out=self._disp_backward[i, lo:hi])
        self._forward_step = 0
        integrate_s = time.perf_counter() - t_integrate

        # 5. Key buffers, frame buffers, caches
        self._static_buffer = self.grid.new_buffer(self.empty, dev)
        self._buffer_f = torch.empty_like(self._static_buffer) if self.n_moving else self._static_buffer
        self._buffer_b = torch.empty_like(self._static_buffer) if self.n_moving else self._static_buffer
        self._frame32 = torch.empty(height * width, dtype=torch.int32, device=dev)
        self._base32 = torch.empty(height * width, dtype=torch.int32, device=dev)  # static-only frame
        self._window = (0, height)  # rows of _frame32 that differ from _base32 (still camera)
        self._crack_work = torch.empty(2 * height * width, dtype=torch.int64, device=dev)
        self._static_pose: tuple[float, float, float] | None = None
        self._moving_cz: float | None = None
        self._tolerance = crack_tolerance()
        self.stats: dict[str, Any] = {
            "height": height,
            "width": width,
            "num_frames": self.num_frames,
            "points": n_points,
            "static_points": n_static,
            "moving_points": self.n_moving,
            "layers": ldi.num_layers,
            "camera": path.kind,
            "camera_period": path.period,
            "camera_amplitude": list(path.amplitude),
            "zoom": self.zoom,
            "alpha": self.alpha,
            "device": str(dev),
            "integrate_s": integrate_s,
            "prepare_s": time.perf_counter() - t_start,
        }

    # ------------------------------------------------------------------------------------------
    def _new_keys(self, first_id: int, count: int) -> torch.Tensor:
        """Key buffer whose id halves are written once; depth halves are written per pose."""
        keys = torch.empty(count, dtype=torch.int64, device=self.device)
        words = keys.view(torch.int32).view(-1, 2)
        words[:, LO_WORD] = torch.arange(first_id, first_id + count, dtype=torch.int32, device=self.device)
        return keys

    @staticmethod
    def _depth_half(keys: torch.Tensor) -> torch.Tensor:
        """The float32 view of the keys' depth halves (strided)."""
        return keys.view(torch.int32).view(-1, 2)[:, HI_WORD].view(torch.float32)

    def _pixels(self, uv: torch.Tensor, pixf: torch.Tensor, pix: torch.Tensor) -> None:
        """``uv`` ``(2, P)`` holds ``x' + 1.5, y' + 1.5``: clamp onto the padded grid, floor, flatten."""
        height, width = self.size
        uv[0].clamp_(0.0, width + 1.0)
        uv[1].clamp_(0.0, height + 1.0).floor_()
        # Columns are >= 0, so the int conversion's truncation floors them.
        torch.add(uv[0], uv[1], alpha=self.grid.padded_width, out=pixf)
        pix.copy_(pixf)

    def _frame_constants(self, centre: tuple[float, float, float]) -> torch.Tensor:
        """``a_t`` of the projection as a ``(2, 1)`` column."""
        cx, cy, cz = centre
        s = self.zoom
        return torch.tensor(
            [[s * self._f * cx + (self._ox + 1.5) * cz], [s * self._f * cy + (self._oy + 1.5) * cz]],
            dtype=torch.float32,
            device=self.device,
        )

    def _splat_static(self, centre: tuple[float, float, float]) -> None:
        buffer = self._static_buffer
        buffer.fill_(self.empty)
        if self.n_static:
            depth = self._depth_half(self._keys_static)
            torch.sub(self._z_static, centre[2], out=depth)
            torch.reciprocal(depth, out=self._r_static)
            torch.sub(self._ab_static, self._frame_constants(centre), out=self._uv_static)
            self._uv_static.mul_(self._r_static[None])
            self._pixels(self._uv_static, self._pixf_static, self._pix_static)
            buffer.scatter_reduce_(0, self._pix_static, self._keys_static, reduce="amin")
        self.grid.clear_border(buffer, self.empty)
        if self.crack_fill:
            fill_cracks(self.grid.view2d(buffer), self._tolerance, self._crack_work)
        self._static_pose = centre
        if self.path.is_still and self.n_moving:
            # The static-only frame: with a still camera every frame equals it outside the rows
            # the moving points reach, so only those rows are redone per frame.
            self._colour_rows(self._static_buffer, 0, self.size[0], self._base32)
            self._finish_rows(self._base32, 0, self.size[0], self._static_buffer, self._static_buffer)
            self._frame32.copy_(self._base32)
            self._window = (0, 0)

    def _advance_forward(self, steps: int) -> torch.Tensor:
        if steps < self._forward_step:
            for integrator in self._forward:
                integrator.reset()
            self._forward_step = 0
        while self._forward_step < steps:
            for integrator in self._forward:
                integrator.step()
            self._forward_step += 1
        return self._pos_forward

    def _splat_moving(self, buffer: torch.Tensor, positions: torch.Tensor, centre: tuple[float, float, float]) -> tuple[int, int]:
        """Splat the moving points at normalised ``positions`` ``(P, 2)``; the padded rows they hit."""
        uv = self._uv_moving
        if self.path.is_still:
            torch.addcmul(self._c0, self._c1, positions.t(), out=uv)
        else:
            torch.addcmul(self._a0_moving, self._a1_moving, positions.t(), out=uv)
            uv.sub_(self._frame_constants(centre))
            uv.mul_(self._r_moving[None])
        rows = uv[1]
        self._pixels(uv, self._pixf_moving, self._pix_moving)
        buffer.scatter_reduce_(0, self._pix_moving, self._keys_moving, reduce="amin")
        if not self.path.is_still:
            return 1, self.size[0] + 1
        return int(rows.min()), int(rows.max()) + 1

    def _colour_rows(self, keys: torch.Tensor, r0: int, r1: int, out32: torch.Tensor) -> None:
        """Packed colours of image rows ``[r0, r1)`` from a key buffer's winners (one gather)."""
        height, width = self.size
        words = keys.view(torch.int32).view(height + 2, 2 * self.grid.padded_width)
        ids = words[1 + r0 : 1 + r1, 2 + LO_WORD : 2 * (width + 1) : 2]
        torch.index_select(self._colors32, 0, ids.reshape(-1), out=out32[r0 * width : r1 * width])

    def _blend_rows(self, t: int, r0: int, r1: int) -> None:
        """Rows ``[r0, r1)`` of the frame: forward winners, blended with backward where they differ."""
        height, width = self.size
        grid = self.grid
        kf, kb = self._buffer_f, self._buffer_b
        frame = self._frame32
        self._colour_rows(kf, r0, r1, frame)
        differ = torch.ne(grid.interior(kf)[r0:r1], grid.interior(kb)[r0:r1]).view(-1).nonzero().squeeze(1)
        if differ.numel() == 0:
            return
        differ += r0 * width  # flat image index
        padded = differ + 2 * torch.div(differ, width, rounding_mode="floor") + (grid.padded_width + 1)
        words_f = torch.index_select(kf, 0, padded).view(torch.int32).view(-1, 2)
        words_b = torch.index_select(kb, 0, padded).view(torch.int32).view(-1, 2)
        id_f, id_b = words_f[:, LO_WORD].contiguous(), words_b[:, LO_WORD].contiguous()
        disp_f = torch.reciprocal(words_f[:, HI_WORD].contiguous().view(torch.float32))
        disp_b = torch.reciprocal(words_b[:, HI_WORD].contiguous().view(torch.float32))
        n = self.num_frames
        time_logit = math.log(t / (n - t)) if 0 < t < n else (-math.inf if t <= 0 else math.inf)
        logit = disp_b.sub_(disp_f).mul_(self.alpha).add_(time_logit)
        # Coverage: an empty side gets weight 0 (both empty never differ).
        logit.masked_fill_(id_f == self.sentinel, math.inf)
        logit.masked_fill_(id_b == self.sentinel, -math.inf)
        weight_b = torch.sigmoid_(logit)[:, None]
        colour_f = torch.index_select(self._colors32, 0, id_f).view(torch.uint8).view(-1, 4).float()
        colour_b = torch.index_select(self._colors32, 0, id_b).view(torch.uint8).view(-1, 4).float()
        blended = torch.lerp(colour_f, colour_b, weight_b).add_(0.5).clamp_(0, 255).to(torch.uint8)
        frame.index_copy_(0, differ, blended.view(torch.int32).view(-1))

    def _finish_rows(self, frame32: torch.Tensor, r0: int, r1: int, kf: torch.Tensor, kb: torch.Tensor) -> int:
        """Count (and fill) the holes in rows ``[r0, r1)``; returns the count before filling."""
        height, width = self.size
        rows32 = frame32[r0 * width : r1 * width]
        # Real points have alpha 255 in the top byte (negative int32); only the sentinel packs to 0.
        if r1 <= r0 or int(rows32.max()) != 0:
            return 0
        holes = (rows32 == 0).view(r1 - r0, width)
        n_holes = int(holes.sum())
        if self.fill_holes:
            # Weight valid pixels by depth: a disocclusion should show the background.
            g = self.grid
            nearest = torch.minimum(g.interior(kf)[r0:r1], g.interior(kb)[r0:r1]).contiguous()
            depth = nearest.view(torch.int32).view(r1 - r0, width, 2)[..., HI_WORD].view(torch.float32)
            fill_holes_tiled(rows32.view(torch.uint8).view(r1 - r0, width, 4), holes, depth)
        return n_holes

    # ------------------------------------------------------------------------------------------
    def render_frame(self, t: int, out: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
        """Render frame ``t`` (any integer in ``[0, N]``; ``N`` reproduces 0).

        Args:
            t: frame number.
            out: optional ``uint8 (H, W, 3)`` tensor on the renderer's device to write into.

        Returns:
            the frame ``uint8 (H, W, 3)`` (``out`` when given) and the number of pixels no point
            reached, counted before the hole filler.
        """
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= self.num_frames:
            raise ValueError(f"`t` must be an integer in [0, {self.num_frames}]; got {t!r}")
        t = int(t)
        height, width = self.size
        centre: tuple[float, float, float] = tuple(float(c) for c in self.path.centres([t])[0])  # type: ignore[assignment]
        if centre != self._static_pose:
            self._splat_static(centre)
        if not self.n_moving:
            r0, r1 = 0, height
            self._colour_rows(self._static_buffer, 0, height, self._frame32)
            n_holes = self._finish_rows(self._frame32, 0, height, self._static_buffer, self._static_buffer)
        else:
            if centre[2] != self._moving_cz:
                torch.sub(self._z_moving, centre[2], out=self._depth_half(self._keys_moving))
                torch.reciprocal(self._depth_half(self._keys_moving), out=self._r_moving)
                self._moving_cz = centre[2]
            self._buffer_f.copy_(self._static_buffer)
            f0, f1 = self._splat_moving(self._buffer_f, self._advance_forward(t), centre)
            torch.add(self._start, self._disp_backward[self.num_frames - t], out=self._pos_backward)
            self._buffer_b.copy_(self._static_buffer)
            b0, b1 = self._splat_moving(self._buffer_b, self._pos_backward, centre)
            # Image rows the moving points reached (padded row p is image row p - 1).
            r0, r1 = max(0, min(f0, b0) - 1), min(height, max(f1, b1) - 1)
            if self.path.is_still:
                # Rows changed last frame but not reached now go back to the static frame.
                p0, p1 = self._window
                for a, b in ((p0, min(p1, r0)), (max(p0, r1), p1)):
                    if b > a:
                        self._frame32[a * width : b * width] = self._base32[a * width : b * width]
                self._window = (r0, r1)
            else:
                r0, r1 = 0, height
            n_holes = 0
            if r1 > r0:
                self._blend_rows(t, r0, r1)
                n_holes = self._finish_rows(self._frame32, r0, r1, self._buffer_f, self._buffer_b)
        frame = self._frame32.view(torch.uint8).view(height, width, 4)
        if out is None:
            out = torch.empty((height, width, 3), dtype=torch.uint8, device=self.device)
        if self.device.type == "cpu":
            # OpenCV's SIMD RGBA -> RGB is ~20x faster than torch's strided copy on CPU.
            cv2.cvtColor(frame.numpy(), cv2.COLOR_RGBA2RGB, dst=out.numpy())
        else:
            out.copy_(frame[..., :3])
        return out, n_holes

    def render(self) -> RenderResult:
        """Render frames ``0 .. N-1`` in order and collect statistics."""
        height, width = self.size
        n = self.num_frames
        t0 = time.perf_counter()
        if self.device.type == "cpu":
            frames_np = np.empty((n, height, width, 3), np.uint8)
            frames = torch.from_numpy(frames_np)
        else:
            frames = torch.empty((n, height, width, 3), dtype=torch.uint8, device=self.device)
        holes = np.zeros(n, np.int64)
        for t in range(n):
            _, holes[t] = self.render_frame(t, out=frames[t])
        if self.device.type != "cpu":
            frames_np = frames.cpu().numpy()
        render_s = time.perf_counter() - t0
        stats = dict(self.stats)
        stats.update(
            render_s=render_s,
            hole_fraction_mean=float(holes.mean() / (height * width)),
            hole_fraction_max=float(holes.max() / (height * width)),
            frames_with_holes=int((holes > 0).sum()),
        )
        return RenderResult(frames=frames_np, stats=stats)


def render_cinemagraph(
    ldi: LayeredDepthImage,
    flow: np.ndarray,
    *,
    num_frames: int = DEFAULT_NUM_FRAMES,
    camera: CameraPath | str = "none",
    zoom: float | str = "auto",
    alpha: float = DEFAULT_ALPHA,
    crack_fill: bool = True,
    fill_holes: bool = True,
    device: torch.device | str | None = None,
    seed: int = 0,
) -> RenderResult:
    """Render a seamless ``num_frames`` loop of ``ldi`` animated by ``flow`` along ``camera``.

    See :class:`CinemagraphRenderer` for the arguments.

    Returns:
        :class:`RenderResult` with ``frames`` ``uint8 (N, H, W, 3)`` and ``stats``.

    Example:
        >>> from cinema_dag.cinemagraph.ldi import build_ldi
        >>> img = np.full((8, 8, 3), 100, np.uint8); depth = np.ones((8, 8), np.float32)
        >>> result = render_cinemagraph(build_ldi(img, depth), np.zeros((8, 8, 2), np.float32), num_frames=4)
        >>> result.frames.shape, bool((result.frames == img).all())
        ((4, 8, 8, 3), True)
    """
    renderer = CinemagraphRenderer(
        ldi,
        flow,
        num_frames=num_frames,
        camera=camera,
        zoom=zoom,
        alpha=alpha,
        crack_fill=crack_fill,
        fill_holes=fill_holes,
        device=device,
        seed=seed,
    )
    return renderer.render()
