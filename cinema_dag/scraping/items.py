"""The one item the crawl produces: an image seen on a page, and what the pipelines learn about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ImageItem", "RECORD_FIELDS"]


@dataclass
class ImageItem:
    """An image found on a page.

    The spider fills the page fields; the download pipeline fills the file fields.

    Attributes:
        disaster: disaster type key (``"flood"``).
        page_url: the page the image was seen on.
        image_url: the image's absolute URL as written on the page.
        alt: the ``alt`` text ("" when absent).
        title: the ``title`` text, or the enclosing ``<figure>``'s caption.
        page_title: the page's ``<title>``.
        licence: the most restrictive licence the page states (``"KOGL-1"``), or ``None``.
        licences: every licence the page states.
        keywords: the type's words found in the alt/title (first) or page text.
        keyword_source: ``"image"`` (alt/title/caption), ``"page"``, or ``""`` when none matched.
        path: stored file, relative to the output folder (``"images/<url sha1>.jpg"``).
        url_sha1: SHA-1 of ``image_url`` (the file's stem: a re-crawl overwrites, never duplicates).
        sha1: SHA-1 of the stored bytes (the same picture under two URLs has one ``sha1``).
        final_url: the URL the bytes came from after redirects.
        content_type: the response's media type (``"image/jpeg"``).
        format: the decoded format (``"JPEG"``, ``"PNG"``, ``"WEBP"``).
        width, height: decoded size in pixels.
        bytes: stored size.
    """

    disaster: str
    page_url: str
    image_url: str
    alt: str = ""
    title: str = ""
    page_title: str = ""
    licence: str | None = None
    licences: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    keyword_source: str = ""
    path: str | None = None
    url_sha1: str | None = None
    sha1: str | None = None
    final_url: str | None = None
    content_type: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (the ``records.jsonl`` row)."""
        return asdict(self)


RECORD_FIELDS: tuple[str, ...] = tuple(ImageItem.__dataclass_fields__)
