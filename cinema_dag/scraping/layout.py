"""File names inside a scrape's output folder (one place, so the crawl and its reader agree)."""

__all__ = ["IMAGES_DIR", "LOG_FILE", "MANIFEST_FILE", "RECORDS_FILE", "REJECTED_FILE", "STATS_FILE", "HTTPCACHE_DIR"]

IMAGES_DIR = "images"
RECORDS_FILE = "records.jsonl"
REJECTED_FILE = "rejected.jsonl"
STATS_FILE = "stats.json"
LOG_FILE = "crawl.log"
HTTPCACHE_DIR = "httpcache"
MANIFEST_FILE = "manifest.json"  # the quality filters' verdict on every image (written after the crawl)
