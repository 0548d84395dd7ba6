"""Synthetic textures with the statistics of photos, for measuring the renderer (tests, benchmarks).

numpy only, on purpose: ``benchmarks/render.py`` loads this file by path to give an older
renderer (imported from another commit) exactly the same scenes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fractal_noise"]


def fractal_noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    """RGB fractal noise with a 1/f amplitude spectrum (the average spectrum of photos).

    Returns:
        ``uint8 (height, width, 3)``, mean grey about 128, partly correlated channels.

    Example:
        >>> img = fractal_noise(32, 48, seed=1)
        >>> img.shape, img.dtype.name, bool((fractal_noise(32, 48, seed=1) == img).all())
        ((32, 48, 3), 'uint8', True)
    """
    rng = np.random.default_rng(seed)
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(width), np.fft.fftfreq(height)))
    f[0, 0] = 1.0
    channels = []
    for _ in range(3):
        spectrum = (rng.normal(size=(height, width)) + 1j * rng.normal(size=(height, width))) / f
        spectrum[0, 0] = 0.0
        c = np.real(np.fft.ifft2(spectrum))
        channels.append((c - c.mean()) / c.std())
    noise = np.stack(channels, -1)
    noise = 0.6 * noise + 0.4 * noise.mean(-1, keepdims=True)
    return np.clip(128 + 40 * noise, 0, 255).astype(np.uint8)
