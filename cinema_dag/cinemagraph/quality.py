"""Measures of a rendered loop's moving region: sharpness stability and stutter.

These are the numbers that tell whether the moving texture stays as sharp as the photo in every
frame and moves smoothly (no whole-pixel jumps), used by the renderer's tests, the render benchmark
and the cinemagraph asset checks. Pure numpy/OpenCV, no Dagster, no torch.

Convention: frames are ``uint8 (N, H, W, 3)`` RGB, the source picture ``uint8 (H, W, 3)`` and the
motion mask ``bool (H, W)`` in the source's pixel grid (exact with a still camera; with a moving
camera the region drifts by the camera's parallax, so the measure is approximate there).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "DEFAULT_ERODE_PX",
    "laplacian_energy",
    "sharpness_series",
    "sharpness_jump",
    "region_steps",
    "stutter_ratio",
]

DEFAULT_ERODE_PX = 7
"""The motion mask is eroded by this many pixels before measuring: the mask's own edge (where the
moving texture meets the still one, and crack filling acts) is not the texture's detail."""


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"an RGB image (H, W, 3) is expected; got shape {image.shape}")
    return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _eroded(mask: np.ndarray, erode_px: int) -> np.ndarray:
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"`mask` must be (H, W); got shape {mask.shape}")
    if erode_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1, 2 * erode_px + 1))
        mask = cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    if not mask.any():
        raise ValueError(f"the motion mask is empty after eroding it by {erode_px} px: nothing to measure")
    return mask


def laplacian_energy(image: np.ndarray, region: np.ndarray) -> float:
    """Mean absolute Laplacian (3x3, 4-neighbour) of an RGB image's grey levels over ``region``.

    Args:
        image: ``uint8 (H, W, 3)``.
        region: ``bool (H, W)``, not empty.

    Example:
        >>> flat = np.full((8, 8, 3), 100, np.uint8)
        >>> laplacian_energy(flat, np.ones((8, 8), bool))
        0.0
    """
    lap = cv2.Laplacian(_grey(image), cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    region = np.asarray(region, bool)
    if region.shape != lap.shape:
        raise ValueError(f"`region` is {region.shape} but the image is {lap.shape}")
    if not region.any():
        raise ValueError("`region` is empty")
    return float(np.abs(lap[region]).mean())


def sharpness_series(frames: np.ndarray, source: np.ndarray, mask: np.ndarray,
                     erode_px: int = DEFAULT_ERODE_PX) -> np.ndarray:
    """S(t): the moving region's detail in frame ``t`` relative to the source picture.

    ``S(t) = mean |Laplacian(grey(frame_t))| / mean |Laplacian(grey(source))|``, both over the
    motion mask eroded by ``erode_px``. 1 means as sharp as the photo; bilinear re-sampling of the
    texture shows as values well below 1, a double image (two displaced copies averaged) too.

    Args:
        frames: ``uint8 (N, H, W, 3)``.
        source: ``uint8 (H, W, 3)``, the picture the loop was made from.
        mask: ``bool (H, W)``, the motion mask.
        erode_px: erosion of the mask before measuring (default :data:`DEFAULT_ERODE_PX`).

    Returns:
        ``float64 (N,)``.

    Raises:
        ValueError: for mismatched shapes, an empty (eroded) mask, or a source without detail
            in the region (a flat region has nothing to lose).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"`frames` must be (N, H, W, 3); got shape {frames.shape}")
    if frames.shape[1:] != np.asarray(source).shape:
        raise ValueError(f"frames are {frames.shape[1:3]} but the source is {np.asarray(source).shape[:2]}")
    region = _eroded(mask, erode_px)
    reference = laplacian_energy(source, region)
    if reference <= 0.0:
        raise ValueError("the source has no detail (zero Laplacian) inside the motion mask: sharpness is undefined")
    return np.array([laplacian_energy(frame, region) / reference for frame in frames], np.float64)


def sharpness_jump(series: np.ndarray) -> float:
    """Largest ``|S(t) - S(t-1)|`` around the loop, the wrap from the last frame to frame 0 included.

    Example:
        >>> sharpness_jump(np.array([1.0, 0.98, 0.97, 0.99]))  # the wrap 0.99 -> 1.0 counts too
        0.02
    """
    series = np.asarray(series, np.float64)
    if series.ndim != 1 or len(series) < 2:
        raise ValueError(f"need a series of at least 2 values; got shape {series.shape}")
    return round(float(np.abs(series - np.roll(series, 1)).max()), 12)


def region_steps(frames: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute difference between each frame and the next, over ``mask`` (all pixels if None),
    wrapping around: entry ``i`` compares frame ``i`` with frame ``(i + 1) % N``.

    Returns:
        ``float64 (N,)``, in grey levels (0..255).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 2:
        raise ValueError(f"`frames` must be (N >= 2, H, W, 3); got shape {frames.shape}")
    region = np.ones(frames.shape[1:3], bool) if mask is None else np.asarray(mask, bool)
    if region.shape != frames.shape[1:3] or not region.any():
        raise ValueError(f"`mask` must be a non-empty (H, W) = {frames.shape[1:3]} array; got {region.shape}")
    pixels = frames[:, region].astype(np.int16)  # N x P x 3
    return np.abs(pixels - np.roll(pixels, -1, axis=0)).mean(axis=(1, 2)).astype(np.float64)


def stutter_ratio(frames: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Largest frame-to-frame step over the median step (wrap included), inside ``mask``.

    A smooth drift scores close to 1; a slow flow that moves in whole-pixel jumps (nothing, nothing,
    a jump) scores far above 1. A still region (median step 0) scores 1.0 if nothing moves at all
    and ``inf`` otherwise.
    """
    steps = region_steps(frames, mask)
    typical = float(np.median(steps))
    largest = float(steps.max())
    if typical == 0.0:
        return 1.0 if largest == 0.0 else float("inf")
    return largest / typical
