"""Scrape one disaster type into a folder, each crawl in its own process.

Twisted's reactor cannot be restarted in a process (``ReactorNotRestartable``), and
``dagster.materialize()`` runs every partition in the calling process; so :func:`scrape` starts
``python -m cinema_dag.scraping.crawl`` as a subprocess and reads back what it wrote. Two
partitions, or the same one twice, can be scraped from one Python process.

Output folder::

    images/<sha1(image url)>.jpg|png   the kept images (only those in records.jsonl)
    records.jsonl                      one JSON object per kept image (see ImageItem)
    rejected.jsonl                     one per rejected image: reason, detail, image_url, page_url
    stats.json                         Scrapy's stats
    crawl.log                          the crawl's log
    httpcache/                         Scrapy's HTTP cache: a re-run does not hit the servers again
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import cinema_dag
from cinema_dag.atomic import leftovers_in
from cinema_dag.defaults import DEFAULT_MAX_IMAGES
from cinema_dag.disasters import get_disaster
from cinema_dag.scraping.layout import IMAGES_DIR, LOG_FILE, RECORDS_FILE, REJECTED_FILE, STATS_FILE
from cinema_dag.scraping.sources import default_allowed_domains, default_start_urls

__all__ = ["ScrapeError", "ScrapeReport", "read_records", "scrape"]

_STORED_IMAGE = re.compile(r"^[0-9a-f]{40}\.(?:jpg|png)$")


class ScrapeError(RuntimeError):
    """Raised when a crawl process fails or times out; the message ends with its last log lines."""


@dataclass(frozen=True)
class ScrapeReport:
    """What one crawl produced.

    Attributes:
        disaster: the disaster type key.
        out_dir: the output folder; ``records_path``, ``rejected_path``, ``images_dir``,
            ``log_path`` lie in it.
        images: images kept (lines of ``records.jsonl``).
        rejected: rejected images per reason code (``{"http_error": 1, "undecodable": 2}``).
        pages: responses received (pages, robots.txt and images together).
        finish_reason: Scrapy's (``"finished"``, ``"closespider_itemcount"`` …).
        duration_s: wall time of the crawl process.
        stats: Scrapy's stats.
    """

    disaster: str
    out_dir: Path
    images: int
    rejected: dict[str, int]
    pages: int
    finish_reason: str
    duration_s: float
    stats: dict[str, Any] = field(repr=False)

    @property
    def records_path(self) -> Path:
        return self.out_dir / RECORDS_FILE

    @property
    def rejected_path(self) -> Path:
        return self.out_dir / REJECTED_FILE

    @property
    def images_dir(self) -> Path:
        return self.out_dir / IMAGES_DIR

    @property
    def log_path(self) -> Path:
        return self.out_dir / LOG_FILE

    def records(self) -> list[dict[str, Any]]:
        """The kept images' records."""
        return read_records(self.records_path)

    def image_paths(self) -> list[Path]:
        """The kept images' files, in record order."""
        return [self.out_dir / r["path"] for r in self.records()]


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a JSON-lines file (``records.jsonl`` or ``rejected.jsonl``)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _check_inputs(start_urls: Sequence[str], allowed_domains: Sequence[str], max_images: int) -> None:
    if isinstance(start_urls, str) or isinstance(allowed_domains, str):
        raise TypeError("start_urls and allowed_domains must be lists of strings, not one string")
    if not start_urls:
        raise ValueError("start_urls is empty: nothing to crawl")
    if max_images < 1:
        raise ValueError(f"max_images must be >= 1, got {max_images}")
    for d in allowed_domains:
        if not d or "/" in d or ":" in d:
            raise ValueError(f"allowed_domains holds host names like 'forest.go.kr'; got {d!r}")
    for url in start_urls:
        parsed = urlparse(url)
        host = parsed.hostname or ""
        if parsed.scheme not in ("http", "https") or not host:
            raise ValueError(f"start URL {url!r} is not an http(s) URL")
        if allowed_domains and not any(host == d or host.endswith("." + d) for d in allowed_domains):
            raise ValueError(
                f"start URL {url!r} is outside allowed_domains {list(allowed_domains)}: it would be "
                "filtered as offsite"
            )


def _prune_unrecorded_images(out_dir: Path, records: list[dict[str, Any]]) -> int:
    """Delete stored images that no record names (downloads past the cap, earlier runs' leftovers)."""
    images_dir = out_dir / IMAGES_DIR
    if not images_dir.is_dir():
        return 0
    keep = {Path(r["path"]).name for r in records if r.get("path")}
    removed = 0
    for f in images_dir.iterdir():
        if _STORED_IMAGE.match(f.name) and f.name not in keep:
            f.unlink()
            removed += 1
    return removed


def _remove_results(out_dir: Path) -> None:
    """Remove the result files, and the temp files a killed crawl left (see :mod:`cinema_dag.atomic`)."""
    for name in (STATS_FILE, RECORDS_FILE, REJECTED_FILE):
        (out_dir / name).unlink(missing_ok=True)
    for folder in (out_dir, out_dir / IMAGES_DIR):
        for tmp in leftovers_in(folder):
            tmp.unlink()


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def scrape(
    disaster_key: str,
    out_dir: str | os.PathLike[str],
    start_urls: Sequence[str] | None = None,
    allowed_domains: Sequence[str] | None = None,
    max_images: int = DEFAULT_MAX_IMAGES,
    *,
    image_domains: Sequence[str] = (),
    keywords: Sequence[str] | None = None,
    timeout_s: float | None = None,
    **settings: Any,
) -> ScrapeReport:
    """Crawl for photos of one disaster type, in a subprocess, into ``out_dir``.

    Args:
        disaster_key: the disaster type (key, Korean or English name).
        out_dir: output folder (created).
        start_urls: pages to start from; ``None`` uses :func:`~.sources.default_start_urls`.
        allowed_domains: hosts whose pages may be followed. ``None``: the default sources'
            domains when ``start_urls`` is ``None`` too, else the hosts of ``start_urls``.
        max_images: images kept at most (:data:`~cinema_dag.defaults.DEFAULT_MAX_IMAGES`).
        image_domains: further hosts images (not pages) may be downloaded from, e.g. a CDN.
        keywords: words that make a page or image relevant; ``None``: the type's names and scene
            keywords (:func:`~.sources.keywords_for`).
        timeout_s: wall-clock limit of the crawl process (``None``: no limit but Scrapy's own).
        **settings: Scrapy settings that override the defaults of :func:`~.settings.crawl_settings`
            (e.g. ``DOWNLOAD_DELAY=0``); JSON-serialisable values.

    Returns:
        A :class:`ScrapeReport`.

    Raises:
        ValueError: bad arguments (a start URL outside ``allowed_domains`` …).
        ScrapeError: the crawl process failed or timed out.
    """
    # 1. Check inputs
    disaster = get_disaster(disaster_key).key
    if start_urls is None:
        start_urls = default_start_urls(disaster)
        if allowed_domains is None:
            allowed_domains = default_allowed_domains(disaster)
    if allowed_domains is None:
        allowed_domains = sorted({urlparse(u).hostname or "" for u in start_urls} - {""})
    _check_inputs(start_urls, allowed_domains, max_images)
    if isinstance(image_domains, str):
        raise TypeError(f"image_domains must be a list of host names, got the string {image_domains!r}")
    if keywords is not None:
        settings["CINEMA_KEYWORDS"] = list(keywords)
    if image_domains:
        settings["CINEMA_IMAGE_DOMAINS"] = list(image_domains)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "disaster": disaster,
        "out_dir": str(out),
        "start_urls": list(start_urls),
        "allowed_domains": list(allowed_domains),
        "max_images": max_images,
        "settings": settings,
    }
    try:
        payload = json.dumps(config, ensure_ascii=False)
    except TypeError as e:
        raise ValueError(f"settings must be JSON-serialisable to reach the crawl process: {e}") from None

    # 2. Crawl in a fresh process (a Twisted reactor cannot be restarted)
    _remove_results(out)  # so a failed crawl never leaves the previous run's results behind
    env = dict(os.environ)
    package_root = str(Path(cinema_dag.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    started = time.perf_counter()
    with open(out / LOG_FILE, "w", encoding="utf-8") as log:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "cinema_dag.scraping.crawl"],
                input=payload,
                text=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ScrapeError(
                f"crawl of {disaster!r} into {str(out)!r} exceeded {timeout_s} s; last log lines:\n"
                f"{_tail(out / LOG_FILE)}"
            ) from None
    duration = time.perf_counter() - started
    if proc.returncode != 0 or not (out / STATS_FILE).exists():
        _remove_results(out)
        raise ScrapeError(
            f"crawl of {disaster!r} into {str(out)!r} failed (exit code {proc.returncode}); "
            f"last log lines:\n{_tail(out / LOG_FILE)}"
        )

    # 3. Read back what it wrote; drop images past the cap that no record names
    stats = json.loads((out / STATS_FILE).read_text(encoding="utf-8"))
    records = read_records(out / RECORDS_FILE)
    _prune_unrecorded_images(out, records)
    rejected = Counter(r["reason"] for r in read_records(out / REJECTED_FILE))
    return ScrapeReport(
        disaster=disaster,
        out_dir=out,
        images=len(records),
        rejected=dict(sorted(rejected.items())),
        pages=int(stats.get("response_received_count", 0)),
        finish_reason=str(stats.get("finish_reason", "")),
        duration_s=round(duration, 3),
        stats=stats,
    )
