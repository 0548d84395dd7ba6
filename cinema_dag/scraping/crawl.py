"""Run one crawl in this process: ``python -m cinema_dag.scraping.crawl < config.json``.

A Twisted reactor cannot be restarted once stopped, so :func:`cinema_dag.scraping.run.scrape`
starts this module in a fresh process for every crawl. The config (JSON on stdin, or a file given
as the only argument) has ``disaster``, ``out_dir``, ``start_urls``, ``allowed_domains``,
``max_images`` and ``settings``. Scrapy's stats are written to ``<out_dir>/stats.json`` at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cinema_dag.atomic import atomic_write_bytes
from cinema_dag.defaults import DEFAULT_MAX_IMAGES
from cinema_dag.scraping.layout import STATS_FILE

__all__ = ["main", "run_crawl"]


def run_crawl(config: dict[str, Any]) -> dict[str, Any]:
    """Crawl as ``config`` says, block until done, write and return the stats."""
    from scrapy.crawler import AsyncCrawlerProcess  # noqa: PLC0415 - installs the reactor

    from cinema_dag.scraping.settings import crawl_settings  # noqa: PLC0415
    from cinema_dag.scraping.spiders import DisasterImagesSpider  # noqa: PLC0415

    missing = {"disaster", "out_dir", "start_urls"} - set(config)
    if missing:
        raise ValueError(f"crawl config lacks {sorted(missing)}; got keys {sorted(config)}")
    out_dir = Path(config["out_dir"])
    settings = crawl_settings(
        out_dir, max_images=int(config.get("max_images", DEFAULT_MAX_IMAGES)), overrides=config.get("settings")
    )
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(DisasterImagesSpider)
    process.crawl(
        crawler,
        disaster=config["disaster"],
        start_urls=config["start_urls"],
        allowed_domains=config.get("allowed_domains") or [],
    )
    process.start()
    assert crawler.stats is not None
    stats = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in crawler.stats.get_stats().items()
    }
    atomic_write_bytes(out_dir / STATS_FILE, json.dumps(stats, indent=1, default=str).encode("utf-8"))
    return stats


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print("usage: python -m cinema_dag.scraping.crawl [CONFIG.json] (default: stdin)", file=sys.stderr)
        return 2
    text = Path(args[0]).read_text(encoding="utf-8") if args else sys.stdin.read()
    stats = run_crawl(json.loads(text))
    # A crawl that ended otherwise than by running out of pages or reaching a CLOSESPIDER_* bound
    # (the image cap) failed: "shutdown" is a signal, "cancelled" an error.
    reason = stats.get("finish_reason")
    return 0 if reason == "finished" or str(reason).startswith("closespider_") else 1


if __name__ == "__main__":
    sys.exit(main())
