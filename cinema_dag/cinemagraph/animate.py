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

Points are splatted to the nearest pixel, so a slow flow (0.1-0.2 px/frame) would move the
texture in whole-pixel jumps every few frames. Each copy of a moving point therefore gets its own
colour per frame, the source texture resampled bilinearly at its sub-pixel rounding residual
(:meth:`CinemagraphRenderer._resample`), only for the copies that win a pixel: the moving region drifts smoothly.

Where the speed comes from (3d-cinemagraphy renders ~2 s per 720p frame on an RTX 3090; this
renders a 60-frame 720p loop in ~1.4-2.8 s on 2 CPU cores, ~0.8-2.1 s with ``subpixel=False``,
see ``benchmarks/render.py``):

* Static points are identical in both sets: they are splatted once per camera pose, straight
  into the forward key buffer, and with a still camera once per video; with a still camera only
  the rows the moving points reach are redone per frame.
* One ``scatter_reduce_(amin)`` of packed ``depth|id`` keys is the whole z-test
  (:mod:`.splat`); the forward and backward copies of the moving points are projected together
  and scattered in one call into two stacked buffers; off-image points land on a sentinel
  border, so nothing is masked.
* Per-point constants are folded in advance: a frame's projection is a subtract, a multiply, two
  clamps, a floor and one fused add per point, on (2, P) rows in preallocated buffers; a key's id
  half is written once, only its depth half per pose.
* Only pixels where the two sets disagree are blended; elsewhere one gather of packed RGBA
  colours writes the frame, composed on the padded grid so key and pixel indices agree.
* Euler integration is O(N): the forward set is stepped as frames are rendered, the backward set
  once up front (stored as float16 displacements).

What bounds it on CPU (720p, moving camera): the blend of the ~1/3 of pixels where the sets
differ (~25%), the static points' projection, scatter and crack filling (~20%), Euler
integration with ``grid_sample`` (~20%), the moving points (~20%); the bare scatters themselves
are under 10%. Every step is a separate memory-bound torch op.
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
from .splat import HI_WORD, LO_WORD, PAD, PaddedGrid, crack_tolerance, empty_key, fill_cracks, fill_holes_tiled

__all__ = [
    "DEFAULT_NUM_FRAMES",
    "DEFAULT_FPS",
    "DEFAULT_ALPHA",
    "RenderResult",
    "CinemagraphRenderer",
    "render_cinemagraph",
    "layer_flows",
]

_RB_LANES = 0x00FF00FF  # red and blue bytes of a packed little-endian RGBA int32
_G_LANE = 0x0000FF00  # its green byte
_OPAQUE = -(1 << 24)  # alpha byte 255 (0xFF000000 as an int32)
_SUBPIXEL_BITS = 7
_SUBPIXEL = 1 << _SUBPIXEL_BITS  # moving points' positions and resampling weights are in 1/128 px
_FEW_HOLES = 4096  # up to this many holes per frame are filled from their neighbours by gathers

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
            seconds, zoom, camera, hole fractions before the hole filler, and the largest
            fraction of pixels still unfilled after it (``unfilled_fraction_after_fill_max``).
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
        crack_fill: close one-pixel cracks where the camera or the flow magnifies a surface
            (:func:`~cinema_dag.cinemagraph.splat.fill_cracks`): in the static buffer once per
            pose, in the two moving sets only over the rows their points reach.
        fill_holes: fill pixels no point reaches (push-pull, background-weighted) so that no
            unfilled pixel remains; off, they stay black.
        device: torch device (default CPU); the same code runs on CUDA.
        seed: phases of a shake camera when ``camera`` is a name.
        subpixel: resample the colour of every moving point that wins a pixel bilinearly at its
            sub-pixel position (:meth:`_resample_winners`), so slow flows drift smoothly instead
            of jumping a whole pixel every few frames. ``False``: moving points keep their source
            colour (nearest-pixel splatting only; faster, but slow flows stutter).
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
        subpixel: bool = True,
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
        self.subpixel = bool(subpixel)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.size = (height, width)
        self.grid = PaddedGrid(height, width)
        dev = self.device
        f32 = dict(dtype=torch.float32, device=dev)

        # 2. Points, static ones first: a static point never moves, so it is splatted once per
        # camera pose; static ids are also smaller, so a static point wins a depth tie.
        fields = layer_flows(ldi, flow)
        flat = np.flatnonzero(ldi.alphas)  # layer-major, row-major: (layer * H + row) * W + col
        speed = np.abs(fields.reshape(-1, 2)).sum(1)
        moving = speed.take(flat) != 0.0
        flat = np.concatenate([flat[~moving], flat[moving]])  # static first; moving stays layer-major
        layer, pixel = np.divmod(flat, height * width)
        row, col = np.divmod(pixel, width)
        n_static = int((~moving).sum())
        n_points = len(flat)
        self.n_static, self.n_moving = n_static, n_points - n_static
        # Ids: static points, then the forward copies of the moving points, then (subpixel only)
        # their backward copies (each copy gets its own colour, resampled per frame), then the
        # sentinel. Without subpixel both copies of a moving point share its id and colour.
        n_ids = n_points + self.n_moving if self.subpixel else n_points
        self.sentinel = n_ids
        self.empty = empty_key(self.sentinel)
        z = torch.from_numpy(ldi.depths.reshape(-1).take(flat)).to(**f32)
        rgba = np.zeros((n_ids + 1, 4), np.uint8)  # last row: the sentinel, alpha 0 = "no point"
        rgba[:n_points, :3] = ldi.colors.reshape(-1, 3).take(flat, axis=0)
        if self.subpixel:
            rgba[n_points:n_ids, :3] = rgba[n_static:n_points, :3]
        rgba[:n_ids, 3] = 255
        self._colors32 = torch.from_numpy(rgba).to(dev).view(torch.int32).view(-1)  # packed RGBA

        # 3. Per-point constants. Rendering camera: focal s*f, principal point (ox, oy); a point
        # at pixel x and depth Z lands at  x' + q = (A - a_t) / (Z - cz)  with
        # A = Z (s (x - ox) + ox + q) and a_t = s f cx + (ox + q) cz; q = PAD + 0.5 folds the
        # rounding and the grid's border into the constants.
        # Coordinates are kept as (2, P) rows ("structure of arrays"): the same op broadcast over a
        # (P, 2) layout is 5-10x slower on CPU.
        s, f = self.zoom, float(ldi.focal)
        ox, oy = (width - 1) / 2.0, (height - 1) / 2.0
        self._f, self._ox, self._oy = f, ox, oy
        xy = torch.from_numpy(np.stack([col, row], axis=1).astype(np.float32)).to(dev)
        centre = torch.tensor([ox, oy], **f32)
        zs = z[:n_static]
        self._z_static = zs
        q = PAD + 0.5
        self._ab_static = (zs[:, None] * (s * (xy[:n_static] - centre) + centre + q)).t().contiguous()
        self._keys_static = self._new_keys(0, n_static)
        self._pix_static = torch.empty(n_static, dtype=torch.int64, device=dev)
        self._uv_static = torch.empty((2, n_static), **f32)
        self._r_static = torch.empty(n_static, **f32)
        self._pixf_static = torch.empty(n_static, **f32)

        zm = z[n_static:]
        self._z_moving = zm
        # Moving points are tracked in normalised coordinates n: x = ox (n + 1), so
        # A = Z (s ox n + ox + q): one addcmul per frame.
        self._a1_moving = (zm[:, None] * torch.tensor([s * ox, s * oy], **f32)).t().contiguous()
        self._a0_moving = (zm[:, None] * (centre + q)).t().contiguous()
        self._c1 = torch.tensor([[s * ox], [s * oy]], **f32)  # still camera: x' + q = c1 n + c0
        self._c0 = (centre + q)[:, None].contiguous()
        # Forward and backward copies of the moving points are splatted together: one projection
        # over 2 x P_m columns [forward | backward] and one scatter into two stacked key buffers.
        n2 = 2 * self.n_moving
        backward_first_id = n_points if self.subpixel else n_static
        self._keys_moving = torch.cat([self._new_keys(n_static, self.n_moving), self._new_keys(backward_first_id, self.n_moving)])
        self._pix_moving = torch.empty(n2, dtype=torch.int64, device=dev)
        self._uv_moving = torch.empty((2, n2), **f32)
        self._r_moving = torch.empty(self.n_moving, **f32)
        if self.subpixel:
            self._fixed_moving = torch.empty((2, n2), dtype=torch.int32, device=dev)  # 1/128 px, see _project_moving
            self._prepare_resampling(ldi, fields, layer[n_static:], row[n_static:], col[n_static:])
        else:
            self._pixf_moving = torch.empty(n2, **f32)

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
        numel = self.grid.numel
        # Key buffers: forward and backward stacked (one scatter fills both). The static buffer is
        # kept apart only for a still camera, where it is made once and copied from per frame;
        # with a moving camera the static points go straight into the forward buffer.
        self._buffers = self.grid.new_buffer(self.empty, dev).repeat(2) if self.n_moving else None
        if self.n_moving and not path.is_still:
            self._static_buffer = self._buffers[:numel]
        else:
            self._static_buffer = self.grid.new_buffer(self.empty, dev)
        self._buffer_f = self._buffers[:numel] if self.n_moving else self._static_buffer
        self._buffer_b = self._buffers[numel:] if self.n_moving else self._static_buffer
        self._restored = (0, 0)  # still camera: padded rows of the key buffers that differ from static
        # Frames are composed on the padded grid too (packed RGBA per padded pixel), so key and
        # frame indices agree and no index arithmetic is needed; the output is the interior.
        self._frame32 = torch.zeros(numel, dtype=torch.int32, device=dev)
        self._base32 = torch.zeros(numel, dtype=torch.int32, device=dev)  # still camera: static-only frame
        self._base_holes = (0, 0)  # padded rows of _base32 that hold holes
        self._window = (0, 0)  # padded rows of _frame32 that differ from _base32 (still camera)
        self._frame_ready = False  # still camera without moving points: one frame serves all
        self._neighbour_offsets = torch.tensor(
            [dy * self.grid.padded_width + dx for dy in range(-2, 3) for dx in range(-2, 3) if dy or dx], device=dev
        )
        self._crack_work = torch.empty(4 * numel, dtype=torch.int64, device=dev)
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

    def _prepare_resampling(
        self, ldi: LayeredDepthImage, fields: np.ndarray, layer: np.ndarray, row: np.ndarray, col: np.ndarray
    ) -> None:
        """Source texture and per-copy constants for :meth:`_resample`.

        Args:
            ldi: the scene.
            fields: ``float32 (L, H, W, 2)`` per-layer velocities (:func:`layer_flows`).
            layer, row, col: ``(P_m,)`` source pixel of every moving point.
        """
        height, width = self.size
        n = self.n_moving
        dev = self.device
        # One packed RGBA texture per layer, padded by one pixel so every 4-tap footprint is on it.
        # Only moving pixels of the layer are texture: the others (static neighbours across the
        # mask's edge, a foreground object, pixels the layer lacks) are replaced by the nearest
        # moving pixel, so a moving point never picks up the colour of something that does not
        # move with it (that colour would then travel with the water and flicker).
        textures = np.zeros((ldi.num_layers, height + 2, width + 2, 4), np.uint8)
        textures[..., 3] = 255
        for k in np.unique(layer):
            valid = ldi.alphas[k] & (np.abs(fields[k]).sum(-1) != 0.0)
            colours = ldi.colors[k]
            if not valid.all():
                # distanceTransform labels every pixel with its nearest zero pixel (here: valid ones).
                _, labels = cv2.distanceTransformWithLabels(
                    (~valid).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
                )
                table = np.zeros((int(labels.max()) + 1, 3), np.uint8)
                table[labels[valid]] = colours[valid]
                colours = table[labels]
            textures[k, :, :, :3] = np.pad(colours, ((1, 1), (1, 1), (0, 0)), mode="edge")
        self._texture32 = torch.from_numpy(textures).to(dev).view(torch.int32).view(-1)
        self._texture_width = width + 2
        base = (layer.astype(np.int64) * (height + 2) + row + 1) * (width + 2) + col + 1
        if len(textures.reshape(-1, 4)) >= 2**31:
            raise ValueError(f"the scene is too large to resample: {textures.shape[:3]} texture pixels")
        # Forward and backward copies side by side, like the projection's (2, 2 P_m) columns; int32
        # indices: index_select takes them, and the per-frame index arithmetic is half the traffic.
        self._tex_base = torch.from_numpy(np.concatenate([base, base]).astype(np.int32)).to(dev)
        # Source px per output px, J = (Z - cz) / (zoom Z), in 1/128: the depth factor is left out
        # (the camera moves by a few % of the depth: J is off by as much, ~0.02 px of offset).
        self._zoom_fixed = round(_SUBPIXEL / self.zoom)
        self._res_frac = torch.empty((2, 2 * n), dtype=torch.int32, device=dev)
        self._res_code = torch.empty(2 * n, dtype=torch.int32, device=dev)  # fx * 128 + fy per copy
        # The 4-tap footprint and weights depend on the sub-pixel position only (J is fixed): one
        # table entry per position code, built with the integer arithmetic of _footprint.
        fy, fx = torch.meshgrid(torch.arange(_SUBPIXEL), torch.arange(_SUBPIXEL), indexing="xy")
        codes = torch.stack([fx.reshape(-1), fy.reshape(-1)]).to(torch.int32)  # column c: fx = c >> 7, fy = c & 127
        step, w_own, w_x, w_y, w_diag = self._footprint(codes.to(dev))
        i64 = dict(dtype=torch.int64, device=dev)
        self._tab_dx, self._tab_dy = step[0].to(**i64), step[1].to(**i64)
        self._tab_w = [w.to(**i64) for w in (w_own, w_x, w_y, w_diag)]
        # The texture with R, B and G in three 16-bit lanes of an int64 (in that order: the low
        # int32 word then holds R and B where a packed RGBA word has them): one multiply-add per
        # tap blends all three (128 * 255 + 64 still fits a lane).
        tex = torch.from_numpy(textures.reshape(-1, 4)[:, :3].astype(np.int64)).to(dev)
        self._texture64 = tex[:, 0] | (tex[:, 2] << 16) | (tex[:, 1] << 32)

    def _resample_winners(self, first: int, last: int) -> None:
        """Colours of the moving copies that won a pixel of padded rows ``[first, last)`` in either
        key buffer (the rows the moving points reach: no moving id is anywhere else), resampled
        from their sub-pixel positions into their ``_colors32`` rows.

        Only winners are ever coloured (the frame reads colours by the winners' ids), so copies
        hidden by the z-test (about half the moving copies in dense scenes) cost nothing. A copy
        that crack filling spread to a neighbour pixel appears twice and gets the same colour twice.
        """
        wp = self.grid.padded_width
        if last <= first:
            return
        ids = self._buffers.view(2, -1)[:, first * wp : last * wp].view(torch.int32)[..., LO_WORD::2]
        # Moving copies: ids in [n_static, sentinel).
        win = ids.ge(self.n_static)
        win &= ids.ne(self.sentinel)
        ids = torch.index_select(ids.reshape(-1), 0, win.view(-1).nonzero().squeeze(1))
        if ids.numel() == 0:
            return
        copies = ids - self.n_static  # column of the copy in the (2, 2 P_m) projection
        self._colors32.index_copy_(0, ids.long(), self._resample(copies))

    def _footprint(self, frac: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Bilinear footprint of copies at sub-pixel positions ``frac`` (``int32 (2, K)``, 1/128 px,
        0..127; overwritten): the ``(2, K)`` steps to the x and y neighbours in the flat texture
        and the weights of the own pixel, the x, y and diagonal neighbours (1/128, summing to 128).

        A copy is splatted to the nearest pixel ``p`` of its exact projection ``q``; showing its
        source colour there would move the texture in whole-pixel jumps (a slow flow stutters).
        Instead it shows the source texture bilinearly resampled at ``source + J (p - q)``
        (``J``: source pixels per output pixel, ``1 / zoom``), which is exact for locally
        translational motion. 7-bit weights: 1/128 weight steps cost at most one grey level.
        """
        # (p - q) * 128 = 64 - frac, in (-64, 64].
        offset = frac.neg_().add_(_SUBPIXEL // 2)
        if self._zoom_fixed != _SUBPIXEL:
            # J = 1 / zoom in fixed point (>> rounds toward -inf: a 1/128 px bias at most).
            offset.mul_(self._zoom_fixed)
            offset >>= _SUBPIXEL_BITS
            if self._zoom_fixed > 2 * _SUBPIXEL:
                # Zoomed out below 1/2, the offset can pass a whole source pixel: a weight above
                # 1 would extrapolate, so stop at the neighbour.
                offset.clamp_(-_SUBPIXEL, _SUBPIXEL)
        # Footprint: the own pixel and its neighbours on the offset's side in x, in y and
        # diagonally (|offset| <= 1 px, so all on the padded texture); weights |offset| per axis
        # (a zero offset picks no side and weighs 0).
        step = torch.sign(offset)
        step[1].mul_(self._texture_width)
        weight = offset.abs_()
        qx, qy = weight[0], weight[1]
        w11 = torch.mul(qx, qy).add_(_SUBPIXEL // 2)
        w11 >>= _SUBPIXEL_BITS  # <= min(qx, qy), so every weight below is >= 0 and the four sum to 128
        w_own = torch.add(qx, qy).sub_(w11).neg_().add_(_SUBPIXEL)  # 128 - qx - qy + w11
        return step, w_own, qx - w11, qy - w11, w11

    def _resample(self, copies: torch.Tensor) -> torch.Tensor:
        """Colours of the given copies of the moving points, from their sub-pixel positions
        (:meth:`_footprint`, looked up per position code).

        The blend runs on int64 words holding R, G and B in three 16-bit lanes: one gather and one
        multiply-add per tap, then a rounding divide by 128 in every lane and a repack to RGBA.

        Args:
            copies: ``int32 (K,)`` columns of the copies in the ``(2, 2 P_m)`` projection.

        Returns:
            ``int32 (K,)`` packed RGBA colours, alpha 255.
        """
        code = torch.index_select(self._res_code, 0, copies)
        base = torch.index_select(self._tex_base, 0, copies).long()
        dx = torch.index_select(self._tab_dx, 0, code)
        dy = torch.index_select(self._tab_dy, 0, code)
        w_own, w_x, w_y, w_diag = (torch.index_select(w, 0, code) for w in self._tab_w)
        tex = self._texture64
        acc = torch.index_select(tex, 0, base).mul_(w_own)
        index = torch.add(base, dx)
        acc.addcmul_(torch.index_select(tex, 0, index), w_x)
        torch.add(base, dy, out=index)
        acc.addcmul_(torch.index_select(tex, 0, index), w_y)
        index.add_(dx)
        acc.addcmul_(torch.index_select(tex, 0, index), w_diag)
        # Round (+64) and divide by 128 in each lane (a lane's top bits then hold the next lane's
        # low bits: masked off), then repack as RGBA with alpha 255.
        acc.add_((_SUBPIXEL // 2) * (1 | 1 << 16 | 1 << 32))
        acc >>= _SUBPIXEL_BITS
        words = acc.view(torch.int32).view(-1, 2)
        rgba = torch.bitwise_and(words[:, LO_WORD], _RB_LANES)
        green = torch.bitwise_and(words[:, HI_WORD], 0xFF)
        green <<= 8
        return rgba.bitwise_or_(green).bitwise_or_(_OPAQUE)

    def _pixels(self, uv: torch.Tensor, pixf: torch.Tensor, pix: torch.Tensor) -> None:
        """``uv`` ``(2, P)`` holds ``x' + q, y' + q``: clamp onto the padded grid, floor, flatten."""
        uv[0].clamp_(0.0, self.grid.padded_width - 1.0)
        uv[1].clamp_(0.0, self.grid.padded_height - 1.0).floor_()
        # Columns are >= 0, so the int conversion's truncation floors them.
        torch.add(uv[0], uv[1], alpha=self.grid.padded_width, out=pixf)
        pix.copy_(pixf)

    def _frame_constants(self, centre: tuple[float, float, float]) -> torch.Tensor:
        """``a_t`` of the projection as a ``(2, 1)`` column."""
        cx, cy, cz = centre
        s = self.zoom
        return torch.tensor(
            [[s * self._f * cx + (self._ox + PAD + 0.5) * cz], [s * self._f * cy + (self._oy + PAD + 0.5) * cz]],
            dtype=torch.float32,
            device=self.device,
        )

    def _crack_rows(self, buffers: torch.Tensor, first: int, last: int) -> None:
        """Crack-fill padded rows ``[first, last)`` of one ``(Hp, Wp)`` or two ``(2, Hp, Wp)`` grids."""
        first, last = max(1, first), min(self.grid.padded_height - 1, last)
        if self.crack_fill and last > first:
            fill_cracks(buffers[..., first - 1 : last + 1, :], self._tolerance, self._crack_work)

    def _splat_static(self, centre: tuple[float, float, float], skip: tuple[int, int]) -> None:
        """Static points into the static buffer; crack-fill all rows but ``skip`` (padded rows the
        moving points reach: those are crack-filled after the moving points are added)."""
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
        grid2d = self.grid.view2d(buffer)
        self._crack_rows(grid2d, 1, skip[0])
        self._crack_rows(grid2d, max(1, skip[1]), self.grid.padded_height - 1)
        self._static_pose = centre
        self._restored = (0, 0)
        if self.path.is_still and self.n_moving:
            # The static-only frame: with a still camera every frame equals it outside the rows
            # the moving points reach, so only those rows are redone per frame. Its holes (the
            # moving region, mostly) are not filled here: their rows join every frame's window.
            rows = (PAD, self.grid.padded_height - PAD)
            self._colour_rows(self._static_buffer, *rows, self._base32)
            hole_rows = (self._base32.view(self.grid.padded_height, -1)[PAD:-PAD, PAD:-PAD] == 0).any(1).nonzero()
            self._base_holes = (int(hole_rows[0]) + PAD, int(hole_rows[-1]) + PAD + 1) if len(hole_rows) else (0, 0)
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

    def _project_moving(self, forward: torch.Tensor, backward: torch.Tensor, centre: tuple[float, float, float]) -> tuple[int, int]:
        """Project both copies of the moving points (normalised ``(P, 2)`` positions) to padded
        pixels, the backward copy offset into the second key buffer; returns the padded rows hit."""
        n = self.n_moving
        uv = self._uv_moving
        if self.path.is_still:
            torch.addcmul(self._c0, self._c1, forward.t(), out=uv[:, :n])
            torch.addcmul(self._c0, self._c1, backward.t(), out=uv[:, n:])
        else:
            torch.addcmul(self._a0_moving, self._a1_moving, forward.t(), out=uv[:, :n])
            torch.addcmul(self._a0_moving, self._a1_moving, backward.t(), out=uv[:, n:])
            uv.sub_(self._frame_constants(centre))
            uv.view(2, 2, n).mul_(self._r_moving)
        if not self.subpixel:
            self._pixels(uv, self._pixf_moving, self._pix_moving)
            rows = uv[1]
            first, last = int(rows.min()), int(rows.max()) + 1
            self._pix_moving[n:] += self.grid.numel
            return first, last
        # Fixed point, 1/128 px: the integer part is the pixel, the low 7 bits the sub-pixel
        # position the colours are resampled from; both come from the same number, so a copy on
        # a pixel boundary cannot be put on one pixel and resampled as if on the other.
        uv[0].clamp_(0.0, self.grid.padded_width - 1.0)
        uv[1].clamp_(0.0, self.grid.padded_height - 1.0)
        fixed = self._fixed_moving
        # Rounded to the nearest 1/128 (+ 0.5, then truncation, which floors values >= 0): a
        # copy that float noise puts a hair off a pixel centre resamples with weight 0, not 1/128.
        fixed.copy_(uv.mul_(float(_SUBPIXEL)).add_(0.5))
        first, last = int(fixed[1].min()) >> _SUBPIXEL_BITS, (int(fixed[1].max()) >> _SUBPIXEL_BITS) + 1
        frac = torch.bitwise_and(fixed, _SUBPIXEL - 1, out=self._res_frac)
        torch.add(frac[1], frac[0], alpha=_SUBPIXEL, out=self._res_code)
        fixed >>= _SUBPIXEL_BITS
        torch.add(fixed[0], fixed[1], alpha=self.grid.padded_width, out=self._pix_moving)
        self._pix_moving[n:] += self.grid.numel
        return first, last

    def _splat_moving(self, first: int, last: int) -> None:
        """Static points under both key buffers, the moving copies on top, cracks closed in their rows."""
        wp = self.grid.padded_width
        buffers = self._buffers.view(2, -1)
        if self.path.is_still:
            # Only rows the moving points touched last frame or touch now differ from the static
            # buffer: restore just those.
            a, b = min(first, self._restored[0]), max(last, self._restored[1])
            if self._restored == (0, 0):
                a, b = 0, self.grid.padded_height
            buffers[:, a * wp : b * wp] = self._static_buffer[a * wp : b * wp]
            self._restored = (first, last)
        else:
            self._buffer_b.copy_(self._buffer_f)  # the forward buffer holds the static points
        self._buffers.scatter_reduce_(0, self._pix_moving, self._keys_moving, reduce="amin")
        for half in (self._buffer_f, self._buffer_b):
            self.grid.clear_border(half, self.empty)
        self._crack_rows(buffers.view(2, self.grid.padded_height, self.grid.padded_width), first, last)

    def _colour_rows(self, keys: torch.Tensor, first: int, last: int, out32: torch.Tensor) -> None:
        """Packed colours of padded rows ``[first, last)`` from a key buffer's winners (one gather).

        The border columns get -1 (opaque white, never shown): only sentinel colours pack to 0,
        which is how holes are found.
        """
        wp = self.grid.padded_width
        ids = keys[first * wp : last * wp].view(torch.int32)[LO_WORD::2]
        rows32 = out32[first * wp : last * wp]
        torch.index_select(self._colors32, 0, ids, out=rows32)
        grid = rows32.view(last - first, wp)
        grid[:, :PAD] = -1
        grid[:, -PAD:] = -1

    def _blend_rows(self, t: int, first: int, last: int, moving: tuple[int, int]) -> None:
        """Padded rows ``[first, last)`` of the frame: forward winners, blended with the backward
        winners where the two differ (only possible in the ``moving`` rows)."""
        wp = self.grid.padded_width
        kf, kb = self._buffer_f, self._buffer_b
        frame = self._frame32
        self._colour_rows(kf, first, last, frame)
        lo, hi = max(first, moving[0]) * wp, min(last, moving[1]) * wp
        if hi <= lo:
            return
        differ = torch.ne(kf[lo:hi], kb[lo:hi]).nonzero().squeeze(1)
        if differ.numel() == 0:
            return
        differ += lo
        words_f = torch.index_select(kf, 0, differ).view(torch.int32).view(-1, 2)
        words_b = torch.index_select(kb, 0, differ).view(torch.int32).view(-1, 2)
        id_f, id_b = words_f[:, LO_WORD], words_b[:, LO_WORD]
        disp_f = torch.reciprocal(words_f[:, HI_WORD].view(torch.float32))  # 0 where empty
        disp_b = torch.reciprocal(words_b[:, HI_WORD].view(torch.float32))
        n = self.num_frames
        time_logit = math.log(t / (n - t)) if 0 < t < n else (-math.inf if t <= 0 else math.inf)
        logit = disp_b.sub_(disp_f).mul_(self.alpha).add_(time_logit)
        # Coverage: an empty side gets weight 0 (both empty never differ).
        logit.masked_fill_(id_f == self.sentinel, math.inf)
        logit.masked_fill_(id_b == self.sentinel, -math.inf)
        weight_b = torch.sigmoid_(logit)[:, None]
        # Packed gathers (4 bytes a row) then unpacking beat gathering float rows (16 bytes).
        colour_f = torch.index_select(self._colors32, 0, id_f).view(torch.uint8).view(-1, 4).float()
        colour_b = torch.index_select(self._colors32, 0, id_b).view(torch.uint8).view(-1, 4).float()
        # A lerp of values in [0, 255] stays there: + 0.5 and truncation round, no clamp needed
        # (float -> int32 -> uint8 is about twice as fast as float -> uint8 on CPU).
        blended = torch.lerp(colour_f, colour_b, weight_b).add_(0.5).to(torch.int32).to(torch.uint8)
        frame.index_copy_(0, differ, blended.view(torch.int32).view(-1))

    def _finish_rows(self, first: int, last: int, kf: torch.Tensor, kb: torch.Tensor) -> int:
        """Count (and fill) the holes in padded rows ``[first, last)``; returns the count before filling."""
        wp = self.grid.padded_width
        lo, hi = first * wp, last * wp
        rows32 = self._frame32[lo:hi]
        # Real points have alpha 255 in the top byte (negative int32); only the sentinel packs to 0.
        if last <= first or int(rows32.max()) != 0:
            return 0
        holes = (rows32 == 0).nonzero().squeeze(1)
        n_holes = int(holes.numel())
        if not self.fill_holes:
            return n_holes
        if n_holes <= _FEW_HOLES:
            holes = self._fill_few(holes + lo, kf, kb)
            if holes.numel() == 0:
                return n_holes
            holes -= lo
        # Many holes, or some with no valid pixel within 2 px: push-pull over the affected tiles.
        # Valid pixels weigh by depth, so a disocclusion shows the background; border columns
        # (never shown) get weight 0.
        mask = torch.zeros(hi - lo, dtype=torch.bool, device=self.device)
        mask[holes] = True
        nearest = torch.minimum(kf[lo:hi], kb[lo:hi])
        depth = nearest.view(torch.int32)[HI_WORD::2].view(torch.float32).view(last - first, wp).clone()
        # Pixels with no point (filled from neighbours just now) weigh 0: inf would poison the mean.
        depth.nan_to_num_(posinf=0.0)
        depth[:, :PAD] = 0.0
        depth[:, -PAD:] = 0.0
        fill_holes_tiled(rows32.view(torch.uint8).view(last - first, wp, 4), mask.view(last - first, wp), depth)
        return n_holes

    def _fill_few(self, holes: torch.Tensor, kf: torch.Tensor, kb: torch.Tensor) -> torch.Tensor:
        """Fill scattered holes (padded flat indices) with the depth-weighted mean of the valid
        pixels within 2 px, by gathers only; returns the holes that had no valid neighbour."""
        wp = self.grid.padded_width
        near = holes[:, None] + self._neighbour_offsets  # Kx24; image pixels +-2 stay on the grid
        colours = self._frame32[near]
        col = near % wp
        valid = (colours != 0) & (col >= PAD) & (col < wp - PAD)
        keys = torch.minimum(kf[near], kb[near])
        depth = keys.view(torch.int32).view(*keys.shape, 2)[..., HI_WORD].view(torch.float32)
        weight = torch.where(valid, depth, torch.zeros((), device=self.device))
        total = weight.sum(1)
        done = total > 0
        rgba = colours[done].view(torch.uint8).view(-1, near.shape[1], 4).float()
        mean = (rgba * weight[done, :, None]).sum(1) / total[done, None]
        packed = mean.add_(0.5).clamp_(0, 255).to(torch.uint8)
        packed[:, 3] = 255
        self._frame32[holes[done]] = packed.view(torch.int32).view(-1)
        return holes[~done]

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
        top, bottom = PAD, self.grid.padded_height - PAD  # padded rows of the image
        wp = self.grid.padded_width
        centre: tuple[float, float, float] = tuple(float(c) for c in self.path.centres([t])[0])  # type: ignore[assignment]
        n_holes = 0
        if not self.n_moving:
            if centre != self._static_pose or not self._frame_ready:
                self._splat_static(centre, (0, 0))
                self._colour_rows(self._static_buffer, top, bottom, self._frame32)
                self._holes_now = self._finish_rows(top, bottom, self._static_buffer, self._static_buffer)
                self._frame_ready = True
            n_holes = self._holes_now
        else:
            if centre[2] != self._moving_cz:
                depth = self._depth_half(self._keys_moving).view(2, -1)
                torch.sub(self._z_moving.expand(2, -1), centre[2], out=depth)
                torch.reciprocal(depth[0], out=self._r_moving)
                self._moving_cz = centre[2]
            torch.add(self._start, self._disp_backward[self.num_frames - t], out=self._pos_backward)
            first, last = self._project_moving(self._advance_forward(t), self._pos_backward, centre)
            if centre != self._static_pose:
                self._splat_static(centre, (first, last) if not self.path.is_still else (0, 0))
            self._splat_moving(first, last)
            if self.subpixel:
                self._resample_winners(first, last)
                if not self.path.is_still:
                    # The forward buffer now holds moving keys on top of the static ones: a next
                    # frame at the same pose must splat the static points afresh, or this frame's
                    # forward copies (ids below the backward copies') would win its backward buffer.
                    self._static_pose = None
            moving = (first, last)
            if self.path.is_still:
                first, last = min(first, self._base_holes[0] or first), max(last, self._base_holes[1])
                first, last = max(top, first), min(bottom, last)
                # Rows changed last frame but not redone now go back to the static frame.
                p0, p1 = self._window
                for a, b in ((p0, min(p1, first)), (max(p0, last), p1)):
                    if b > a:
                        self._frame32[a * wp : b * wp] = self._base32[a * wp : b * wp]
                self._window = (first, last)
            else:
                first, last = top, bottom
            if last > first:
                self._blend_rows(t, first, last, moving)
                n_holes = self._finish_rows(first, last, self._buffer_f, self._buffer_b)
        frame = self._frame32.view(torch.uint8).view(self.grid.padded_height, wp, 4)[top:bottom, PAD:-PAD]
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
        unfilled = np.zeros(n, np.int64)
        for t in range(n):
            _, holes[t] = self.render_frame(t, out=frames[t])
            unfilled[t] = self.unfilled_pixels()
        if self.device.type != "cpu":
            frames_np = frames.cpu().numpy()
        render_s = time.perf_counter() - t0
        stats = dict(self.stats)
        stats.update(
            render_s=render_s,
            hole_fraction_mean=float(holes.mean() / (height * width)),
            hole_fraction_max=float(holes.max() / (height * width)),
            frames_with_holes=int((holes > 0).sum()),
            unfilled_fraction_after_fill_max=float(unfilled.max() / (height * width)),
        )
        return RenderResult(frames=frames_np, stats=stats)

    def unfilled_pixels(self) -> int:
        """Pixels of the frame rendered last that are still unfilled: no point reached them and the
        hole filler did not fill them (0 whenever ``fill_holes`` is on; for quality checks)."""
        # Only the sentinel colour packs to 0 (real and filled pixels have alpha 255).
        interior = self._frame32.view(self.grid.padded_height, self.grid.padded_width)[PAD:-PAD, PAD:-PAD]
        return int((interior == 0).sum())


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
    subpixel: bool = True,
) -> RenderResult:
    """Render a seamless ``num_frames`` loop of ``ldi`` animated by ``flow`` along ``camera``.

    See :class:`CinemagraphRenderer` for the arguments.

    Args:
        subpixel: bilinearly resample the colours of the moving points that win a pixel at their
            sub-pixel positions (smooth slow flows; default); ``False`` keeps their source colours
            (nearest-pixel splatting, faster, slow flows move in whole-pixel steps).

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
        subpixel=subpixel,
    )
    return renderer.render()
