"""Item pipelines, one job each, in ``ITEM_PIPELINES`` order (see :mod:`.settings`).

``ValidateItemPipeline`` → ``RelevancePipeline`` → ``DedupeUrlPipeline`` → ``DownloadImagePipeline``
→ ``ImageCapPipeline`` → ``JsonlRecordsPipeline``. Every rejection is an :class:`ItemRejected`
(a ``DropItem``) carrying a reason code; :class:`~.extensions.RejectionLog` writes them to
``rejected.jsonl``.

The download is our own, through ``engine.download_async`` (so robots.txt, offsite, redirects,
retries, the HTTP cache and ``DOWNLOAD_MAXSIZE`` all apply), rather than an ``ImagesPipeline``
subclass: ImagesPipeline re-encodes every image to JPEG and writes files in place, while we keep
JPEG/PNG bytes as served, reject undecodable files and decompression bombs with their reason, and
write each file atomically.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    DropItem,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.http.request import NO_CALLBACK
from twisted.internet.error import ConnectError, ConnectionDone, ConnectionLost
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from cinema_dag.atomic import atomic_write_bytes
from cinema_dag.defaults import DEFAULT_MAX_IMAGES
from cinema_dag.scraping.items import ImageItem
from cinema_dag.scraping.jsonl import JsonLinesFile, out_dir_of
from cinema_dag.scraping.layout import IMAGES_DIR, RECORDS_FILE
from cinema_dag.scraping.middlewares import MEDIA_META
from cinema_dag.vision.quality import ImageRejectedError, decode_image_bytes

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

__all__ = [
    "ItemRejected",
    "ValidateItemPipeline",
    "RelevancePipeline",
    "DedupeUrlPipeline",
    "DownloadImagePipeline",
    "ImageCapPipeline",
    "JsonlRecordsPipeline",
]

# What a failed image download raises once retries are spent (Scrapy's own errors, and the Twisted
# ones its HTTP/1.1 handler still lets through). Anything else is a bug and reaches item_error.
_DOWNLOAD_ERRORS: tuple[type[BaseException], ...] = (
    CannotResolveHostError,
    DownloadCancelledError,  # DOWNLOAD_MAXSIZE exceeded
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
    ConnectError,
    ConnectionDone,
    ConnectionLost,
    ResponseFailed,
    ResponseNeverReceived,
)
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}


class ItemRejected(DropItem):
    """An item dropped for a reason code (``"http_error"``, ``"undecodable"`` …) and a detail."""

    def __init__(self, reason: str, detail: str, *, log_level: str | None = None):
        super().__init__(f"{reason}: {detail}", log_level=log_level)
        self.reason = reason
        self.detail = detail


def _host_allowed(host: str, domains: list[str]) -> bool:
    """Scrapy's rule: the host is a domain of the list or a subdomain of one; no list allows all."""
    if not domains:
        return True
    return any(host == d or host.endswith("." + d) for d in domains)


class ValidateItemPipeline:
    """Reject items that are not well-formed or whose image lies outside the allowed hosts."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.image_domains = crawler.settings.getlist("CINEMA_IMAGE_DOMAINS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> ImageItem:
        if not isinstance(item, ImageItem):
            raise ItemRejected("invalid", f"expected an ImageItem, got {type(item).__name__}")
        if not item.page_url or not item.disaster:
            raise ItemRejected("invalid", f"page_url and disaster are required: {item!r}")
        url = urlparse(item.image_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ItemRejected("invalid_url", f"not an http(s) image URL: {item.image_url!r}")
        domains = [*(getattr(self.crawler.spider, "allowed_domains", None) or []), *self.image_domains]
        if not _host_allowed(url.hostname, domains):
            raise ItemRejected(
                "offsite_image", f"image host {url.hostname!r} is not in allowed domains {domains}"
            )
        return item


class RelevancePipeline:
    """Reject images whose alt/title/page text names none of the type's words (if required)."""

    def __init__(self, required: bool):
        self.required = required

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getbool("CINEMA_REQUIRE_KEYWORD", True))

    def process_item(self, item: ImageItem) -> ImageItem:
        if self.required and not item.keywords:
            raise ItemRejected(
                "irrelevant",
                f"no {item.disaster!r} keyword in the alt/title/page text of {item.page_url}",
                log_level="DEBUG",
            )
        return item


class DedupeUrlPipeline:
    """Reject an image URL already seen (a logo or photo shown on many pages)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: ImageItem) -> ImageItem:
        if item.image_url in self.seen:
            raise ItemRejected("duplicate_url", f"{item.image_url} already seen", log_level="DEBUG")
        self.seen.add(item.image_url)
        return item


class DownloadImagePipeline:
    """Download the image, check type and pixels, store it as ``images/<sha1(url)>.jpg|png``."""

    def __init__(self, crawler: Crawler, out_dir: Path):
        s = crawler.settings
        self.crawler = crawler
        self.images_dir = out_dir / IMAGES_DIR
        self.content_types = {t.lower() for t in s.getlist("CINEMA_CONTENT_TYPES")}
        self.max_pixels = s.getint("CINEMA_MAX_PIXELS") or None
        self.allow_redirects = s.getbool("MEDIA_ALLOW_REDIRECTS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        out_dir = crawler.settings.get("CINEMA_OUT_DIR")
        if not out_dir:
            raise NotConfigured("DownloadImagePipeline needs the CINEMA_OUT_DIR setting")
        return cls(crawler, Path(out_dir))

    async def process_item(self, item: ImageItem) -> ImageItem:
        # 1. Download through the downloader middlewares (robots, offsite, redirects, cache, size cap)
        request = Request(
            item.image_url,
            callback=NO_CALLBACK,
            headers={"Referer": item.page_url},
            meta={MEDIA_META: True, "dont_redirect": not self.allow_redirects},
        )
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as e:
            raise ItemRejected("filtered", f"{item.image_url}: {e}") from None
        except _DOWNLOAD_ERRORS as e:
            raise ItemRejected("download_error", f"{item.image_url}: {type(e).__name__}: {e}") from None
        if response.status != 200:
            raise ItemRejected("http_error", f"HTTP {response.status} for {item.image_url}")

        # 2. Check the declared type, then decode every pixel
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        content_type = content_type.split(";")[0].strip().lower()
        if content_type not in self.content_types:
            raise ItemRejected(
                "content_type",
                f"{content_type or 'no Content-Type'!r} for {item.image_url} is not one of "
                f"{sorted(self.content_types)}",
            )
        try:
            image = decode_image_bytes(response.body, max_pixels=self.max_pixels)
        except ImageRejectedError as e:
            raise ItemRejected(e.reason, f"{item.image_url}: {e.detail}") from None

        # 3. Store: JPEG/PNG byte for byte; WebP re-encoded losslessly as PNG (the store is jpg|png)
        data = response.body
        ext = _EXTENSIONS.get(image.format or "")
        if ext is None:
            buf = BytesIO()
            image.save(buf, "PNG")
            data, ext = buf.getvalue(), "png"
        url_sha1 = hashlib.sha1(item.image_url.encode("utf-8")).hexdigest()
        name = f"{url_sha1}.{ext}"
        atomic_write_bytes(self.images_dir / name, data)

        item.path = f"{IMAGES_DIR}/{name}"
        item.url_sha1 = url_sha1
        item.sha1 = hashlib.sha1(data).hexdigest()
        item.final_url = response.url
        item.content_type = content_type
        item.format = image.format
        item.width, item.height = image.size
        item.bytes = len(data)
        return item


class ImageCapPipeline:
    """Keep at most ``CINEMA_MAX_IMAGES`` images (``CLOSESPIDER_ITEMCOUNT`` then stops the crawl;
    this makes the count exact when several downloads finish at once)."""

    def __init__(self, max_images: int):
        if max_images < 1:
            raise NotConfigured(f"CINEMA_MAX_IMAGES must be >= 1, got {max_images}")
        self.max_images = max_images
        self.kept = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getint("CINEMA_MAX_IMAGES", DEFAULT_MAX_IMAGES))

    def process_item(self, item: ImageItem) -> ImageItem:
        if self.kept >= self.max_images:
            raise ItemRejected("cap", f"{self.max_images} images already kept", log_level="DEBUG")
        self.kept += 1
        return item


class JsonlRecordsPipeline:
    """Write one JSON line per kept image to ``records.jsonl``, renamed into place at the end."""

    def __init__(self, out_dir: Path):
        self.records = JsonLinesFile(out_dir / RECORDS_FILE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(out_dir_of(crawler, cls.__name__))

    def open_spider(self) -> None:
        self.records.open()

    def close_spider(self) -> None:
        self.records.close()

    def process_item(self, item: ImageItem) -> ImageItem:
        self.records.write(item.to_record())
        return item
