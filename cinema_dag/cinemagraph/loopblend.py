"""Staggered cross-fade of the symmetric loop: each pixel switches copies at its own time.

Frame ``t`` of the loop shows, at each moving pixel, the texture carried ``t`` steps forward (the
"forward copy") or ``N - t`` steps backward (the "backward copy"); frame 0 is the forward copy
unmoved and frame ``N`` the backward copy unmoved, so the loop closes exactly. Holynski et al. and
3d-cinemagraphy blend the two with weight ``t / N`` everywhere at once: around ``t = N / 2`` every
pixel averages two unrelated displaced textures (a double image; the texture's detail drops to
~70%). Here each pixel ``p`` cross-fades over only ``fade`` frames, centred on its own switch time
``s(p)`` (as in Liao et al., *Automated video looping with progressive dynamism*, 2013, where
pixels loop with staggered phases): at any frame only about ``fade / (N - fade)`` of the pixels are
mid-fade, and their switch times form a smooth random field (neighbours fade together, so no
speckle), equalised so the fading pixels are as many in every frame (no frame steps more than
another).

The weight of the backward copy is ``smoothstep((t - s(p)) / fade + 1/2)``, exactly 0 at ``t = 0``
and exactly 1 at ``t = N`` for every pixel (``fade / 2 <= s(p) <= N - fade / 2``).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from cinema_dag.defaults import DEFAULT_CROSSFADE

__all__ = ["DEFAULT_CROSSFADE", "fade_frames", "switch_times", "backward_weight"]

# DEFAULT_CROSSFADE: the length of each pixel's cross-fade as a fraction of the loop (0.25: 15 frames
# of a 60-frame loop, 0.6 s at 25 fps); 1.0 gives the classic loop-long blend (every pixel switches at N/2).


def fade_frames(num_frames: int, crossfade: float = DEFAULT_CROSSFADE) -> float:
    """The cross-fade length in frames: ``crossfade * N``, at least 2 frames (at most ``N``)."""
    if not 0.0 < crossfade <= 1.0:
        raise ValueError(f"`crossfade` must be in (0, 1]; got {crossfade!r}")
    return float(min(num_frames, max(2.0, crossfade * num_frames)))


def switch_times(
    shape: tuple[int, int],
    rows: np.ndarray,
    cols: np.ndarray,
    num_frames: int,
    fade: float,
    *,
    seed: int = 0,
    fresh_forward: np.ndarray | None = None,
    fresh_backward: np.ndarray | None = None,
) -> np.ndarray:
    """Switch time ``s(p)`` of each given pixel: a smooth random field, rank-equalised over them,
    placed where both copies are still fresh.

    A copy goes stale when its trajectory reaches the still edge of the moving region (the forward
    copy after ``fresh_forward`` frames, the backward copy before frame ``N - fresh_backward``):
    from then on it shows the edge's texture stretched. Each pixel therefore switches inside
    ``[N - fresh_backward, fresh_forward]`` (at the random field's rank within it), or half-way
    between the two when that window is empty (a fast flow through a short region).

    Args:
        shape: image ``(H, W)``.
        rows, cols: ``(K,)`` the pixels (e.g. the moving points' source pixels).
        num_frames: ``N``.
        fade: cross-fade length in frames (:func:`fade_frames`).
        seed: the random field.
        fresh_forward, fresh_backward: ``(K,)`` frames each copy stays fresh (default: all ``N``).

    Returns:
        ``float32 (K,)`` in ``[fade / 2, N - fade / 2]``; pixels at the same position get the same time.
    """
    rows, cols = np.asarray(rows), np.asarray(cols)
    low, high = fade / 2.0, num_frames - fade / 2.0
    if len(rows) == 0 or high <= low:
        return np.full(len(rows), (low + high) / 2.0, np.float32)
    height, width = shape
    rng = np.random.default_rng(seed)
    # Smooth noise: white noise on a coarse grid (~8 cells along the longer side), upsampled and
    # blurred, so pixels fade in blobs about 1/8 of the picture across.
    side = max(height, width)
    small = rng.standard_normal((max(3, round(8 * height / side) + 2), max(3, round(8 * width / side) + 2)))
    field = cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    field = cv2.GaussianBlur(field, (0, 0), sigmaX=max(1.0, side / 32.0))
    # Rank-equalise over the distinct pixels (the points of several layers at one pixel share a time).
    flat = rows.astype(np.int64) * width + cols
    unique, inverse = np.unique(flat, return_inverse=True)
    order = np.argsort(field[unique // width, unique % width], kind="stable")
    ranks = np.empty(len(unique), np.float64)
    ranks[order] = (np.arange(len(unique)) + 0.5) / len(unique)
    u = ranks[inverse]
    if fresh_forward is None or fresh_backward is None:
        return (low + (high - low) * u).astype(np.float32)
    first = np.clip(num_frames - np.asarray(fresh_backward, np.float64), low, high)
    last = np.clip(np.asarray(fresh_forward, np.float64), low, high)
    window = last >= first
    times = np.where(window, first + (last - first) * u, (first + last) / 2.0)
    return times.astype(np.float32)


def backward_weight(switch: torch.Tensor, t: int, fade: float) -> torch.Tensor:
    """Weight of the backward copy at frame ``t``: ``float32``, 0 before ``s - fade/2``, 1 after ``s + fade/2``."""
    x = (switch - float(t)).div_(-fade).add_(0.5).clamp_(0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)
