"""labelme annotations (the format 3d-cinemagraphy's users draw in) to a motion mask and arrows.

3d-cinemagraphy's convention (``demo/*/image.json``, ``scripts/generate_mask.py``): polygons
labelled ``motion`` mark what moves (all of them are OR-ed into one mask) and line shapes labelled
``hint0``, ``hint1``, ... are arrows from their first to their last point; each means a velocity of
``(end - start) / 50`` px per frame at its start (:data:`~.motion.DEFAULT_HINT_SCALE`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = ["MOTION_LABEL", "HINT_PREFIX", "LabelmeAnnotation", "read_labelme", "parse_labelme", "annotation_beside"]

MOTION_LABEL = "motion"
"""Polygons (or rectangles, circles) with this label, or a label starting with it, move."""
HINT_PREFIX = "hint"
"""Line shapes whose label starts with this are motion arrows."""

_MAX_BYTES = 50 * 2**20


@dataclass(frozen=True)
class LabelmeAnnotation:
    """What a labelme file says about a picture.

    Attributes:
        mask: ``bool (H, W)``, the union of the motion polygons.
        arrows: ``float32 (K, 4)`` hints ``(x0, y0, x1, y1)`` in pixels (``K`` may be 0).
        size: ``(H, W)`` the annotation was drawn on.
    """

    mask: np.ndarray
    arrows: np.ndarray
    size: tuple[int, int]


def _points(shape: dict, index: int, source: str) -> np.ndarray:
    points = np.asarray(shape.get("points", []), np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(points).all():
        raise ValueError(f"{source}: shape {index} ({shape.get('label')!r}) has malformed points")
    return points


def parse_labelme(document: dict, size: tuple[int, int] | None = None, *, source: str = "labelme JSON") -> LabelmeAnnotation:
    """Mask and arrows from a parsed labelme document.

    Args:
        document: the JSON object (``shapes``, ``imageHeight``, ``imageWidth``).
        size: ``(H, W)`` of the picture; must match the document's when it records one.
        source: name used in error messages (the file).

    Raises:
        ValueError: no polygon labelled ``motion`` (nothing would move), sizes that disagree, or
            malformed shapes, naming the file.
    """
    if not isinstance(document, dict) or not isinstance(document.get("shapes"), list):
        raise ValueError(f"{source} is not a labelme file: no 'shapes' list")
    recorded = (document.get("imageHeight"), document.get("imageWidth"))
    if size is None:
        if not all(isinstance(v, int) and v > 0 for v in recorded):
            raise ValueError(f"{source} records no image size; pass the picture's size")
        size = (int(recorded[0]), int(recorded[1]))
    elif all(isinstance(v, int) for v in recorded) and tuple(recorded) != tuple(size):
        raise ValueError(
            f"{source} was drawn on a {recorded[1]}x{recorded[0]} picture, but the picture is {size[1]}x{size[0]}"
        )
    height, width = size
    mask = np.zeros((height, width), np.uint8)
    arrows = []
    polygons = 0
    for i, shape in enumerate(document["shapes"]):
        label = str(shape.get("label", "")).strip().lower()
        kind = shape.get("shape_type") or "polygon"
        if label.startswith(MOTION_LABEL):
            points = _points(shape, i, source)
            if kind == "rectangle" and len(points) == 2:
                (x0, y0), (x1, y1) = points
                points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
            if kind == "circle" and len(points) == 2:
                radius = float(np.hypot(*(points[1] - points[0])))
                cv2.circle(mask, tuple(int(round(v)) for v in points[0]), int(round(radius)), 1, -1)
                polygons += 1
                continue
            if len(points) < 3:
                raise ValueError(f"{source}: motion shape {i} has {len(points)} points; a polygon needs 3")
            cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
            polygons += 1
        elif label.startswith(HINT_PREFIX):
            points = _points(shape, i, source)
            if len(points) < 2:
                raise ValueError(f"{source}: hint shape {i} ({label!r}) needs a start and an end point")
            arrows.append([*points[0], *points[-1]])
    if polygons == 0:
        labels = sorted({str(s.get("label", "")) for s in document["shapes"]})
        raise ValueError(
            f"{source} has no polygon labelled {MOTION_LABEL!r}, so nothing would move "
            f"(labels found: {labels or 'none'}); draw the moving region as a polygon labelled {MOTION_LABEL!r}"
        )
    return LabelmeAnnotation(mask=mask.astype(bool), arrows=np.asarray(arrows, np.float32).reshape(-1, 4), size=(height, width))


def read_labelme(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> LabelmeAnnotation:
    """:func:`parse_labelme` of a file (at most 50 MiB)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no labelme file at {str(path)!r}")
    if path.stat().st_size > _MAX_BYTES:
        raise ValueError(f"{path} is over {_MAX_BYTES // 2**20} MiB: not a labelme annotation")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    return parse_labelme(document, size, source=str(path))


def annotation_beside(photo: str | os.PathLike[str], size: tuple[int, int]) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """The user's annotation stored beside a photo, if any: ``<stem>.json`` (labelme) or
    ``<stem>_mask.png`` (non-zero pixels move).

    Returns:
        ``(mask or None, arrows (K, 4) or None, source)``; source is ``"labelme"``, ``"mask"`` or
        ``""`` (none: the pipeline's automatic mask and hints apply).
    """
    from PIL import Image

    photo = Path(photo)
    labels = photo.with_suffix(".json")
    if labels.is_file():
        annotation = read_labelme(labels, size)
        return annotation.mask, (annotation.arrows if len(annotation.arrows) else None), "labelme"
    mask_file = photo.with_name(f"{photo.stem}_mask.png")
    if mask_file.is_file():
        with Image.open(mask_file) as image:
            mask = np.asarray(image.convert("L")) > 0
        if mask.shape != tuple(size):
            raise ValueError(f"the mask {mask_file} is {mask.shape[1]}x{mask.shape[0]}, the photo {size[1]}x{size[0]}")
        return mask, None, "mask"
    return None, None, ""
