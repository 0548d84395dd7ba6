"""Euler integration of a constant (Eulerian) velocity field, once and cumulatively.

Holynski et al. and 3d-cinemagraphy move each pixel ``t`` times ``x <- x + M(x)`` to reach frame
``t``, recomputing from scratch for every frame: O(N^2) steps per video, with nearest-pixel sampling.
Here every point is stepped once per frame and the state is kept, so a whole loop costs O(N) steps,
and ``M`` is sampled bilinearly (``grid_sample``) so slow fluids move smoothly.

Convention: positions and velocities are ``(x, y)`` in pixels (pixel centres at integers);
``flow[..., 0]`` is the x velocity. Outside the image the velocity is zero (a point that leaves the
frame stops there and is clipped by the renderer). Internally positions live in ``grid_sample``'s
normalised coordinates (``align_corners=True``: pixel 0 -> -1, pixel W-1 -> +1), where one step is
one ``grid_sample`` and one add.
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


def _check_count(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}")
    return value


def _scale(size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    height, width = size
    return torch.tensor([2.0 / (width - 1), 2.0 / (height - 1)], dtype=like.dtype, device=like.device)


def to_normalised(positions: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Pixel ``(x, y)`` (``(..., 2)``) to normalised grid coordinates for an image of ``size = (H, W)``."""
    return positions * _scale(size, positions) - 1.0


def from_normalised(positions: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`to_normalised`."""
    return (positions + 1.0) / _scale(size, positions)


class EulerIntegrator:
    """Steps points through ``flow`` one frame at a time; ``direction=-1`` follows ``-flow``.

    Args:
        flow: ``(H, W, 2)`` float velocity in px/frame.
        start: ``(P, 2)`` start positions ``(x, y)`` in pixels.
        direction: +1 or -1.
        buffer: optional ``(P, 2)`` tensor (flow's dtype and device) to hold the live normalised
            positions, e.g. a slice of a larger buffer shared by several integrators.

    Example:
        >>> flow = torch.zeros(4, 5, 2); flow[..., 0] = 0.5
        >>> it = EulerIntegrator(flow, torch.tensor([[1.0, 2.0]]))
        >>> it.step(); it.step(); it.position
        tensor([[2., 2.]])
    """

    def __init__(
        self, flow: torch.Tensor, start: torch.Tensor, direction: int = 1, *, buffer: torch.Tensor | None = None
    ) -> None:
        _check_flow(flow)
        if direction not in (1, -1):
            raise ValueError(f"`direction` must be +1 or -1; got {direction!r}")
        if start.ndim != 2 or start.shape[1] != 2:
            raise ValueError(f"`start` must be (P, 2); got {tuple(start.shape)}")
        self.size = (int(flow.shape[0]), int(flow.shape[1]))
        scale = _scale(self.size, flow)
        self._field = (flow * (scale * direction)).permute(2, 0, 1).unsqueeze(0).contiguous()  # 1x2xHxW
        self._start = to_normalised(start.to(flow.dtype), self.size).contiguous()  # Px2
        if buffer is None:
            self._grid = self._start.clone()
        else:
            if buffer.shape != self._start.shape or buffer.dtype != flow.dtype or not buffer.is_contiguous():
                raise ValueError(
                    f"`buffer` must be a contiguous {flow.dtype} tensor of shape {tuple(self._start.shape)}; "
                    f"got {buffer.dtype} {tuple(buffer.shape)}"
                )
            self._grid = buffer
            self._grid.copy_(self._start)
        # grid_sample returns channels first (an x row, a y row); adding them to the interleaved
        # (x, y) positions through a complex view keeps the add contiguous (a transposed add is
        # several times slower on CPU).
        self._as_complex = torch.view_as_complex(self._grid) if len(self._grid) else None
        self.steps = 0

    @property
    def start_normalised(self) -> torch.Tensor:
        """Start positions in normalised coordinates ``(P, 2)`` (do not modify)."""
        return self._start

    @property
    def normalised_position(self) -> torch.Tensor:
        """Current positions in normalised coordinates ``(P, 2)`` (the live buffer: do not modify)."""
        return self._grid

    @property
    def position(self) -> torch.Tensor:
        """Current positions ``(P, 2)`` in pixels (a new tensor)."""
        return from_normalised(self._grid, self.size)

    def reset(self) -> None:
        """Back to the start positions (step 0)."""
        self._grid.copy_(self._start)
        self.steps = 0

    def step(self) -> None:
        """One Euler step: ``x <- x + M(x)`` with bilinear ``M``."""
        self.steps += 1
        n = self._grid.shape[0]
        if n == 0:
            return
        velocity = F.grid_sample(
            self._field, self._grid.view(1, 1, n, 2), mode="bilinear", padding_mode="zeros", align_corners=True
        ).view(2, n)
        self._as_complex += torch.complex(velocity[0], velocity[1])


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
    _check_count(num_steps, "num_steps", 0)
    integrator = EulerIntegrator(flow, start, direction)
    out = torch.empty((num_steps + 1, start.shape[0], 2), dtype=flow.dtype, device=flow.device)
    out[0] = start
    for i in range(1, num_steps + 1):
        integrator.step()
        out[i] = integrator.position
    return out


def integrate_loop(flow: torch.Tensor, start: torch.Tensor, num_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Both halves of a symmetric loop.

    Frame ``t`` of an ``N``-frame loop shows the points moved ``t`` steps along ``+M`` (forward
    set) and ``N - t`` steps along ``-M`` (backward set). Each direction is stepped N times: O(N).

    Args:
        flow: ``(H, W, 2)`` velocity in px/frame.
        start: ``(P, 2)`` start positions in pixels.
        num_frames: ``N`` >= 1.

    Returns:
        ``forward`` and ``backward`` positions in pixels, ``(N + 1, P, 2)`` each; frame ``t`` uses
        ``forward[t]`` and ``backward[N - t]``. Entry 0 of both is the start.
    """
    _check_count(num_frames, "num_frames", 1)
    return (
        integrate_flow(flow, start, num_frames, direction=1),
        integrate_flow(flow, start, num_frames, direction=-1),
    )
