"""File formats of the pipeline's artefacts: one reader and one writer per kind, in one place.

Every writer writes into a staging folder given by :class:`cinema_dag.storage.ArtefactStorage`;
every reader takes the folder of a complete partition. Images are indexed ``000, 001, …`` across
stages, so ``image_003.png`` has ``mask_003.png``, ``depth_003.npy`` and ``flow_003.npy``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "write_json", "read_json",
    "write_images", "read_images", "read_images_from_paths",
    "write_masks", "read_masks",
    "write_arrays", "read_arrays",
    "MAX_IMAGE_PIXELS",
]

# Upstream images come from our own generator, but a store can be shared: refuse absurd sizes early.
MAX_IMAGE_PIXELS = 64_000_000


def write_json(folder: Path, name: str, value: Any) -> Path:
    path = Path(folder) / name
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def read_json(folder: Path, name: str) -> Any:
    path = Path(folder) / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the upstream artefact is incomplete; re-materialize it")
    return json.loads(path.read_text(encoding="utf-8"))


def _indexed(folder: Path, prefix: str, suffix: str) -> list[Path]:
    return sorted(Path(folder).glob(f"{prefix}_[0-9][0-9][0-9]{suffix}"))


def write_images(folder: Path, images: list[Image.Image], prefix: str = "image") -> list[Path]:
    """Save RGB images as ``<prefix>_000.png …`` (lossless)."""
    paths = []
    for i, image in enumerate(images):
        path = Path(folder) / f"{prefix}_{i:03d}.png"
        image.convert("RGB").save(path, format="PNG")
        paths.append(path)
    return paths


def read_images(folder: Path, prefix: str = "image") -> list[Image.Image]:
    """Load the ``<prefix>_NNN.png`` images of a folder, in order, as RGB.

    Raises:
        ValueError: for an undecodable or oversized image, naming the file.
    """
    return read_images_from_paths(_indexed(folder, prefix, ".png"))


def write_masks(folder: Path, masks: list[np.ndarray], prefix: str = "mask") -> list[Path]:
    """Save boolean masks (H, W) as 8-bit PNGs with values 0 and 255."""
    paths = []
    for i, mask in enumerate(masks):
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"mask {i} must be (H, W); got shape {mask.shape}")
        path = Path(folder) / f"{prefix}_{i:03d}.png"
        Image.fromarray(np.where(mask.astype(bool), 255, 0).astype(np.uint8), mode="L").save(path)
        paths.append(path)
    return paths


def read_masks(folder: Path, prefix: str = "mask") -> list[np.ndarray]:
    """Load the masks of a folder as boolean arrays (H, W)."""
    return [np.asarray(Image.open(p).convert("L")) > 127 for p in _indexed(folder, prefix, ".png")]


def write_arrays(folder: Path, arrays: list[np.ndarray], prefix: str) -> list[Path]:
    """Save arrays losslessly as ``<prefix>_NNN.npy`` (no pickle)."""
    paths = []
    for i, array in enumerate(arrays):
        path = Path(folder) / f"{prefix}_{i:03d}.npy"
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


def read_arrays(folder: Path, prefix: str) -> list[np.ndarray]:
    return [np.load(p, allow_pickle=False) for p in _indexed(folder, prefix, ".npy")]


def read_images_from_paths(paths: list[Path]) -> list[Image.Image]:
    """Load listed image files as RGB (same guards as :func:`read_images`)."""
    images = []
    for path in paths:
        try:
            with Image.open(path) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise ValueError(f"{path} has {img.width}x{img.height} pixels, over {MAX_IMAGE_PIXELS}")
                images.append(img.convert("RGB"))
        except (OSError, Image.DecompressionBombError) as err:
            raise ValueError(f"cannot decode {path}: {err}") from None
    return images
