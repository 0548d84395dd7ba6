"""One call from picture, disparity and mask to a looping cinemagraph (all engine stages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._checks import check_image, check_map, check_mask, check_same_size
from .animate import DEFAULT_NUM_FRAMES, CinemagraphRenderer
from .camera import CameraPath, default_camera_kind
from .depth import DEFAULT_MAX_DEPTH, disparity_to_depth
from .ldi import DEFAULT_NUM_LAYERS, Inpainter, LayeredDepthImage, build_ldi
from .motion import motion_field

__all__ = ["CinemagraphResult", "make_cinemagraph"]


@dataclass
class CinemagraphResult:
    """Everything :func:`make_cinemagraph` produced.

    Attributes:
        frames: ``uint8 (N, H, W, 3)``.
        depth: ``float32 (H, W)`` depth, nearest = 1.
        ldi: the layered depth image.
        flow: ``float32 (H, W, 2)`` velocity, px/frame.
        stats: render statistics (see :class:`~cinema_dag.cinemagraph.animate.RenderResult`).
        renderer: the prepared renderer, for more frames of the same loop (frame N for the seam, a
            still-camera pass with :meth:`~cinema_dag.cinemagraph.animate.CinemagraphRenderer.with_camera`).
    """

    frames: np.ndarray
    depth: np.ndarray
    ldi: LayeredDepthImage
    flow: np.ndarray
    stats: dict[str, Any]
    renderer: CinemagraphRenderer


def make_cinemagraph(
    image: np.ndarray,
    disparity: np.ndarray,
    mask: np.ndarray,
    disaster: str,
    *,
    arrows: Sequence[Sequence[float]] | np.ndarray | None = None,
    seed: int = 0,
    num_frames: int = DEFAULT_NUM_FRAMES,
    camera: CameraPath | str | None = None,
    num_layers: int = DEFAULT_NUM_LAYERS,
    max_depth: float = DEFAULT_MAX_DEPTH,
    inpainter: Inpainter | None = None,
    device: torch.device | str | None = None,
) -> CinemagraphResult:
    """Depth, LDI, motion field and render in one call.

    Args:
        image: ``uint8 (H, W, 3)`` RGB.
        disparity: ``(H, W)`` DPT relative inverse depth (NaN/inf and constant maps are handled,
            see :func:`~cinema_dag.cinemagraph.depth.disparity_to_depth`).
        mask: ``(H, W)`` bool region that moves (may be empty: a camera-only 3D photo).
        disaster: disaster key or name; picks the motion kind and the default camera path.
        arrows: optional user hints ``(x0, y0, x1, y1)`` in pixels (override the automatic ones).
        seed: phases of the automatic hints and of a shake camera.
        num_frames: frames in the loop.
        camera: a path, a path kind, or ``None`` for the disaster's default (earthquake: shake).
        num_layers: LDI layers.
        max_depth: far clip of the depth.
        inpainter: colour inpainter for hidden LDI pixels (default Telea).
        device: torch device for the render.

    Raises:
        ValueError: when the image, disparity and mask sizes differ (naming all three sizes), or
            any input is malformed.
    """
    image = check_image(image)
    disparity = check_map(disparity, "disparity")
    mask = check_mask(mask)
    check_same_size(image=image, disparity=disparity, mask=mask)
    depth = disparity_to_depth(disparity, max_depth=max_depth)
    ldi = build_ldi(image, depth, num_layers=num_layers, inpainter=inpainter)
    flow = motion_field(disaster, mask, depth, arrows=arrows, seed=seed)
    path = default_camera_kind(disaster) if camera is None else camera
    renderer = CinemagraphRenderer(ldi, flow, num_frames=num_frames, camera=path, device=device, seed=seed)
    result = renderer.render()
    return CinemagraphResult(frames=result.frames, depth=depth, ldi=ldi, flow=flow, stats=result.stats,
                             renderer=renderer)
