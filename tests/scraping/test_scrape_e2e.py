"""Acceptance: scrape a loopback fixture site for two partitions in one process, then filter.

The site (see ``fixture_site.py``) has pagination, a keyword detail page, a robots.txt disallow,
a 404, a redirect, a truncated JPEG, a decompression bomb, an HTML page posing as a .jpg, pages and
images on another host (``localhost`` instead of ``127.0.0.1``), a near-duplicate, a blurred and an
undersized photo. Both crawls run once per module; each test checks one property.
"""

from __future__ import annotations

import json

import pytest
from fixture_site import FixtureSite, blurred, bomb_png, encode, photo

from cinema_dag.scraping import read_records, scrape
from cinema_dag.scraping.manifest import read_manifest, write_manifest
from cinema_dag.vision.quality import filter_images

FAST = {
    # Politeness off for loopback only: no delay, AutoThrottle starting from zero.
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_START_DELAY": 0.0,
    "AUTOTHROTTLE_MAX_DELAY": 0.5,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "DEBUG",
    "timeout_s": 120,  # a hung crawl fails the test instead of hanging it
}


def build_site(site: FixtureSite) -> None:
    other = site.url("", host="localhost")  # same server, another host name: offsite
    site.file("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    site.page(
        "/gallery/list1.html",
        f"""<html><head><title>홍수 피해 사진 갤러리</title></head><body>
        <h1>집중호우 피해 현장</h1>
        <img src="/img/flood1.jpg" alt="집중호우로 침수된 도로">
        <img src="/img/flood1_copy.png" alt="침수 도로 (재게시)">
        <img src="/img/blurry.jpg" alt="홍수 현장">
        <img src="/img/small.png" alt="홍수 아이콘">
        <img src="/img/missing.jpg" alt="홍수 사진">
        <img src="/img/moved.jpg" alt="하천범람">
        <img src="/img/truncated.jpg" alt="홍수">
        <img src="/img/bomb.png" alt="홍수">
        <img src="/img/notimage.jpg" alt="홍수">
        <img src="/private/secret.jpg" alt="홍수 비공개">
        <img src="{other}/img/offsite.jpg" alt="홍수 외부">
        <a href="{other}/gallery/offsite.html">홍수 외부 갤러리</a>
        <a href="/fire/index.html">산불 현장 사진</a>
        <a href="/about.html">기관 소개</a>
        <a rel="next" href="/gallery/list2.html">다음</a>
        <footer><a href="https://www.kogl.or.kr/info/licenseType1.do">
          <img src="/img/img_opentype01.png" alt="공공누리 제1유형 출처표시"></a></footer>
        </body></html>""",
    )
    site.page(
        "/gallery/list2.html",
        """<html><head><title>홍수 사진 2쪽</title></head><body>
        <img src="/img/flood3.jpg" alt="태풍 뒤 침수 피해">
        <a href="/gallery/view.html?id=7">호우 피해 상세</a>
        <p>사진: <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a></p>
        </body></html>""",
    )
    site.page(
        "/gallery/view.html?id=7",
        """<html><head><title>상세</title></head><body>
        <figure><img src="/img/flood4.webp"><figcaption>하천범람 현장</figcaption></figure>
        <img src="/img/flood1.jpg" alt="다시 실린 사진">
        <p>(행정안전부 제공. 재판매 및 DB 금지)</p></body></html>""",
    )
    site.page(
        "/fire/index.html",
        f"""<html><head><title>산불</title></head><body>
        <img src="/img/fire1.jpg" alt="산불 진화 현장">
        <img src="{other}/cdn/fire2.jpg" alt="산불 연기">
        </body></html>""",
    )
    site.page("/about.html", "<html><body>기관 소개</body></html>")

    flood1 = photo(1)
    site.file("/img/flood1.jpg", encode(flood1, "JPEG", quality=92), "image/jpeg")
    site.file("/img/flood1_copy.png", encode(flood1.resize((600, 450)), "PNG"), "image/png")
    site.file("/img/blurry.jpg", encode(blurred(photo(2)), "JPEG"), "image/jpeg")
    site.file("/img/small.png", encode(photo(3, (96, 64)), "PNG"), "image/png")
    site.redirect("/img/moved.jpg", "/img/flood2.jpg")
    site.file("/img/flood2.jpg", encode(photo(4), "JPEG"), "image/jpeg")
    truncated = encode(photo(5), "JPEG")
    site.file("/img/truncated.jpg", truncated[: len(truncated) // 2], "image/jpeg")
    site.file("/img/bomb.png", bomb_png(), "image/png")
    site.file("/img/notimage.jpg", b"<html>not an image</html>", "text/html")
    site.file("/private/secret.jpg", encode(photo(6), "JPEG"), "image/jpeg")
    site.file("/img/offsite.jpg", encode(photo(7), "JPEG"), "image/jpeg")
    site.file("/img/flood3.jpg", encode(photo(8), "JPEG"), "image/jpeg")
    site.file("/img/flood4.webp", encode(photo(9), "WEBP", lossless=True), "image/webp")
    site.file("/img/fire1.jpg", encode(photo(10), "JPEG"), "image/jpeg")
    site.file("/cdn/fire2.jpg", encode(photo(11), "JPEG"), "image/jpeg")
    site.file("/img/img_opentype01.png", encode(photo(12, (90, 30)), "PNG"), "image/png")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Two partitions scraped one after the other from this one test process."""
    site = FixtureSite()
    build_site(site)
    root = tmp_path_factory.mktemp("scrape")
    try:
        flood = scrape("flood", root / "flood", [site.url("/gallery/list1.html")], ["127.0.0.1"], **FAST)
        flood_log = list(site.log)
        # The images of the wildfire page are on "localhost" too: allowed as an image host only.
        wildfire = scrape(
            "wildfire",
            root / "wildfire",
            [site.url("/gallery/list1.html")],
            ["127.0.0.1"],
            image_domains=["localhost"],
            **FAST,
        )
        yield {"site": site, "flood": flood, "flood_log": flood_log, "wildfire": wildfire, "root": root}
    finally:
        site.close()


def _by_name(records):
    return {r["image_url"].rsplit("/", 1)[-1]: r for r in records}


def test_collects_allowed_images_following_pagination_and_details(crawled):
    report = crawled["flood"]
    records = _by_name(report.records())
    # list1 (4 usable + the redirect), list2 via rel=next, the detail page via its keyword link
    assert set(records) == {
        "flood1.jpg",
        "flood1_copy.png",
        "blurry.jpg",
        "small.png",
        "moved.jpg",
        "flood3.jpg",
        "flood4.webp",
    }
    assert report.images == 7
    assert report.finish_reason == "finished"
    for r in records.values():
        f = report.out_dir / r["path"]
        assert f.is_file() and f.stat().st_size == r["bytes"]
        assert f.stem == r["url_sha1"] and f.suffix in (".jpg", ".png")
    assert records["flood4.webp"]["format"] == "WEBP" and records["flood4.webp"]["path"].endswith(".png")
    assert records["flood1.jpg"]["width"] == 640 and records["flood1.jpg"]["height"] == 480
    # Nothing else is stored: no rejected image left a file behind.
    assert sorted(p.name for p in report.images_dir.iterdir()) == sorted(
        r["path"].split("/")[-1] for r in records.values()
    )


def test_records_page_alt_keywords_and_licence(crawled):
    records = _by_name(crawled["flood"].records())
    r = records["flood1.jpg"]
    assert r["page_url"].endswith("/gallery/list1.html")
    assert r["alt"] == "집중호우로 침수된 도로"
    assert r["keyword_source"] == "image" and "집중호우" in r["keywords"] and "침수" in r["keywords"]
    assert r["licence"] == "KOGL-1"
    assert records["flood3.jpg"]["licence"] == "CC-BY-4.0"
    # The detail page says "재판매 및 DB 금지": the most restrictive wins.
    assert records["flood4.webp"]["licence"] == "all-rights-reserved"
    assert records["flood4.webp"]["title"] == "하천범람 현장"  # from the <figcaption>
    # The licence mark itself is not collected as a photo.
    assert not any("opentype" in u for u in records)


def test_redirect_followed_for_media(crawled):
    r = _by_name(crawled["flood"].records())["moved.jpg"]
    assert r["final_url"].endswith("/img/flood2.jpg")
    assert ("127.0.0.1", "/img/moved.jpg") in crawled["flood_log"]
    assert ("127.0.0.1", "/img/flood2.jpg") in crawled["flood_log"]


def test_rejections_have_reasons(crawled):
    report = crawled["flood"]
    rejected = {r["image_url"].rsplit("/", 1)[-1]: r for r in read_records(report.rejected_path)}
    assert rejected["missing.jpg"]["reason"] == "http_error" and "404" in rejected["missing.jpg"]["detail"]
    assert rejected["truncated.jpg"]["reason"] == "undecodable"
    assert "truncated" in rejected["truncated.jpg"]["detail"]
    assert rejected["bomb.png"]["reason"] == "decompression_bomb"
    assert rejected["notimage.jpg"]["reason"] == "content_type"
    assert rejected["secret.jpg"]["reason"] == "filtered" and "robots" in rejected["secret.jpg"]["detail"]
    assert rejected["offsite.jpg"]["reason"] == "offsite_image"
    assert report.rejected["duplicate_url"] == 1  # flood1.jpg shown again on the detail page
    assert sum(report.rejected.values()) == len(read_records(report.rejected_path))


def test_robots_disallow_and_other_hosts_are_never_fetched(crawled):
    log = crawled["flood_log"]
    paths = [p for _, p in log]
    assert "/robots.txt" in paths
    assert "/private/secret.jpg" not in paths
    assert [p for h, p in log if h == "localhost"] == []  # neither the offsite page nor its image
    assert "/about.html" not in paths  # a link without a keyword is not followed
    assert "/fire/index.html" not in paths  # a wildfire link is not a flood keyword


def test_second_partition_in_same_process_and_image_domains(crawled):
    report = crawled["wildfire"]
    site = crawled["site"]
    records = _by_name(report.records())
    # Only the wildfire page's photos are relevant; the flood gallery's are not.
    assert set(records) == {"fire1.jpg", "fire2.jpg"}
    assert report.rejected["irrelevant"] >= 5
    # The image host "localhost" was allowed for images (and its robots.txt read) but its pages not.
    later = site.log[len(crawled["flood_log"]) :]
    assert ("localhost", "/cdn/fire2.jpg") in later and ("localhost", "/robots.txt") in later
    assert ("localhost", "/gallery/offsite.html") not in later


def test_filters_drop_duplicate_blurred_and_small(crawled, tmp_path):
    report = crawled["flood"]
    records = report.records()
    manifest = filter_images(report.image_paths(), records, detect_people=None)
    by_url = {r.image_url.rsplit("/", 1)[-1]: r for r in manifest.kept + manifest.rejected}
    assert by_url["flood1_copy.png"].reason == "near_duplicate"
    assert by_url["flood1_copy.png"].duplicate_of == by_url["flood1.jpg"].path
    assert by_url["blurry.jpg"].reason == "blurry"
    assert by_url["small.png"].reason == "too_small" and "96x64" in by_url["small.png"].detail
    kept = {r.image_url.rsplit("/", 1)[-1] for r in manifest.kept}
    assert kept == {"flood1.jpg", "moved.jpg", "flood3.jpg", "flood4.webp"}
    assert by_url["flood1.jpg"].licence == "KOGL-1" and by_url["flood1.jpg"].page_url.endswith("list1.html")

    path = write_manifest(manifest, tmp_path / "manifest.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["counts"] == {"kept": 4, "rejected": 3, "near_duplicate": 1, "blurry": 1, "too_small": 1}
    assert read_manifest(path) == manifest


def test_cap_is_exact_and_leaves_no_extra_files(crawled):
    site, out = crawled["site"], crawled["root"] / "capped"
    report = scrape("flood", out, [site.url("/gallery/list1.html")], ["127.0.0.1"], max_images=2, **FAST)
    assert report.images == 2 and report.finish_reason == "closespider_itemcount"
    assert sorted(p.name for p in report.images_dir.iterdir()) == sorted(
        r["path"].split("/")[-1] for r in report.records()
    )


def test_rerun_is_served_from_the_http_cache(crawled):
    site, first = crawled["site"], crawled["wildfire"]
    before = len(site.log)
    again = scrape(
        "wildfire",
        first.out_dir,
        [site.url("/gallery/list1.html")],
        ["127.0.0.1"],
        image_domains=["localhost"],
        **FAST,
    )
    assert len(site.log) == before  # nothing fetched from the server the second time
    assert again.stats.get("httpcache/hit", 0) > 0 and (first.out_dir / "httpcache").is_dir()
    assert sorted(r["sha1"] for r in again.records()) == sorted(r["sha1"] for r in first.records())


def test_download_size_is_bounded(crawled):
    site = crawled["site"]
    report = scrape(
        "wildfire", crawled["root"] / "maxsize", [site.url("/fire/index.html")], ["127.0.0.1"],
        DOWNLOAD_MAXSIZE=10_000, **FAST,
    )  # fmt: skip
    assert report.images == 0
    rejected = {r["image_url"].rsplit("/", 1)[-1]: r for r in read_records(report.rejected_path)}
    assert rejected["fire1.jpg"]["reason"] == "download_error"  # ~50 kB > 10 kB: cancelled, not stored
    assert "DownloadCancelledError" in rejected["fire1.jpg"]["detail"]
    assert not report.images_dir.exists() or not any(report.images_dir.iterdir())
