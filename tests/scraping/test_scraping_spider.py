"""The spider's parsing, on responses built in memory (no network)."""

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from cinema_dag.scraping.items import ImageItem
from cinema_dag.scraping.spiders import DisasterImagesSpider
from cinema_dag.scraping.spiders.disaster_images import find_keywords

BASE = "https://www.forest.go.kr/board/list.do?page=1"

PAGE = """<html><head><title>산불 보도자료</title></head><body>
<nav><a href="/menu/flood.do">홍수</a> <a href="/menu/fire.do">산불 메뉴</a></nav>
<div class="content">
  <p>강원 산불 진화 현장입니다.</p>
  <img src="/upload/a.jpg" alt="산불 진화 헬기" title="헬기">
  <img data-src="/upload/lazy.png" alt="연기">
  <img src="data:image/gif;base64,R0lGOD" alt="spacer">
  <img src="/images/common/img_opentype01.png" alt="공공누리 제1유형">
  <figure><img src="../upload/b.webp"><figcaption>산림화재 피해 지역</figcaption></figure>
  <a href="/upload/original_c.JPG">원본 보기</a>
  <a href="/upload/original_d.png"><img src="/upload/thumb_d.jpg" alt="산불 헬기 원본"></a>
  <a href="/board/view.do?id=3">영동 산불 피해 상세</a>
  <a href="/board/view.do?id=4">인사 발령</a>
  <a href="/search?q=%EC%82%B0%EB%B6%88">검색</a>
  <a href="javascript:void(0)">산불</a>
  <a rel="next" href="/board/list.do?page=2">다음</a>
</div>
<footer>공공누리 제1유형</footer></body></html>"""


def parse(spider, body=PAGE, url=BASE):
    out = list(spider.parse(HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8")))
    return [o for o in out if isinstance(o, ImageItem)], [o for o in out if isinstance(o, Request)]


@pytest.fixture
def spider():
    return DisasterImagesSpider("wildfire", [BASE], ["forest.go.kr"])


class TestParse:
    def test_images_with_alt_caption_and_licence(self, spider):
        items, _ = parse(spider)
        by_url = {i.image_url: i for i in items}
        assert set(by_url) == {
            "https://www.forest.go.kr/upload/a.jpg",
            "https://www.forest.go.kr/upload/lazy.png",
            "https://www.forest.go.kr/upload/b.webp",
            "https://www.forest.go.kr/upload/original_c.JPG",
            "https://www.forest.go.kr/upload/thumb_d.jpg",
            "https://www.forest.go.kr/upload/original_d.png",
        }  # no data: URI, no licence badge
        assert by_url["https://www.forest.go.kr/upload/original_d.png"].alt == "산불 헬기 원본"
        a = by_url["https://www.forest.go.kr/upload/a.jpg"]
        assert (a.alt, a.title, a.page_title) == ("산불 진화 헬기", "헬기", "산불 보도자료")
        assert a.keywords == ["산불"] and a.keyword_source == "image"
        assert a.licence == "KOGL-1" and a.disaster == "wildfire" and a.page_url == BASE
        b = by_url["https://www.forest.go.kr/upload/b.webp"]
        assert b.title == "산림화재 피해 지역" and b.keywords == ["산림화재"]
        lazy = by_url["https://www.forest.go.kr/upload/lazy.png"]
        assert lazy.keyword_source == "page" and "산불" in lazy.keywords

    def test_follows_pagination_and_keyword_links_only(self, spider):
        _, requests = parse(spider)
        urls = {r.url for r in requests}
        assert "https://www.forest.go.kr/board/list.do?page=2" in urls
        assert "https://www.forest.go.kr/board/view.do?id=3" in urls  # link text names 산불
        assert "https://www.forest.go.kr/search?q=%EC%82%B0%EB%B6%88" in urls  # URL names 산불
        assert "https://www.forest.go.kr/board/view.do?id=4" not in urls
        assert not any(u.startswith("javascript") or u.endswith("original_c.JPG") for u in urls)

    def test_menu_words_do_not_make_a_page_relevant(self):
        flood = DisasterImagesSpider("flood", [BASE], ["forest.go.kr"])
        items, _ = parse(flood)
        # "홍수" appears only in the <nav> menu: no image on this wildfire page is a flood image.
        assert all(i.keywords == [] and i.keyword_source == "" for i in items)

    def test_non_html_response_yields_nothing(self, spider):
        assert list(spider.parse(Response(BASE, body=b"\x89PNG"))) == []


class TestSettings:
    def test_selectors_and_keywords_from_settings(self):
        crawler = get_crawler(
            DisasterImagesSpider,
            {
                "CINEMA_KEYWORDS": ["헬기"],
                "CINEMA_IMAGE_SELECTOR": "figure img",
                "CINEMA_NEXT_SELECTOR": "a.nope",
            },
        )
        spider = DisasterImagesSpider.from_crawler(crawler, "wildfire", [BASE], ["forest.go.kr"])
        items, requests = parse(spider)
        assert {i.image_url for i in items} == {
            "https://www.forest.go.kr/upload/b.webp",
            # image links are always collected
            "https://www.forest.go.kr/upload/original_c.JPG",
            "https://www.forest.go.kr/upload/original_d.png",
        }
        assert not any("page=2" in r.url for r in requests)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="start_urls is empty"):
            DisasterImagesSpider("flood", [], ["a.kr"])
        with pytest.raises(ValueError, match="Unknown disaster type 'tsunami'"):
            DisasterImagesSpider("tsunami", [BASE])


def test_find_keywords_is_case_insensitive_substring():
    assert find_keywords("Heavy Rain and 집중호우경보", ("호우", "heavy rain", "산불")) == [
        "호우",
        "heavy rain",
    ]
