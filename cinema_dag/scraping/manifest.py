"""The scrape manifest: every photo of a crawl, kept or rejected with its reason (``manifest.json``).

:func:`cinema_dag.vision.quality.filter_images` decides; ``scraped_images`` writes the manifest into
its partition (``MANIFEST_FILE`` of :mod:`cinema_dag.scraping.layout`) and ``image_captions`` reads
the kept rows back.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cinema_dag.atomic import atomic_write_json

__all__ = ["Manifest", "ManifestRow", "read_manifest", "write_manifest"]


@dataclass
class ManifestRow:
    """One image's verdict.

    Attributes:
        path: the image file, as given.
        sha1: SHA-1 of the file's bytes (``None`` when unreadable).
        page_url, image_url, licence: from the scrape record (``None`` when there is none).
        width, height: decoded size (``None`` when undecodable).
        phash: 16 hex digits of the perceptual hash (``None`` when undecodable).
        blur: variance of the Laplacian (``None`` when not measured).
        people: the people detector's score (``None`` when not run).
        text: the text detector's area fraction (``None`` when not run).
        reason: ``None`` when kept, else one of :data:`cinema_dag.vision.quality.REASONS`.
        detail: why, with the numbers ("laplacian variance 12.4 < 100.0").
        duplicate_of: for (near-)duplicates, the path of the copy that was kept.
    """

    path: str
    sha1: str | None = None
    page_url: str | None = None
    image_url: str | None = None
    licence: str | None = None
    width: int | None = None
    height: int | None = None
    phash: str | None = None
    blur: float | None = None
    people: float | None = None
    text: float | None = None
    reason: str | None = None
    detail: str = ""
    duplicate_of: str | None = None


@dataclass
class Manifest:
    """Kept and rejected images, and the thresholds that decided."""

    kept: list[ManifestRow] = field(default_factory=list)
    rejected: list[ManifestRow] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def reasons(self) -> dict[str, int]:
        """How many images each reason rejected."""
        return dict(Counter(r.reason for r in self.rejected if r.reason))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``kept``, ``rejected`` (lists of row dicts), ``params``, ``counts``."""
        return {
            "params": self.params,
            "counts": {"kept": len(self.kept), "rejected": len(self.rejected), **self.reasons()},
            "kept": [asdict(r) for r in self.kept],
            "rejected": [asdict(r) for r in self.rejected],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """The inverse of :meth:`to_dict` (``counts`` is recomputed, not read)."""
        return cls(
            kept=[ManifestRow(**r) for r in data["kept"]],
            rejected=[ManifestRow(**r) for r in data["rejected"]],
            params=dict(data.get("params", {})),
        )


def write_manifest(manifest: Manifest, path: str | os.PathLike[str]) -> Path:
    """Write ``manifest`` as JSON (UTF-8, Korean kept readable), atomically (:mod:`cinema_dag.atomic`)."""
    return atomic_write_json(path, manifest.to_dict(), indent=1)


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read a manifest written by :func:`write_manifest`."""
    return Manifest.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
