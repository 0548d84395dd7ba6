"""Monocular depth with DPT, its lossless 16-bit PNG encoding, and a colour preview.

Convention: DPT (MiDaS-trained) predicts **relative inverse depth**, "disparity": larger values are
nearer to the camera, the scale and shift are unknown. :func:`estimate_depth` returns it as is (no
normalisation), float32 ``(H, W)`` at each input image's size. Non-finite values follow the one
policy of the project, :func:`cinema_dag.cinemagraph.depth.fill_non_finite`: each takes the value
of the nearest finite pixel (treating holes as "far" would cut false depth edges around them), and
a map with no finite value is an error.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from cinema_dag.cinemagraph.depth import fill_non_finite

if TYPE_CHECKING:
    from PIL import Image

    from cinema_dag.models.loaded import LoadedDepth

__all__ = ["estimate_depth", "depth_to_png16", "depth_from_png16", "colorize_depth"]


def estimate_depth(depth_model: "LoadedDepth", images: Sequence["Image.Image"]) -> list[np.ndarray]:
    """DPT relative inverse depth (disparity, larger = nearer) of each image.

    Args:
        depth_model: a loaded ``depth`` component.
        images: PIL images (converted to RGB), any sizes.

    Returns:
        One finite float32 ``(H, W)`` array per image at that image's size (the model output is
        resized bicubically by the processor; non-finite values are filled, see the module docstring).

    Raises:
        ValueError: the model gave an image no finite value at all, naming the image.
    """
    model, processor = depth_model.model, depth_model.processor
    depths = []
    for index, image in enumerate(images):
        image = image.convert("RGB")
        inputs = processor(images=image, return_tensors="pt").to(model.device)
        with torch.inference_mode():
            outputs = model(pixel_values=inputs["pixel_values"].to(model.dtype))
        # Post-process in float32 on the CPU: half-precision interpolation loses depth detail.
        outputs.predicted_depth = outputs.predicted_depth.float().cpu()
        depth = processor.post_process_depth_estimation(outputs, target_sizes=[(image.height, image.width)])[0]
        arr = depth["predicted_depth"].numpy()
        if arr.shape != (image.height, image.width):
            raise RuntimeError(f"depth of shape {arr.shape} for an image of {(image.height, image.width)}")
        depths.append(fill_non_finite(arr, f"depth of image {index}"))
    return depths


def _normalise(depth: np.ndarray) -> np.ndarray:
    depth = fill_non_finite(depth, "depth")
    lo, hi = float(depth.min()), float(depth.max())
    if hi <= lo:
        return np.zeros_like(depth, dtype=np.float64)
    return (depth.astype(np.float64) - lo) / (hi - lo)


def depth_to_png16(depth: np.ndarray) -> bytes:
    """Encode depth as a 16-bit greyscale PNG, min-max normalised to 0..65535 (lossless format).

    Args:
        depth: float ``(H, W)``.

    Returns:
        PNG bytes; a constant map encodes as all zeros. Decode with :func:`depth_from_png16`.
    """
    from PIL import Image

    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.size == 0:
        raise ValueError(f"depth must be a non-empty (H, W) array; got shape {depth.shape}")
    levels = np.round(_normalise(depth) * 65535.0).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(levels).save(buf, format="PNG")  # uint16 array -> mode "I;16", a 16-bit PNG
    return buf.getvalue()


def depth_from_png16(data: bytes) -> np.ndarray:
    """Decode :func:`depth_to_png16` bytes to float32 ``(H, W)`` in [0, 1]."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        if img.mode not in ("I;16", "I"):
            raise ValueError(f"not a 16-bit greyscale PNG (mode {img.mode!r})")
        levels = np.asarray(img, dtype=np.float64)
    return (levels / 65535.0).astype(np.float32)


def colorize_depth(depth: np.ndarray, colormap: str = "inferno") -> "Image.Image":
    """An RGB preview of depth: near (large disparity) bright, far dark, with an OpenCV colormap.

    Args:
        depth: float ``(H, W)``.
        colormap: an OpenCV colormap name (``"inferno"``, ``"magma"``, ``"turbo"``, ``"viridis"`` ...).
    """
    import cv2
    from PIL import Image

    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.size == 0:
        raise ValueError(f"depth must be a non-empty (H, W) array; got shape {depth.shape}")
    code = getattr(cv2, f"COLORMAP_{colormap.upper()}", None)
    if code is None:
        raise ValueError(f"Unknown colormap {colormap!r}")
    grey = np.round(_normalise(depth) * 255.0).astype(np.uint8)
    bgr = cv2.applyColorMap(grey, code)
    return Image.fromarray(bgr[:, :, ::-1].copy(), mode="RGB")
