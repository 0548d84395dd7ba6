"""Small inline previews (base64 PNG/GIF in Markdown) for the Dagster UI.

Metadata lives in the instance's event log, so previews are thumbnails of a few kilobytes. Depth
maps preview through :func:`cinema_dag.vision.depth.colorize_depth`, which applies the project's one
policy for non-finite depth.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = ["thumbnail", "png_markdown", "gif_markdown", "overlay_mask", "flow_to_color"]

THUMBNAIL_SIZE = 192


def thumbnail(image: Image.Image | np.ndarray, size: int = THUMBNAIL_SIZE) -> Image.Image:
    """An RGB copy no larger than ``size`` on its longer side."""
    img = Image.fromarray(np.asarray(image)) if isinstance(image, np.ndarray) else image
    img = img.convert("RGB")
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def png_markdown(images: Sequence[Image.Image | np.ndarray] | Image.Image | np.ndarray,
                 alt: str = "preview", size: int = THUMBNAIL_SIZE) -> str:
    """Markdown with one inline PNG thumbnail per image (at most 4)."""
    if isinstance(images, (Image.Image, np.ndarray)):
        images = [images]
    parts = []
    for image in list(images)[:4]:
        buffer = io.BytesIO()
        thumbnail(image, size).save(buffer, format="PNG", optimize=True)
        parts.append(f"![{alt}]({_data_uri(buffer.getvalue(), 'image/png')})")
    return " ".join(parts)


def gif_markdown(frames: np.ndarray | Sequence[np.ndarray], fps: float = 12.5, size: int = 160,
                 max_frames: int = 30, alt: str = "cinemagraph", max_bytes: int = 150_000) -> str:
    """Markdown with an inline, looping GIF thumbnail of ``frames`` (N, H, W, 3) uint8.

    Metadata lives in the event log, so the GIF is shrunk (fewer frames, then fewer pixels) until
    its base64 text is at most ``max_bytes``; the smallest try is returned even if still larger.
    """
    frames = list(frames)
    if not frames:
        raise ValueError("gif_markdown needs at least one frame; got 0")
    for scale in (1.0, 0.75, 0.5, 0.35):
        side, count = max(32, int(size * scale)), max(4, int(max_frames * scale))
        step = max(1, -(-len(frames) // count))
        thumbs = [thumbnail(f, side) for f in frames[::step]]
        buffer = io.BytesIO()
        thumbs[0].save(buffer, format="GIF", save_all=True, append_images=thumbs[1:],
                       duration=int(1000 * step / fps), loop=0, optimize=True)
        markdown = f"![{alt}]({_data_uri(buffer.getvalue(), 'image/gif')})"
        if len(markdown) <= max_bytes:
            break
    return markdown


def overlay_mask(image: Image.Image | np.ndarray, mask: np.ndarray,
                 color: tuple[int, int, int] = (0, 160, 255), alpha: float = 0.45) -> np.ndarray:
    """The image with ``mask`` (H, W) tinted in ``color``; returns uint8 (H, W, 3)."""
    rgb = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image).astype(np.float32)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match image shape {rgb.shape[:2]}")
    tint = np.asarray(color, dtype=np.float32)
    rgb[mask] = (1 - alpha) * rgb[mask] + alpha * tint
    return rgb.clip(0, 255).astype(np.uint8)


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """A velocity field ``(H, W, 2)`` as a colour-wheel image ``uint8 (H, W, 3)``.

    Hue is the direction (right = red, down = yellow-green, left = cyan, up = blue-violet),
    saturation the speed relative to ``max_magnitude`` (default: the largest speed); zero is white.
    """
    flow = np.nan_to_num(np.asarray(flow, dtype=np.float32))
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f"flow must be (H, W, 2); got {flow.shape}")
    magnitude = np.hypot(flow[..., 0], flow[..., 1])
    top = float(max_magnitude if max_magnitude else magnitude.max())
    saturation = np.clip(magnitude / top, 0, 1) if top > 0 else np.zeros_like(magnitude)
    hue = (np.arctan2(flow[..., 1], flow[..., 0]) / (2 * np.pi)) % 1.0
    hsv = np.stack([hue * 255, saturation * 255, np.full_like(hue, 255)], axis=-1).astype(np.uint8)
    return np.asarray(Image.fromarray(hsv, mode="HSV").convert("RGB"))
