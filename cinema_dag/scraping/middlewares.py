"""Offsite filtering that lets image downloads reach the configured image hosts, and nothing else.

Scrapy's ``OffsiteMiddleware`` filters every request whose host is outside the spider's
``allowed_domains`` — media downloads included (scrapy issue #7544), so photos served from an image
host or CDN are silently dropped. ``allow_offsite`` in the request meta would let them through but is
copied onto every redirect, so an allowed image could redirect anywhere. Instead, requests marked
with :data:`MEDIA_META` (and the ``robots.txt`` requests of their hosts) are checked against
``allowed_domains`` *plus* the ``CINEMA_IMAGE_DOMAINS`` setting, at every hop; pages still follow
``allowed_domains`` only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request, Spider

__all__ = ["MEDIA_META", "MediaOffsiteMiddleware"]

MEDIA_META = "cinema_media"
"""Request meta key that marks an image download."""


class MediaOffsiteMiddleware(OffsiteMiddleware):
    """``OffsiteMiddleware`` with a second, wider domain list for image downloads."""

    _media_regex: re.Pattern[str] | None = None

    def _media_host_regex(self, spider: Spider) -> re.Pattern[str]:
        if self._media_regex is None:
            domains = [
                *(getattr(spider, "allowed_domains", None) or []),
                *self.crawler.settings.getlist("CINEMA_IMAGE_DOMAINS"),
            ]
            if not domains:
                self._media_regex = re.compile("")  # no list at all: everything, as Scrapy does
            else:
                alternatives = "|".join(re.escape(d) for d in domains if d)
                self._media_regex = re.compile(rf"^(.*\.)?({alternatives})$")
        return self._media_regex

    def should_follow(self, request: Request, spider: Spider) -> bool:
        is_media = bool(request.meta.get(MEDIA_META))
        # robots.txt of an image host must be fetchable, or its rules could not be obeyed.
        is_robots = (
            bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"
        )
        if is_media or is_robots:
            host = urlparse_cached(request).hostname or ""
            return bool(self._media_host_regex(spider).search(host))
        return super().should_follow(request, spider)
