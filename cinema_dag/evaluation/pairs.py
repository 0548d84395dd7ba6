"""Pairwise metrics (SSIM, LPIPS) between two unpaired image sets: the mean over image pairs.

Generated images have no "ground-truth" partner among the scraped photos, so a set-to-set SSIM or
LPIPS is the mean over (generated, reference) pairs: every pair when there are at most
``max_pairs``, else a fixed-seed sample of ``max_pairs`` distinct pairs (so the cost stays bounded
on 200 x 200 sets and the number is reproducible).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .images import as_rgb_list, square_resize

__all__ = [
    "DEFAULT_MAX_PAIRS",
    "DEFAULT_PAIR_SIZE",
    "PairDistance",
    "sample_pairs",
    "mean_over_pairs",
    "ssim",
    "set_ssim",
]

DEFAULT_MAX_PAIRS = 1000
"""Pairs measured at most per set comparison (SSIM takes ~4 ms a pair at 256², one thread)."""

DEFAULT_PAIR_SIZE = 256
"""Side of the square both images of a pair are brought to (centre crop, Lanczos)."""

PairDistance = Callable[[np.ndarray, np.ndarray], float]
"""A pairwise metric of two ``uint8 (S, S, 3)`` images of the same size."""


def sample_pairs(n_a: int, n_b: int, max_pairs: int = DEFAULT_MAX_PAIRS, seed: int = 0) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < n_a``, ``j < n_b``: all of them, or ``max_pairs`` distinct ones
    drawn with ``seed``.

    Returns:
        ``int64 (P, 2)``, sorted.

    Example:
        >>> sample_pairs(2, 3).tolist()
        [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
        >>> len(sample_pairs(100, 100, max_pairs=50))
        50
    """
    if n_a < 1 or n_b < 1:
        raise ValueError(f"both sets need at least one image; got {n_a} and {n_b}")
    if max_pairs < 1:
        raise ValueError(f"`max_pairs` must be >= 1; got {max_pairs}")
    total = n_a * n_b
    flat = np.arange(total) if total <= max_pairs else np.sort(
        np.random.default_rng(seed).choice(total, size=max_pairs, replace=False))
    return np.stack(np.divmod(flat, n_b), axis=1).astype(np.int64)


def mean_over_pairs(distance: PairDistance, generated: Sequence, reference: Sequence, *,
                    size: int = DEFAULT_PAIR_SIZE, max_pairs: int = DEFAULT_MAX_PAIRS,
                    seed: int = 0) -> tuple[float, int]:
    """Mean of ``distance`` over (generated, reference) pairs (see :func:`sample_pairs`).

    Args:
        distance: the pairwise metric, on two ``uint8 (size, size, 3)`` images.
        generated, reference: images (PIL or ``uint8 (H, W, 3)`` arrays), any sizes.
        size: both images are centre-cropped to a square and resized to ``size``.
        max_pairs: pairs measured at most.
        seed: which pairs, when there are more than ``max_pairs``.

    Returns:
        ``(mean, number of pairs)``.
    """
    gen = [square_resize(img, size) for img in as_rgb_list(generated, "generated")]
    ref = [square_resize(img, size) for img in as_rgb_list(reference, "reference")]
    pairs = sample_pairs(len(gen), len(ref), max_pairs, seed)
    values = [float(distance(gen[i], ref[j])) for i, j in pairs]
    return float(np.mean(values)), len(pairs)


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two same-size RGB images, on their luma (Wang et al. 2004 settings: an 11x11
    Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 255), via scikit-image.

    Args:
        a, b: ``uint8 (H, W, 3)``, H and W >= 7.

    Returns:
        The mean SSIM in [-1, 1]; 1 exactly for identical images.

    Example:
        >>> img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
        >>> ssim(img, img)
        1.0
    """
    from skimage.metrics import structural_similarity

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError(f"ssim needs two uint8 (H, W, 3) images of one size; got {a.shape} {a.dtype}, "
                         f"{b.shape} {b.dtype}")
    if min(a.shape[:2]) < 7:
        raise ValueError(f"ssim needs images of at least 7x7 pixels; got {a.shape[1]}x{a.shape[0]}")
    value = structural_similarity(_grey(a), _grey(b), data_range=255, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False)
    return float(value)


def set_ssim(generated: Sequence, reference: Sequence, *, size: int = DEFAULT_PAIR_SIZE,
             max_pairs: int = DEFAULT_MAX_PAIRS, seed: int = 0) -> tuple[float, int]:
    """Mean :func:`ssim` between a generated and a reference set (see :func:`mean_over_pairs`)."""
    return mean_over_pairs(ssim, generated, reference, size=size, max_pairs=max_pairs, seed=seed)
