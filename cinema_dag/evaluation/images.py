"""Image sets as the metrics take them: ``uint8 (H, W, 3)`` RGB arrays, optionally squared and resized."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["as_rgb", "as_rgb_list", "square_resize"]


def as_rgb(image: Any, name: str = "image") -> np.ndarray:
    """A PIL image or array as ``uint8 (H, W, 3)`` RGB (grey is repeated, alpha dropped).

    Raises:
        ValueError: naming ``name`` for anything that is not an image (wrong shape or dtype, empty).
    """
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"`{name}` must be uint8 (0..255); got dtype {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(f"`{name}` must be (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    return np.ascontiguousarray(array[..., :3])


def as_rgb_list(images: Sequence[Any], name: str = "images", min_count: int = 1) -> list[np.ndarray]:
    """:func:`as_rgb` of every image, with at least ``min_count`` of them."""
    if isinstance(images, (np.ndarray, Image.Image)) and np.asarray(images).ndim < 4:
        raise ValueError(f"`{name}` must be a sequence of images, not one image")
    out = [as_rgb(img, f"{name}[{i}]") for i, img in enumerate(images)]
    if len(out) < min_count:
        raise ValueError(f"`{name}` needs at least {min_count} images; got {len(out)}")
    return out


def square_resize(image: np.ndarray, size: int) -> np.ndarray:
    """The centred largest square of ``image``, resized to ``size x size`` (Lanczos).

    Sets of different sizes and aspect ratios (generated squares, scraped 4:3 photos) are compared
    on the same grid this way, without stretching either.

    Args:
        image: ``uint8 (H, W, 3)``.
        size: output side in pixels, >= 8.

    Returns:
        ``uint8 (size, size, 3)``.
    """
    if size < 8:
        raise ValueError(f"`size` must be >= 8; got {size}")
    image = as_rgb(image)
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top:top + side, left:left + side]
    if side == size:
        return crop.copy()
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.LANCZOS))
