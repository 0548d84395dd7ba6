"""3D symmetric animation: a looping cinemagraph from a layered depth image and a velocity field.

Every LDI pixel is a 3D point, splatted (z-buffered, nearest pixel) into the camera of each frame.
Points where the per-layer velocity is zero are *static*; the others are *moving*: they stay on
their surface (at their own depth) and their **colour** moves, gathered per frame from the source
texture through the integrated displacement (a backward warp), with sharp sub-pixel resampling
(:mod:`.resample`). Frame ``t`` of an ``N``-frame loop shows at each moving point ``p``:

* the forward copy: the texture at ``Phi_{-t}(p)`` (``t`` Euler steps along ``-M`` from ``p``:
  where the content now at ``p`` came from), and
* the backward copy: the texture at ``Phi_{N-t}(p)`` (``N - t`` steps along ``+M``),

cross-faded per pixel at a staggered time (:mod:`.loopblend`). At ``t = 0`` every pixel shows the
forward copy unmoved and at ``t = N`` the backward copy unmoved, so frame ``N`` is bit-identical to
frame 0 for every camera and zoom: the loop has no seam.

Why gather instead of splatting moved points (3d-cinemagraphy, Holynski et al.): a splatted point
lands on the nearest pixel, so its colour must be resampled anyway to move smoothly, and the copies
pile up where the flow converges and open gaps where it diverges; gathering gives every moving
pixel exactly one colour per copy, no holes, and only one point set to splat per camera pose.
Moving texture thus slides *along* its surface (the water surface stays where its depth is).

Where the speed comes from (see ``benchmarks/render.py``):

* All points are splatted once per camera pose (once per video with a still camera): one
  ``scatter_reduce_(amin)`` of packed ``depth|id`` keys is the whole z-test (:mod:`.splat`).
* Per frame only the moving points that win a pixel are coloured: two bilinear lookups (forward,
  backward copy; only one outside the pixel's cross-fade) in a texture supersampled once at set-up.
* Euler integration is O(N): the forward copy's trajectory is stepped as frames are rendered, the
  backward copy's once up front (stored as 16-bit fixed-point displacements).
"""

from __future__ import annotations

import math
import sys
import time
from copy import copy as shallow_copy
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

from cinema_dag.defaults import DEFAULT_FILL_HOLES, DEFAULT_FPS, DEFAULT_NUM_FRAMES

from ._checks import check_positive_int
from .camera import CameraPath, camera_path, overscan_zoom
from .euler import EulerIntegrator
from .ldi import LayeredDepthImage
from .loopblend import DEFAULT_CROSSFADE, backward_weight, fade_frames, switch_times
from .resample import DEFAULT_KERNEL, KERNELS, SupersampledTexture
from .splat import HI_WORD, LO_WORD, PAD, PaddedGrid, crack_tolerance, empty_key, fill_cracks, fill_holes_tiled

__all__ = [
    "DEFAULT_NUM_FRAMES",
    "DEFAULT_FPS",
    "RenderResult",
    "CinemagraphRenderer",
    "render_cinemagraph",
    "layer_flows",
    "layer_textures",
]

_TEXTURE_MARGIN = 4  # px of texture kept around the moving pixels a layer's lookups can reach


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
    fields = np.empty((num_layers, *flow.shape), np.float32)
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


def layer_textures(ldi: LayeredDepthImage, layer: int) -> np.ndarray:
    """The colour a moving point of ``layer`` gathers from, ``uint8 (H, W, 3)``.

    Layer 0 is the picture. A back layer is the surface at that depth and behind: its own
    (inpainted) pixels, the picture where the visible pixel belongs to that layer or a farther
    one, and elsewhere (in front of it, where nothing is known) the nearest known pixel.
    """
    if layer == 0:
        return ldi.colors[0]
    known = ldi.alphas[layer] | (ldi.labels >= layer)
    colours = np.where(ldi.alphas[layer][..., None], ldi.colors[layer], ldi.colors[0])
    if known.all() or not known.any():
        return colours
    # distanceTransform labels every pixel with its nearest zero pixel (here: the known ones).
    _, labels = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    table = np.zeros((int(labels.max()) + 1, 3), np.uint8)
    table[labels[known]] = colours[known]
    return table[labels]


class _LayerGather:
    """The moving points of one layer that the renderer colours: texture, trajectories, switch times.

    Slots ``lo:hi`` of the renderer's moving arrays belong to this layer.
    """

    def __init__(self, lo: int, hi: int, texture: SupersampledTexture, origin: tuple[int, int]) -> None:
        self.lo, self.hi, self.texture, self.origin = lo, hi, texture, origin


class CinemagraphRenderer:
    """Prepared scene that renders any frame of the loop (see the module docstring).

    Args:
        ldi: the layered depth image (:func:`~cinema_dag.cinemagraph.ldi.build_ldi`).
        flow: ``float32 (H, W, 2)`` velocity in px/frame
            (:func:`~cinema_dag.cinemagraph.motion.motion_field`); zero everywhere gives a
            camera-only 3D photo.
        num_frames: frames in the loop, ``N`` (default :data:`DEFAULT_NUM_FRAMES`).
        camera: a :class:`~cinema_dag.cinemagraph.camera.CameraPath`, or a path kind / disaster
            name for :func:`~cinema_dag.cinemagraph.camera.camera_path` with default amplitude and
            period ``N``. Its period must divide ``N``.
        zoom: focal multiplier of the rendering camera, or ``"auto"`` for the smallest zoom that
            keeps the image borders covered (:func:`~cinema_dag.cinemagraph.camera.overscan_zoom`,
            1.0 for a still camera).
        kernel: sub-pixel resampling of the moving texture (:data:`~.resample.KERNELS`; default
            ``"sharp"``: filters designed for the texture, as crisp as the photo at every phase).
            Layers behind the visible one (seen only in disocclusion slivers) use ``"linear"``.
        crossfade: each pixel's cross-fade between the loop's two copies, as a fraction of the
            loop (:data:`~.loopblend.DEFAULT_CROSSFADE`; 1.0 = one loop-long blend).
        crack_fill: close one-pixel cracks where the camera magnifies a surface
            (:func:`~cinema_dag.cinemagraph.splat.fill_cracks`), once per pose.
        fill_holes: fill pixels no point reaches (background-weighted), so that no unfilled pixel
            remains; off, they stay black.
        device: torch device (default CPU); the same code runs on CUDA.
        seed: phases of a shake camera when ``camera`` is a name, and the pattern of the staggered
            cross-fade.
    """

    def __init__(
        self,
        ldi: LayeredDepthImage,
        flow: np.ndarray,
        *,
        num_frames: int = DEFAULT_NUM_FRAMES,
        camera: CameraPath | str = "none",
        zoom: float | str = "auto",
        kernel: str = DEFAULT_KERNEL,
        crossfade: float = DEFAULT_CROSSFADE,
        crack_fill: bool = True,
        fill_holes: bool = DEFAULT_FILL_HOLES,
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
        self.seed = seed
        self._ldi = ldi
        path, zoom_value = self._resolve_camera(camera, zoom)
        if kernel not in KERNELS:
            raise ValueError(f"unknown `kernel` {kernel!r}; valid kernels are: {', '.join(KERNELS)}")
        self.fade = fade_frames(self.num_frames, crossfade)
        self.path, self.zoom, self.kernel, self.crossfade = path, zoom_value, kernel, float(crossfade)
        self.crack_fill, self.fill_holes = bool(crack_fill), bool(fill_holes)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.size = (height, width)
        self.grid = PaddedGrid(height, width)
        dev = self.device
        f32 = dict(dtype=torch.float32, device=dev)

        # 2. Points, static ones first (a static point wins a depth tie), moving ones layer-major.
        fields = layer_flows(ldi, flow)
        flat = np.flatnonzero(ldi.alphas)  # layer-major, row-major: (layer * H + row) * W + col
        speed = np.abs(fields.reshape(-1, 2)).sum(1)
        moving = speed.take(flat) != 0.0
        flat = np.concatenate([flat[~moving], flat[moving]])
        layer, pixel = np.divmod(flat, height * width)
        row, col = np.divmod(pixel, width)
        self.n_points = n_points = len(flat)
        self.n_static = n_static = int((~moving).sum())
        self.n_moving = n_points - n_static
        self.sentinel = n_points
        self.empty = empty_key(self.sentinel)
        rgba = np.zeros((n_points + 1, 4), np.uint8)  # last row: the sentinel, alpha 0 = "no point"
        rgba[:n_points, :3] = ldi.colors.reshape(-1, 3).take(flat, axis=0)
        rgba[:n_points, 3] = 255
        self._colors32 = torch.from_numpy(rgba).to(dev).view(torch.int32).view(-1)  # packed RGBA

        # 3. Projection constants (per zoom) and the per-pose buffers.
        self._f = float(ldi.focal)
        self._ox, self._oy = (width - 1) / 2.0, (height - 1) / 2.0
        self._z = torch.from_numpy(ldi.depths.reshape(-1).take(flat)).to(**f32)
        self._xy = torch.from_numpy(np.stack([col, row]).astype(np.float32)).to(dev)  # (2, P)
        self._tolerance = crack_tolerance()
        self._project()

        # 4. Which moving points get colours: with a still camera only those that win a pixel in
        # its single pose (the visible surface); with a moving camera all of them.
        t_integrate = time.perf_counter()
        needed = np.arange(self.n_moving)
        if self.n_moving and path.is_still:
            self._splat(self._centre(0))
            ids = self._winner_ids()
            needed = np.unique(ids[(ids >= n_static) & (ids != self.sentinel)].cpu().numpy() - n_static)
        self._slot = torch.full((n_points + 1,), -1, dtype=torch.int64, device=dev)  # point id -> slot
        self._slot[torch.from_numpy(needed + n_static).to(dev)] = torch.arange(len(needed), device=dev)
        m_layer, m_row, m_col = layer[n_static:][needed], row[n_static:][needed], col[n_static:][needed]
        self.n_coloured = len(needed)
        # Decided by the camera, not by the scene (a still pose may happen to show every moving point).
        self._colours_every_moving_point = not path.is_still

        # 5. Per layer: texture, trajectories of both copies, switch times.
        n = self.n_coloured
        self._start = torch.from_numpy(np.stack([m_col, m_row], 1).astype(np.float32)).to(dev)  # (K, 2) px
        self._layer_flows: list[tuple[int, int, torch.Tensor]] = []  # (lo, hi, flow) per moving layer
        # Backward copy: N + 1 displacements per point in 1/2^q px, int16 (entry 0 is zero).
        bound = self.num_frames * float(np.abs(fields).max(initial=0.0)) + 2.0
        self._disp_bits = int(min(8, max(0, math.floor(math.log2(32000.0 / bound)))))
        dtype = torch.int16 if self._disp_bits > 0 or bound < 32000 else torch.int32
        self._disp = torch.zeros((self.num_frames + 1, n, 2), dtype=dtype, device=dev)
        self._gathers: list[_LayerGather] = []
        fresh_f: list[np.ndarray] = []  # frames each point's forward copy stays fresh
        fresh_b: list[np.ndarray] = []  # ... and its backward copy
        half = torch.tensor([(width - 1) / 2.0, (height - 1) / 2.0], **f32)
        self._half = half
        scale = float(1 << self._disp_bits)
        for k in np.unique(m_layer):
            lo, hi = (int(i) for i in np.searchsorted(m_layer, [k, k + 1]))
            flow_k = torch.from_numpy(fields[k]).to(**f32)
            start = self._start[lo:hi]
            self._layer_flows.append((lo, hi, flow_k))
            ahead = EulerIntegrator(flow_k, start, 1)
            behind = EulerIntegrator(flow_k, start, -1)
            speed_k = torch.from_numpy(np.abs(fields[k][m_row[lo:hi], m_col[lo:hi]]).sum(1)).to(**f32)
            fresh = [torch.full((hi - lo,), self.num_frames, **f32) for _ in range(2)]
            previous = [start.clone(), start.clone()]
            for i in range(1, self.num_frames + 1):
                ahead.step()
                behind.step()
                disp = (ahead.normalised_position - ahead.start_normalised).mul_(half * scale).round_()
                self._disp[i, lo:hi] = disp.to(dtype)
                # A copy is "fresh" while its trajectory still moves at >= half the pixel's own
                # speed; once it reaches the still edge of the mask it stalls there and shows the
                # edge's texture stretched (nothing flows in from beyond the mask).
                for j, integrator in enumerate((behind, ahead)):
                    now = integrator.position
                    stalled = (now - previous[j]).abs_().sum(1) < 0.5 * speed_k
                    fresh[j] = torch.where(stalled & (fresh[j] == self.num_frames), float(i - 1), fresh[j])
                    previous[j] = now
            fresh_f.append(fresh[0].cpu().numpy())
            fresh_b.append(fresh[1].cpu().numpy())
            r0, r1 = (
                max(0, int(m_row[lo:hi].min()) - _TEXTURE_MARGIN),
                min(height, int(m_row[lo:hi].max()) + _TEXTURE_MARGIN + 1),
            )
            c0, c1 = (
                max(0, int(m_col[lo:hi].min()) - _TEXTURE_MARGIN),
                min(width, int(m_col[lo:hi].max()) + _TEXTURE_MARGIN + 1),
            )
            detail = np.zeros((r1 - r0, c1 - c0), bool)
            detail[m_row[lo:hi] - r0, m_col[lo:hi] - c0] = True
            texture = SupersampledTexture(
                np.ascontiguousarray(layer_textures(ldi, int(k))[r0:r1, c0:c1]),
                kernel=kernel if k == 0 else "linear", detail=detail, device=dev,
            )
            self._gathers.append(_LayerGather(lo, hi, texture, (c0, r0)))
        self._start_forward()
        self._switch = torch.from_numpy(switch_times(
            (height, width), m_row, m_col, self.num_frames, self.fade, seed=seed,
            fresh_forward=np.concatenate(fresh_f) if fresh_f else None,
            fresh_backward=np.concatenate(fresh_b) if fresh_b else None,
        )).to(dev)
        integrate_s = time.perf_counter() - t_integrate

        self.stats: dict[str, Any] = {
            "height": height,
            "width": width,
            "num_frames": self.num_frames,
            "points": n_points,
            "static_points": n_static,
            "moving_points": self.n_moving,
            "coloured_points": self.n_coloured,
            "layers": ldi.num_layers,
            "camera": path.kind,
            "camera_period": path.period,
            "camera_amplitude": list(path.amplitude),
            "zoom": self.zoom,
            "kernel": kernel,
            "upsample": self._gathers[0].texture.upsample if self._gathers else 0,
            "crossfade_frames": self.fade,
            "device": str(dev),
            "integrate_s": integrate_s,
            "prepare_s": time.perf_counter() - t_start,
        }

    # ------------------------------------------------------------------------------------------
    def with_camera(self, camera: CameraPath | str, zoom: float | str = "auto") -> CinemagraphRenderer:
        """The same loop under another camera, without preparing the scene again.

        The points, textures, trajectories and cross-fade pattern are shared (read-only); only the
        projection and the per-frame state are new, so this costs a small part of the set-up. The
        quality measures use it for a still-camera pass of a video whose camera moves (flicker
        outside the moving region is only visible with a still camera).

        A renderer made for a still camera colours only the moving points its one pose shows, so it
        cannot take a moving camera: make the moving one first.

        Args:
            camera: as in the constructor (a path kind is built with this renderer's ``seed``).
            zoom: as in the constructor.
        """
        path, zoom_value = self._resolve_camera(camera, zoom)
        if not path.is_still and not self._colours_every_moving_point:
            raise ValueError("this renderer was made for a still camera and colours only the moving points that "
                             "camera sees; make the renderer with the moving camera, then ask it for a still one")
        other = shallow_copy(self)
        other.path, other.zoom = path, zoom_value
        other.stats = {**self.stats, "camera": path.kind, "camera_period": path.period,
                       "camera_amplitude": list(path.amplitude), "zoom": zoom_value}
        other._project()
        other._start_forward()
        return other

    def _resolve_camera(self, camera: CameraPath | str, zoom: float | str) -> tuple[CameraPath, float]:
        path = camera if isinstance(camera, CameraPath) else camera_path(camera, self.num_frames, seed=self.seed)
        if self.num_frames % path.period:
            raise ValueError(f"the camera period {path.period} must divide num_frames={self.num_frames}")
        if zoom == "auto":
            return path, overscan_zoom(path, self._ldi.depth, focal=self._ldi.focal)
        if isinstance(zoom, (int, float)) and not isinstance(zoom, bool) and 0.25 <= zoom <= 4.0:
            return path, float(zoom)
        raise ValueError(f'`zoom` must be "auto" or a number in [0.25, 4]; got {zoom!r}')

    def _project(self) -> None:
        """Projection constants of the zoom, and fresh per-pose buffers.

        Rendering camera: focal s*f, principal point (ox, oy); a point at pixel x and depth Z lands
        at  x' + q = (A - a_t) / (Z - cz)  with A = Z (s (x - ox) + ox + q) and
        a_t = s f cx + (ox + q) cz; q = PAD + 0.5 folds the rounding and the grid's border into the
        constants. (2, P) rows: the same op on a (P, 2) layout is 5-10x slower on CPU.
        """
        dev, n_points = self.device, self.n_points
        f32 = dict(dtype=torch.float32, device=dev)
        centre = torch.tensor([[self._ox], [self._oy]], **f32)
        self._ab = (self._z[None] * (self.zoom * (self._xy - centre) + centre + (PAD + 0.5))).contiguous()
        self._keys = torch.empty(n_points, dtype=torch.int64, device=dev)
        self._keys.view(torch.int32).view(-1, 2)[:, LO_WORD] = torch.arange(n_points, dtype=torch.int32, device=dev)
        self._pix = torch.empty(n_points, dtype=torch.int64, device=dev)
        self._uv = torch.empty((2, n_points), **f32)
        self._r = torch.empty(n_points, **f32)
        self._pixf = torch.empty(n_points, **f32)
        self._buffer = self.grid.new_buffer(self.empty, dev)
        self._crack_work = torch.empty(2 * self.grid.numel, dtype=torch.int64, device=dev)
        self._frame32 = torch.zeros(self.grid.numel, dtype=torch.int32, device=dev)
        self._pose: tuple[float, float, float] | None = None
        self._holes_now = 0
        self._base32: torch.Tensor | None = None  # still camera: the frame before moving colours

    def _start_forward(self) -> None:
        """The forward copy's trajectories at frame 0 (stepped as frames are rendered)."""
        self._live = torch.empty((self.n_coloured, 2), dtype=torch.float32, device=self.device)
        self._forward = [EulerIntegrator(flow, self._start[lo:hi], -1, buffer=self._live[lo:hi])
                         for lo, hi, flow in self._layer_flows]
        self._forward_step = 0

    def _centre(self, t: int) -> tuple[float, float, float]:
        return tuple(float(c) for c in self.path.centres([t])[0])  # type: ignore[return-value]

    def _splat(self, centre: tuple[float, float, float]) -> None:
        """Every point into the key buffer for a camera at ``centre``; cracks closed."""
        buffer = self._buffer
        buffer.fill_(self.empty)
        if self.n_points:
            cx, cy, cz = centre
            depth = self._keys.view(torch.int32).view(-1, 2)[:, HI_WORD].view(torch.float32)
            torch.sub(self._z, cz, out=depth)
            torch.reciprocal(depth, out=self._r)
            s = self.zoom
            a_t = torch.tensor(
                [[s * self._f * cx + (self._ox + PAD + 0.5) * cz], [s * self._f * cy + (self._oy + PAD + 0.5) * cz]],
                dtype=torch.float32, device=self.device,
            )
            uv = torch.sub(self._ab, a_t, out=self._uv).mul_(self._r[None])
            uv[0].clamp_(0.0, self.grid.padded_width - 1.0)
            uv[1].clamp_(0.0, self.grid.padded_height - 1.0).floor_()
            # Columns are >= 0, so the int conversion's truncation floors them.
            torch.add(uv[0], uv[1], alpha=self.grid.padded_width, out=self._pixf)
            self._pix.copy_(self._pixf)
            buffer.scatter_reduce_(0, self._pix, self._keys, reduce="amin")
        self.grid.clear_border(buffer, self.empty)
        if self.crack_fill:
            fill_cracks(self.grid.view2d(buffer), self._tolerance, self._crack_work)
        self._pose = centre

    def _winner_ids(self) -> torch.Tensor:
        """Point id of every padded pixel (the sentinel where empty), ``int32 (numel,)`` view."""
        return self._buffer.view(torch.int32)[LO_WORD::2]

    def _advance_forward(self, steps: int) -> None:
        if steps < self._forward_step:
            for integrator in self._forward:
                integrator.reset()
            self._forward_step = 0
        while self._forward_step < steps:
            for integrator in self._forward:
                integrator.step()
            self._forward_step += 1

    def _moving_colours(self, t: int, slots: torch.Tensor) -> torch.Tensor:
        """Packed RGBA colours at frame ``t`` of the coloured moving points ``slots`` (``int64 (K,)``)."""
        out = torch.empty(len(slots), dtype=torch.int32, device=self.device)
        if len(slots) == 0:
            return out
        weight = backward_weight(self._switch[slots], t, self.fade)
        need_forward, need_backward = weight < 1.0, weight > 0.0
        if bool(need_forward.any()):
            self._advance_forward(t)
        scale = 1.0 / float(1 << self._disp_bits)
        for gather in self._gathers:
            if len(self._gathers) == 1:
                local = torch.arange(len(slots), device=self.device)
            else:
                local = ((slots >= gather.lo) & (slots < gather.hi)).nonzero().squeeze(1)
            if local.numel() == 0:
                continue
            c0, r0 = gather.origin
            for copy, need in ((0, need_forward), (1, need_backward)):
                which = local[need[local]]
                if which.numel() == 0:
                    continue
                s = slots[which]
                if copy == 0:  # the live normalised positions, to pixels
                    pos = torch.index_select(self._live, 0, s).add_(1.0).mul_(self._half)
                else:
                    pos = torch.index_select(self._disp[self.num_frames - t], 0, s).float().mul_(scale)
                    pos += torch.index_select(self._start, 0, s)
                colours = gather.texture.lookup(pos[:, 0].sub_(c0).contiguous(), pos[:, 1].sub_(r0).contiguous())
                if copy == 0:
                    out.index_copy_(0, which, colours)
                    continue
                mixed = need_forward[which]
                if bool(mixed.any()):
                    both = which[mixed]
                    w = weight[both][:, None]
                    forward = torch.index_select(out, 0, both).view(torch.uint8).view(-1, 4).float()
                    backward = colours[mixed].view(torch.uint8).view(-1, 4).float()
                    # A lerp of values in [0, 255] stays there: + 0.5 and truncation round.
                    colours[mixed] = (
                        torch.lerp(forward, backward, w).add_(0.5).to(torch.uint8).view(torch.int32).view(-1)
                    )
                out.index_copy_(0, which, colours)
        return out

    def _colour_frame(self) -> None:
        """The frame of the current pose with source colours (packed, padded grid; border -1)."""
        wp = self.grid.padded_width
        torch.index_select(self._colors32, 0, self._winner_ids(), out=self._frame32)
        grid = self._frame32.view(-1, wp)
        grid[:, :PAD] = -1  # opaque white, never shown: only sentinel colours pack to 0 (holes)
        grid[:, -PAD:] = -1

    def _fill(self) -> int:
        """Count (and fill) the holes of the frame; returns the count before filling."""
        hp, wp = self.grid.padded_height, self.grid.padded_width
        rows32 = self._frame32[PAD * wp : (hp - PAD) * wp]
        if int(rows32.max()) != 0:
            # Real points have alpha 255 in the top byte (negative int32), the border columns -1;
            # only the sentinel packs to 0, so a maximum below 0 means no hole.
            return 0
        holes = (rows32 == 0).view(hp - 2 * PAD, wp)
        n_holes = int(holes.sum())
        if n_holes == 0 or not self.fill_holes:
            return n_holes
        # Valid pixels weigh by depth, so a disocclusion shows the background; the border columns
        # (never shown) and empty pixels weigh 0.
        keys = self._buffer[PAD * wp : (hp - PAD) * wp]
        depth = keys.view(torch.int32)[HI_WORD::2].view(torch.float32).view(hp - 2 * PAD, wp).clone()
        depth.nan_to_num_(posinf=0.0)
        depth[:, :PAD] = 0.0
        depth[:, -PAD:] = 0.0
        fill_holes_tiled(rows32.view(torch.uint8).view(hp - 2 * PAD, wp, 4), holes, depth)
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
        wp = self.grid.padded_width
        centre = self._centre(t)
        if self.path.is_still and self._base32 is not None:
            if self._holes_now:
                self._frame32.copy_(self._base32)  # holes are filled from neighbours that move
        else:
            if centre != self._pose:
                self._splat(centre)
            self._colour_frame()
            if self.path.is_still:
                self._base32 = self._frame32.clone()
                self._holes_now = -1
            if self.n_coloured:
                ids = self._winner_ids()
                self._moving_pix = ((ids >= self.n_static) & (ids != self.sentinel)).nonzero().squeeze(1)
                self._moving_slots = torch.index_select(
                    self._slot, 0, torch.index_select(ids, 0, self._moving_pix).long()
                )
        if self.n_coloured and len(self._moving_pix):
            self._frame32.index_copy_(0, self._moving_pix, self._moving_colours(t, self._moving_slots))
        n_holes = self._fill()
        if self.path.is_still and self._holes_now == -1:
            self._holes_now = n_holes
        frame = self._frame32.view(torch.uint8).view(self.grid.padded_height, wp, 4)[PAD:-PAD, PAD:-PAD]
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


def render_cinemagraph(ldi: LayeredDepthImage, flow: np.ndarray, **options: Any) -> RenderResult:
    """Render a seamless loop of ``ldi`` animated by ``flow`` (:class:`CinemagraphRenderer` in one call).

    Args:
        ldi, flow: the scene, as for :class:`CinemagraphRenderer`.
        **options: any keyword argument of :class:`CinemagraphRenderer` (``num_frames``, ``camera``,
            ``zoom``, ``kernel``, ``crossfade``, ``crack_fill``, ``fill_holes``, ``device``, ``seed``),
            with its defaults: they are defined there only.

    Returns:
        :class:`RenderResult` with ``frames`` ``uint8 (N, H, W, 3)`` and ``stats``.

    Example:
        >>> from cinema_dag.cinemagraph.ldi import build_ldi
        >>> img = np.full((8, 8, 3), 100, np.uint8); depth = np.ones((8, 8), np.float32)
        >>> result = render_cinemagraph(build_ldi(img, depth), np.zeros((8, 8, 2), np.float32), num_frames=4)
        >>> result.frames.shape, bool((result.frames == img).all())
        ((4, 8, 8, 3), True)
    """
    return CinemagraphRenderer(ldi, flow, **options).render()
