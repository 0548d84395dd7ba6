"""Scrapy settings for one polite, bounded crawl of one disaster type.

Project settings (prefix ``CINEMA_``) configure the spider and pipelines:

========================== ===================================================================
``CINEMA_OUT_DIR``         output folder: ``images/``, ``records.jsonl``, ``rejected.jsonl``
``CINEMA_MAX_IMAGES``      images kept per crawl (the cap; default ``DEFAULT_MAX_IMAGES``)
``CINEMA_IMAGE_DOMAINS``   extra hosts images may be downloaded from (pages never)
``CINEMA_KEYWORDS``        words that make a page/image relevant (default: the type's words)
``CINEMA_REQUIRE_KEYWORD`` drop images whose alt/title/page text has none of them (default True)
``CINEMA_NEXT_SELECTOR``   CSS of pagination links (default ``a[rel~=next], link[rel~=next]``)
``CINEMA_LINK_SELECTOR``   CSS of candidate detail links, followed when text/URL has a keyword
``CINEMA_IMAGE_SELECTOR``  CSS of images (default ``img``)
``CINEMA_IMAGE_ATTRS``     attributes holding the image URL, first present wins (``src``, ``data-src``)
``CINEMA_CONTENT_TYPES``   media types accepted for images (jpeg, png, webp)
``CINEMA_MAX_PIXELS``      decompression-bomb limit (default: Pillow's ``Image.MAX_IMAGE_PIXELS``)
========================== ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cinema_dag.defaults import DEFAULT_MAX_IMAGES
from cinema_dag.scraping.layout import HTTPCACHE_DIR

__all__ = ["DEFAULT_MAX_IMAGES", "DEFAULT_USER_AGENT", "DOWNLOAD_MAXSIZE", "crawl_settings"]

DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DEFAULT_USER_AGENT = (
    "cinema-dag/0.1 (research crawler collecting public Korean disaster photos; obeys robots.txt)"
)

_PKG = "cinema_dag.scraping"


def crawl_settings(
    out_dir: Path,
    *,
    max_images: int = DEFAULT_MAX_IMAGES,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The settings of one crawl writing under ``out_dir``; ``overrides`` win over every default.

    Raises:
        ValueError: ``max_images`` < 1, or an override key that is not an UPPER_CASE setting name.
    """
    if max_images < 1:
        raise ValueError(f"max_images must be >= 1, got {max_images}")
    for key in overrides or {}:
        if not (isinstance(key, str) and key.isupper() and key.replace("_", "").isalnum()):
            raise ValueError(f"setting names are UPPER_CASE like 'DOWNLOAD_DELAY'; got {key!r}")
    out_dir = Path(out_dir).resolve()
    settings: dict[str, Any] = {
        "BOT_NAME": "cinema-dag",
        "USER_AGENT": DEFAULT_USER_AGENT,
        # Politeness: robots.txt, one slow connection per site that adapts to the server's latency.
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 1.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 2.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        # A re-crawl of the same partition is served from disk, not from the government's server.
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(out_dir / HTTPCACHE_DIR),
        "HTTPCACHE_IGNORE_HTTP_CODES": [408, 429, 500, 502, 503, 504],
        # Bounds: size of one download, time, and how much is crawled before giving up.
        "DOWNLOAD_MAXSIZE": DOWNLOAD_MAXSIZE,
        "DOWNLOAD_WARNSIZE": DOWNLOAD_MAXSIZE // 2,
        "DOWNLOAD_TIMEOUT": 60,
        "CLOSESPIDER_ITEMCOUNT": max_images,
        "CLOSESPIDER_PAGECOUNT": 5000,
        "MEDIA_ALLOW_REDIRECTS": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            f"{_PKG}.middlewares.MediaOffsiteMiddleware": 50,
        },
        "ITEM_PIPELINES": {
            f"{_PKG}.pipelines.ValidateItemPipeline": 100,
            f"{_PKG}.pipelines.RelevancePipeline": 200,
            f"{_PKG}.pipelines.DedupeUrlPipeline": 300,
            f"{_PKG}.pipelines.DownloadImagePipeline": 400,
            f"{_PKG}.pipelines.ImageCapPipeline": 500,
            f"{_PKG}.pipelines.JsonlRecordsPipeline": 900,
        },
        "EXTENSIONS": {f"{_PKG}.extensions.RejectionLog": 500},
        "CINEMA_OUT_DIR": str(out_dir),
        "CINEMA_MAX_IMAGES": max_images,
        "CINEMA_IMAGE_DOMAINS": [],
        "CINEMA_REQUIRE_KEYWORD": True,
        "CINEMA_NEXT_SELECTOR": "a[rel~=next], link[rel~=next]",
        "CINEMA_LINK_SELECTOR": "a[href]",
        "CINEMA_IMAGE_SELECTOR": "img",
        "CINEMA_IMAGE_ATTRS": ["src", "data-src"],
        "CINEMA_CONTENT_TYPES": ["image/jpeg", "image/png", "image/webp"],
        "CINEMA_MAX_PIXELS": None,
    }
    settings.update(overrides or {})
    return settings
