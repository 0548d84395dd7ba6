"""Sources, settings, the offsite middleware, the item pipelines and scrape()'s input checks."""

import json
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from cinema_dag.disasters import DISASTER_KEYS, get_disaster
from cinema_dag.scraping import ScrapeError, default_allowed_domains, default_start_urls, keywords_for, scrape
from cinema_dag.scraping.items import RECORD_FIELDS, ImageItem
from cinema_dag.scraping.middlewares import MEDIA_META, MediaOffsiteMiddleware
from cinema_dag.scraping.pipelines import (
    DedupeUrlPipeline,
    ImageCapPipeline,
    ItemRejected,
    JsonlRecordsPipeline,
    RelevancePipeline,
    ValidateItemPipeline,
)
from cinema_dag.scraping.settings import DOWNLOAD_MAXSIZE, crawl_settings
from cinema_dag.scraping.spiders import DisasterImagesSpider


def item(url="https://www.forest.go.kr/a.jpg", **kw):
    return ImageItem(disaster="wildfire", page_url="https://www.forest.go.kr/p", image_url=url, **kw)


def crawler_with_spider(settings=None, allowed=("forest.go.kr",)):
    crawler = get_crawler(DisasterImagesSpider, settings or {})
    crawler.spider = DisasterImagesSpider("wildfire", ["https://www.forest.go.kr/"], list(allowed))
    return crawler


class TestSources:
    @pytest.mark.parametrize("key", DISASTER_KEYS)
    def test_every_type_has_public_korean_sources(self, key):
        urls = default_start_urls(key)
        domains = default_allowed_domains(key)
        assert urls and all(u.startswith("https://") for u in urls)
        assert all(d.endswith((".go.kr", ".or.kr")) for d in domains)
        # each start URL lies inside the allowed domains, or the crawl would filter it
        for u in urls:
            host = u.split("/")[2]
            assert any(host == d or host.endswith("." + d) for d in domains), (u, domains)

    def test_keywords_are_names_then_scene_words(self):
        d = get_disaster("heavy_snow")
        words = keywords_for("대설")
        assert words[: len(d.names)] == d.names and set(d.scene_keywords) <= set(words)
        assert len(words) == len(set(words))


class TestSettings:
    def test_polite_bounded_defaults(self, tmp_path):
        s = crawl_settings(tmp_path, max_images=7)
        assert s["ROBOTSTXT_OBEY"] is True and s["AUTOTHROTTLE_ENABLED"] is True
        assert s["HTTPCACHE_ENABLED"] is True and Path(s["HTTPCACHE_DIR"]).parent == tmp_path.resolve()
        assert s["DOWNLOAD_MAXSIZE"] == DOWNLOAD_MAXSIZE == 20 * 1024 * 1024
        assert s["CLOSESPIDER_ITEMCOUNT"] == s["CINEMA_MAX_IMAGES"] == 7
        assert s["MEDIA_ALLOW_REDIRECTS"] is True and "cinema-dag" in s["USER_AGENT"]
        assert s["DOWNLOADER_MIDDLEWARES"]["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None

    def test_overrides_win_and_are_checked(self, tmp_path):
        assert crawl_settings(tmp_path, overrides={"DOWNLOAD_DELAY": 0})["DOWNLOAD_DELAY"] == 0
        with pytest.raises(ValueError, match="'download_delay'"):
            crawl_settings(tmp_path, overrides={"download_delay": 0})
        with pytest.raises(ValueError, match="max_images must be >= 1, got 0"):
            crawl_settings(tmp_path, max_images=0)


class TestMediaOffsite:
    @pytest.fixture
    def mw(self):
        crawler = crawler_with_spider({"CINEMA_IMAGE_DOMAINS": ["cdn.example.kr"]})
        return MediaOffsiteMiddleware.from_crawler(crawler), crawler.spider

    def test_pages_follow_allowed_domains_only(self, mw):
        mw, spider = mw
        assert mw.should_follow(Request("https://www.forest.go.kr/x"), spider)
        assert not mw.should_follow(Request("https://cdn.example.kr/x.html"), spider)

    def test_media_may_use_image_domains_and_nothing_else(self, mw):
        mw, spider = mw
        media = {MEDIA_META: True}
        assert mw.should_follow(Request("https://img.cdn.example.kr/a.jpg", meta=media), spider)
        assert mw.should_follow(Request("https://www.forest.go.kr/a.jpg", meta=media), spider)
        assert not mw.should_follow(Request("https://evil.example.com/a.jpg", meta=media), spider)

    def test_robots_of_image_hosts_reachable(self, mw):
        mw, spider = mw
        robots = Request("https://cdn.example.kr/robots.txt", meta={"dont_obey_robotstxt": True})
        assert mw.should_follow(robots, spider)


class TestPipelines:
    def test_validate(self):
        crawler = crawler_with_spider({"CINEMA_IMAGE_DOMAINS": ["cdn.example.kr"]})
        p = ValidateItemPipeline.from_crawler(crawler)
        assert p.process_item(item("https://cdn.example.kr/a.jpg")).image_url.endswith("a.jpg")
        with pytest.raises(ItemRejected, match=r"offsite_image: image host 'other\.kr'") as e:
            p.process_item(item("https://other.kr/a.jpg"))
        assert isinstance(e.value, DropItem) and e.value.reason == "offsite_image"
        with pytest.raises(ItemRejected, match="invalid_url"):
            p.process_item(item("ftp://www.forest.go.kr/a.jpg"))
        with pytest.raises(ItemRejected, match="expected an ImageItem, got dict"):
            p.process_item({"image_url": "x"})

    def test_relevance(self):
        p = RelevancePipeline(required=True)
        assert p.process_item(item(keywords=["산불"]))
        with pytest.raises(ItemRejected, match="irrelevant: no 'wildfire' keyword"):
            p.process_item(item())
        assert RelevancePipeline(required=False).process_item(item())

    def test_dedupe_and_cap(self):
        d = DedupeUrlPipeline()
        d.process_item(item())
        with pytest.raises(ItemRejected, match="duplicate_url"):
            d.process_item(item())
        cap = ImageCapPipeline(2)
        cap.process_item(item("https://a/1"))
        cap.process_item(item("https://a/2"))
        with pytest.raises(ItemRejected, match="cap: 2 images already kept"):
            cap.process_item(item("https://a/3"))

    def test_records_appear_only_when_committed(self, tmp_path):
        p = JsonlRecordsPipeline(tmp_path)
        p.open_spider()
        p.process_item(item(licence="KOGL-1", alt="산불"))
        assert not (tmp_path / "records.jsonl").exists()  # no half artefact while crawling
        p.close_spider()
        rows = [
            json.loads(line) for line in (tmp_path / "records.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert len(rows) == 1 and tuple(rows[0]) == RECORD_FIELDS and rows[0]["alt"] == "산불"
        assert not list(tmp_path.glob(".*.tmp"))


class TestScrapeInputs:
    def test_start_url_outside_allowed_domains(self, tmp_path):
        with pytest.raises(ValueError, match="outside allowed_domains"):
            scrape("flood", tmp_path, ["https://www.mois.go.kr/x"], ["forest.go.kr"])

    def test_bad_values(self, tmp_path):
        with pytest.raises(ValueError, match="max_images must be >= 1, got 0"):
            scrape("flood", tmp_path, ["https://a.kr/"], max_images=0)
        with pytest.raises(TypeError, match="lists of strings"):
            scrape("flood", tmp_path, "https://a.kr/")
        with pytest.raises(ValueError, match="host names"):
            scrape("flood", tmp_path, ["https://a.kr/"], ["https://a.kr"])
        with pytest.raises(ValueError, match="JSON-serialisable"):
            scrape("flood", tmp_path, ["http://127.0.0.1:9/"], DOWNLOAD_DELAY=object())

    def test_failed_crawl_raises_with_log_and_leaves_no_results(self, tmp_path):
        (tmp_path / "records.jsonl").write_text("{}\n")  # a previous run's result
        with pytest.raises(ScrapeError, match="failed \\(exit code"):
            # An unknown pipeline class makes the crawl process fail at start-up.
            scrape("flood", tmp_path, ["http://127.0.0.1:9/"], ITEM_PIPELINES={"no.such.Pipeline": 1})
        assert not (tmp_path / "records.jsonl").exists()
        assert (tmp_path / "crawl.log").stat().st_size > 0
