"""DPT disparity to metric-free depth with the nearest pixel at depth 1.

Convention:
    DPT (MiDaS) predicts *relative inverse depth*: larger is nearer, with an unknown scale and
    offset. We min-max normalise it and map it to depth so that the nearest pixel has depth 1 and the
    farthest has ``max_depth``. Camera amplitudes elsewhere in the engine are therefore in units of
    the nearest depth. Sky and other far content is clipped at ``max_depth`` instead of infinity
    (3d-cinemagraphy uses 1e6), so it still moves a little with the camera and never yields an
    infinite coordinate.
"""

from __future__ import annotations

import cv2
import numpy as np

from cinema_dag.defaults import DEFAULT_MAX_DEPTH  # depth of the farthest pixel, nearest = 1

from ._checks import check_map

__all__ = ["DEFAULT_MAX_DEPTH", "disparity_to_depth", "fill_non_finite"]



def fill_non_finite(values: np.ndarray, name: str = "values") -> np.ndarray:
    """Replace NaN and +-inf by the value of the nearest finite pixel.

    Nearest-pixel filling keeps holes in a DPT map at the depth of their surroundings, whereas
    treating them as "far" would cut false depth edges (and false LDI layers) around them.

    Args:
        values: ``(H, W)`` real map.
        name: argument name for error messages.

    Returns:
        ``float32 (H, W)`` with only finite values (a copy when anything was replaced).

    Raises:
        ValueError: when no pixel is finite.
    """
    values = check_map(values, name)
    finite = np.isfinite(values)
    if finite.all():
        return values
    if not finite.any():
        raise ValueError(f"`{name}` has no finite value (all {values.size} pixels are NaN or inf)")
    # distanceTransform measures the distance to the nearest *zero* pixel: zeros are the finite ones.
    _, labels = cv2.distanceTransformWithLabels(
        (~finite).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # With DIST_LABEL_PIXEL every zero (finite) pixel gets its own label; map each label to its value.
    label_values = np.zeros(int(labels.max()) + 1, np.float32)
    label_values[labels[finite]] = values[finite]
    return label_values[labels].astype(np.float32)


def disparity_to_depth(
    disparity: np.ndarray,
    *,
    max_depth: float = DEFAULT_MAX_DEPTH,
    median_size: int = 3,
) -> np.ndarray:
    """Depth from a relative disparity map, nearest pixel at depth 1, far clipped at ``max_depth``.

    Steps: non-finite pixels take the value of the nearest finite pixel (:func:`fill_non_finite`);
    a ``median_size`` median filter removes single-pixel speckle (DPT upsampling noise, as
    3d-cinemagraphy does with 5x5); the result is min-max normalised to ``n`` in [0, 1] and mapped to
    ``depth = 1 / (n (1 - 1/max_depth) + 1/max_depth)``, so disparity is linear in ``n``.

    Fallbacks (documented behaviour, not errors):
        * constant disparity (range below 1e-6 of its magnitude): a fronto-parallel plane at
          depth 1 -- a flat photo, which still renders and loops.
        * all pixels non-finite: ``ValueError`` (there is nothing to fall back on).

    Args:
        disparity: ``(H, W)`` relative inverse depth, any real dtype, any scale and offset.
        max_depth: depth of the farthest pixel; must be > 1.
        median_size: median filter size, 0 (off), 3 or 5.

    Returns:
        ``float32 (H, W)`` depth in ``[1, max_depth]`` with ``depth.min() == 1``.

    Example:
        >>> disparity_to_depth(np.array([[0.0, 1.0], [2.0, 4.0]])).astype(float).round(2).tolist()
        [[100.0, 3.88], [1.98, 1.0]]
    """
    if not np.isfinite(max_depth) or max_depth <= 1.0:
        raise ValueError(f"`max_depth` must be a finite number > 1; got {max_depth!r}")
    if median_size not in (0, 3, 5):
        raise ValueError(f"`median_size` must be 0, 3 or 5; got {median_size!r}")
    disparity = fill_non_finite(disparity, "disparity")

    if median_size and min(disparity.shape) >= median_size:
        disparity = cv2.medianBlur(np.ascontiguousarray(disparity), median_size)
    lo, hi = float(disparity.min()), float(disparity.max())
    if hi - lo <= 1e-6 * max(1.0, abs(hi), abs(lo)):
        return np.ones(disparity.shape, np.float32)
    normalised = (disparity - lo) / (hi - lo)
    inv_far = 1.0 / max_depth
    depth = 1.0 / (normalised * (1.0 - inv_far) + inv_far)
    # Exact endpoints: float rounding must not put the nearest pixel at 0.9999999.
    return np.clip(depth, 1.0, max_depth).astype(np.float32)
