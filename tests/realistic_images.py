"""Realistic test images for metric tests: scikit-image's bundled photos (offline) and fractal
(1/f) noise -- natural-image statistics, no flat colours."""

from __future__ import annotations

import cv2
import numpy as np
import skimage.data

__all__ = ["photos", "fractal_noise", "noisy"]


def photos(size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    """Five real RGB photos bundled with scikit-image, resized to ``size`` (W, H)."""
    sources = (skimage.data.coffee(), skimage.data.chelsea(), skimage.data.astronaut(), skimage.data.rocket(),
               skimage.data.immunohistochemistry())
    return [cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in sources]


def fractal_noise(height: int, width: int, seed: int = 0, octaves: int = 6) -> np.ndarray:
    """RGB 1/f noise: octaves of bicubically upsampled random grids, each half the amplitude of the
    one below; values in [10, 245] (no black pixel, which would look like an unfilled hole)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width, 3), np.float64)
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.normal(size=(cells, cells, 3)).astype(np.float32)
        out += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) / 2**octave
    out = (out - out.min()) / (out.max() - out.min())
    return (out * 235 + 10).astype(np.uint8)


def noisy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """``image`` plus Gaussian noise of ``sigma`` grey levels, clipped."""
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)
