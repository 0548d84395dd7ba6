"""Input guards shared by the engine's modules (private).

Every public function checks its inputs first and names the argument and the bad value, so a caller
learns what is wrong without reading a NumPy or torch traceback.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_image", "check_map", "check_mask", "check_same_size", "check_positive_int"]


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    return repr(value)


def check_image(image: Any, name: str = "image") -> np.ndarray:
    """An RGB picture as ``uint8 (H, W, 3)``; anything else is a ``ValueError``."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"`{name}` must be a uint8 array of shape (H, W, 3); got {_describe(image)}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"`{name}` must be at least 2x2 pixels; got shape {image.shape}")
    return image


def check_map(values: Any, name: str) -> np.ndarray:
    """A real-valued ``(H, W)`` map (depth, disparity), returned as ``float32``."""
    if not isinstance(values, np.ndarray) or values.ndim != 2 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"`{name}` must be a numeric array of shape (H, W); got {_describe(values)}")
    if np.iscomplexobj(values):
        raise ValueError(f"`{name}` must be real-valued; got dtype {values.dtype}")
    return values.astype(np.float32, copy=False)


def check_mask(mask: Any, name: str = "mask") -> np.ndarray:
    """A ``(H, W)`` mask of bools (or 0/1 numbers), returned as ``bool``."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise ValueError(f"`{name}` must be an array of shape (H, W); got {_describe(mask)}")
    if mask.dtype == bool:
        return mask
    if not np.issubdtype(mask.dtype, np.number) or not np.isin(mask, (0, 1)).all():
        raise ValueError(f"`{name}` must be boolean or hold only 0 and 1; got dtype {mask.dtype}")
    return mask.astype(bool)


def check_same_size(**arrays: Any) -> tuple[int, int]:
    """The common ``(H, W)`` of the named arrays, or a ``ValueError`` that lists every size."""
    sizes = {name: tuple(np.shape(a)[:2]) for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        listed = ", ".join(f"`{n}` {s[0]}x{s[1]}" for n, s in sizes.items())
        raise ValueError(f"sizes (HxW) differ: {listed}; they must all be the same size")
    return next(iter(sizes.values()))


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as an ``int`` that is at least 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer; got {value!r}")
    return int(value)
