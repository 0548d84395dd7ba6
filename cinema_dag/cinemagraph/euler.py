"""Euler integration of a constant (Eulerian) velocity field, once and cumulatively.

Holynski et al. and 3d-cinemagraphy move each pixel ``t`` times ``x <- x + M(x)`` to reach frame
``t``, recomputing from scratch for every frame: O(N^2) steps per video, with nearest-pixel sampling.
Here every point is stepped once per frame and the positions are kept, so a whole loop costs O(N)
steps, and ``M`` is sampled bilinearly (``grid_sample``) so slow fluids move smoothly.

Convention: positions and velocities are ``(x, y)`` in pixels (pixel centres at integers);
``flow[..., 0]`` is the x velocity. Outside the image the velocity is zero (a point that leaves the
frame stops there and is clipped by the renderer).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["EulerIntegrator", "integrate_flow", "integrate_loop", "to_normalised", "from_normalised"]


def _check_flow(flow: torch.Tensor) -> None:
    if not isinstance(flow, torch.Tensor) or flow.ndim != 3 or flow.shape[-1] != 2 or not flow.is_floating_point():
        shape = tuple(flow.shape) if isinstance(flow, torch.Tensor) else type(flow).__name__
        raise ValueError(f"`flow` must be a floating tensor of shape (H, W, 2); got {shape}")
    if flow.shape[0] < 2 or flow.shape[1] < 2:
        raise ValueError(f"`flow` must be at least 2x2; got {tuple(flow.shape)}")


def to_normalised(positions: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Pixel ``(x, y)`` to ``grid_sample`` coordinates (``align_corners=True``): 0 -> -1, W-1 -> +1."""
    height, width = size
    scale = torch.tensor([2.0 / (width - 1), 2.0 / (height - 1)], dtype=positions.dtype, device=positions.device)
    return positions * scale - 1.0


def from_normalised(positions: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`to_normalised`."""
    height, width = size
    half = torch.tensor([(width - 1) / 2.0, (height - 1) / 2.0], dtype=positions.dtype, device=positions.device)
    return (positions + 1.0) * half


class EulerIntegrator:
    """Steps points through ``flow``; ``direction=-1`` follows ``-flow`` (the backward loop half).

    Internally positions live in ``grid_sample``'s normalised [-1, 1] coordinates and the field is
    pre-scaled to them, so one step is one ``grid_sample`` and one add.

    Args:
        flow: ``(H, W, 2)`` float velocity in px/frame.
        start: ``(P, 2)`` start positions ``(x, y)`` in pixels.
        direction: +1 or -1.

    Example:
        >>> flow = torch.zeros(4, 5, 2); flow[..., 0] = 0.5
        >>> it = EulerIntegrator(flow, torch.tensor([[1.0, 2.0]]))
        >>> it.step(); it.step(); it.position
        tensor([[2., 2.]])
    """

    def __init__(self, flow: torch.Tensor, start: torch.Tensor, direction: int = 1) -> None:
        _check_flow(flow)
        if direction not in (1, -1):
            raise ValueError(f"`direction` must be +1 or -1; got {direction!r}")
        if start.ndim != 2 or start.shape[1] != 2:
            raise ValueError(f"`start` must be (P, 2); got {tuple(start.shape)}")
        height, width = flow.shape[:2]
        dtype = flow.dtype
        # pixel -> normalised: n = p * scale - 1 (align_corners=True: pixel 0 -> -1, W-1 -> +1).
        self._scale = torch.tensor([2.0 / (width - 1), 2.0 / (height - 1)], dtype=dtype, device=flow.device)
        field = (flow * (self._scale * direction)).permute(2, 0, 1).unsqueeze(0).contiguous()  # 1x2xHxW
        self._field = field
        self._pos = (start.to(dtype) * self._scale - 1.0).contiguous()  # Px2, normalised
        self.steps = 0

    @property
    def position(self) -> torch.Tensor:
        """Current positions ``(P, 2)`` in pixels (a new tensor)."""
        return (self._pos + 1.0) / self._scale

    @property
    def normalised_position(self) -> torch.Tensor:
        """Current positions in [-1, 1] grid coordinates (the live buffer: do not modify)."""
        return self._pos

    def step(self) -> None:
        """One Euler step: ``x <- x + M(x)`` with bilinear ``M``."""
        if self._pos.shape[0] == 0:
            self.steps += 1
            return
        velocity = F.grid_sample(
            self._field, self._pos.view(1, 1, -1, 2), mode="bilinear", padding_mode="zeros", align_corners=True
        )  # 1x2x1xP
        self._pos += velocity.view(2, -1).t()
        self.steps += 1


def integrate_flow(flow: torch.Tensor, start: torch.Tensor, num_steps: int, *, direction: int = 1) -> torch.Tensor:
    """Positions of points after 0, 1, ..., ``num_steps`` Euler steps.

    Args:
        flow: ``(H, W, 2)`` velocity in px/frame.
        start: ``(P, 2)`` start positions in pixels.
        num_steps: number of steps, >= 0.
        direction: +1 follows ``flow``, -1 follows ``-flow``.

    Returns:
        ``(num_steps + 1, P, 2)`` positions in pixels; entry 0 is ``start``.
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 0:
        raise ValueError(f"`num_steps` must be an integer >= 0; got {num_steps!r}")
    integrator = EulerIntegrator(flow, start, direction)
    out = torch.empty((num_steps + 1, start.shape[0], 2), dtype=flow.dtype, device=flow.device)
    out[0] = start
    for i in range(1, num_steps + 1):
        integrator.step()
        out[i] = integrator.position
    return out


def integrate_loop(
    flow: torch.Tensor, start: torch.Tensor, num_frames: int, *, normalised: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both halves of a symmetric loop, integrated together.

    Frame ``t`` of an ``N``-frame loop shows the points moved ``t`` steps along ``+M`` (forward
    set) and ``N - t`` steps along ``-M`` (backward set). Each direction is stepped N times and
    every step is kept: O(N) steps per loop, not O(N^2).

    Args:
        flow: ``(H, W, 2)`` velocity in px/frame.
        start: ``(P, 2)`` start positions in pixels.
        num_frames: ``N`` >= 1.
        normalised: return positions in [-1, 1] grid coordinates (see :func:`to_normalised`)
            instead of pixels.

    Returns:
        ``forward`` and ``backward``, ``(N + 1, P, 2)`` each; ``forward[0]`` and ``backward[0]``
        are bit-identical (the start), so frame N reproduces frame 0 exactly.
    """
    _check_flow(flow)
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"`num_frames` must be a positive integer; got {num_frames!r}")
    if start.ndim != 2 or start.shape[1] != 2:
        raise ValueError(f"`start` must be (P, 2); got {tuple(start.shape)}")
    size = (int(flow.shape[0]), int(flow.shape[1]))
    dtype, device = flow.dtype, flow.device
    n_points = start.shape[0]
    forward = torch.empty((num_frames + 1, n_points, 2), dtype=dtype, device=device)
    backward = torch.empty_like(forward)
    pos = to_normalised(start.to(dtype), size)  # Px2
    forward[0] = pos
    backward[0] = pos
    if n_points:
        scale = torch.tensor([2.0 / (size[1] - 1), 2.0 / (size[0] - 1)], dtype=dtype, device=device)
        field = (flow * scale).permute(2, 0, 1).unsqueeze(0).contiguous()  # 1x2xHxW, normalised units
        for sign, out in ((1.0, forward), (-1.0, backward)):
            signed = field if sign > 0 else -field
            grid = pos.clone().view(1, 1, n_points, 2)
            # grid_sample returns channels first (x row, y row); adding them to the interleaved
            # (x, y) positions through a complex view keeps the add contiguous (a transposed add is
            # several times slower on CPU).
            as_complex = torch.view_as_complex(grid.view(n_points, 2))
            for i in range(1, num_frames + 1):
                velocity = F.grid_sample(signed, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
                velocity = velocity.view(2, n_points)
                as_complex += torch.complex(velocity[0], velocity[1])
                out[i] = grid.view(n_points, 2)
    if not normalised:
        forward = from_normalised(forward, size)
        backward = from_normalised(backward, size)
    return forward, backward
