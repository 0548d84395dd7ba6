"""The spider: from start pages, through pagination and keyword-matching detail links, to images.

It only parses (STYLE §4): every ``<img>`` becomes an :class:`ImageItem` with its page, alt/title,
the page's licence and the type's words found; links to image files become items too; pagination
links and detail links whose text or URL names the disaster are followed. Validation, relevance,
download and storage are the pipelines' jobs.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import scrapy
from scrapy.http import Response, TextResponse

from cinema_dag.disasters import get_disaster
from cinema_dag.scraping.items import ImageItem
from cinema_dag.scraping.licences import detect_licences, most_restrictive
from cinema_dag.scraping.sources import keywords_for

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

__all__ = ["DisasterImagesSpider", "find_keywords"]

_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|webp)(?:$|[?#])", re.IGNORECASE)
# Licence badges (KOGL marks, Creative Commons buttons) are read for the licence, never collected.
_LICENCE_MARK = re.compile(r"img_opentype|licensebuttons\.net|i\.creativecommons\.org", re.IGNORECASE)
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")
_TEXT_XPATH = "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
# For relevance, the page's own words: menus and link lists name every disaster type on the site.
_OWN_TEXT_XPATH = (
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)"
    " and not(ancestor::a) and not(ancestor::nav) and not(ancestor::header) and not(ancestor::footer)]"
)


def find_keywords(text: str, keywords: Sequence[str]) -> list[str]:
    """The keywords that occur in ``text`` (case-insensitive substring match), in keyword order.

    Korean has no spaces inside compounds (산불위기경보), so a substring match is the right test.
    """
    lowered = text.lower()
    return [k for k in keywords if k and k.lower() in lowered]


def _squash(texts: Sequence[str]) -> str:
    return " ".join(" ".join(texts).split())


class DisasterImagesSpider(scrapy.Spider):
    """Crawl start pages of one disaster type and yield every image seen.

    Args:
        disaster: the disaster type (key, Korean or English name).
        start_urls: pages to start from.
        allowed_domains: hosts whose pages may be followed (subdomains included).
    """

    name = "disaster_images"

    def __init__(
        self,
        disaster: str,
        start_urls: Sequence[str],
        allowed_domains: Sequence[str] = (),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not start_urls:
            raise ValueError("start_urls is empty: nothing to crawl")
        self.disaster = get_disaster(disaster).key
        self.start_urls = list(start_urls)
        self.allowed_domains = list(allowed_domains)
        self.keywords: tuple[str, ...] = keywords_for(self.disaster)
        self.next_selector = "a[rel~=next], link[rel~=next]"
        self.link_selector = "a[href]"
        self.image_selector = "img"
        self.image_attrs: tuple[str, ...] = ("src", "data-src")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.keywords = tuple(s.getlist("CINEMA_KEYWORDS")) or spider.keywords
        spider.next_selector = s.get("CINEMA_NEXT_SELECTOR") or spider.next_selector
        spider.link_selector = s.get("CINEMA_LINK_SELECTOR") or spider.link_selector
        spider.image_selector = s.get("CINEMA_IMAGE_SELECTOR") or spider.image_selector
        spider.image_attrs = tuple(s.getlist("CINEMA_IMAGE_ATTRS")) or spider.image_attrs
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[ImageItem | scrapy.Request]:
        if not isinstance(response, TextResponse):
            return  # a start/detail URL that is itself an image or a download: nothing to parse
        page_text = _squash(response.xpath(_TEXT_XPATH).getall())
        page_title = _squash(response.xpath("//title//text()").getall())
        alts = response.css("img::attr(alt), img::attr(title)").getall()
        urls = response.css("a::attr(href), img::attr(src), link::attr(href)").getall()
        licences = detect_licences(" ".join([page_text, *alts]), urls)
        own_text = _squash(response.xpath(_OWN_TEXT_XPATH).getall())
        page_words = find_keywords(f"{page_title} {own_text}", self.keywords)

        def item(image_url: str, alt: str, title: str) -> ImageItem:
            own = find_keywords(f"{alt} {title}", self.keywords)
            return ImageItem(
                disaster=self.disaster,
                page_url=response.url,
                image_url=image_url,
                alt=alt,
                title=title,
                page_title=page_title,
                licence=most_restrictive(licences),
                licences=licences,
                keywords=own or page_words,
                keyword_source="image" if own else ("page" if page_words else ""),
            )

        # 1. Images shown on the page
        for img in response.css(self.image_selector):
            src = next((v for a in self.image_attrs if (v := img.attrib.get(a, "").strip())), "")
            if not src or src.startswith(_SKIP_SCHEMES) or _LICENCE_MARK.search(src):
                continue
            caption = _squash(img.xpath("ancestor::figure[1]//figcaption//text()").getall())
            yield item(
                response.urljoin(src),
                " ".join(img.attrib.get("alt", "").split()),
                " ".join((img.attrib.get("title", "") or caption).split()),
            )

        # 2. Links straight to image files (galleries link the full-size original)
        for a in response.css("a[href]"):
            href = a.attrib["href"].strip()
            if (
                _IMAGE_FILE.search(href)
                and not href.startswith(_SKIP_SCHEMES)
                and not _LICENCE_MARK.search(href)
            ):
                # A thumbnail linking to its original: the link's text, else the thumbnail's alt.
                text = _squash(a.css("::text").getall()) or " ".join(a.css("img::attr(alt)").get("").split())
                yield item(response.urljoin(href), text, a.attrib.get("title", ""))

        # 3. Pagination, always followed
        for href in response.css(self.next_selector).xpath("@href").getall():
            yield response.follow(href.strip(), callback=self.parse)

        # 4. Detail pages whose link text or URL names the disaster
        for a in response.css(self.link_selector):
            href = (a.attrib.get("href") or "").strip()
            if not href or href.startswith(_SKIP_SCHEMES) or _IMAGE_FILE.search(href):
                continue
            label = _squash([*a.css("::text").getall(), a.attrib.get("title", "")])
            if find_keywords(f"{label} {unquote(href)}", self.keywords):
                yield response.follow(href, callback=self.parse)
