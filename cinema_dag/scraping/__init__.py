"""Collect Korean disaster photographs with Scrapy (core: no Dagster).

:func:`scrape` crawls one disaster type's sources in a subprocess and returns a
:class:`ScrapeReport`; the quality filters that follow live in :mod:`cinema_dag.vision.quality`.
Importing this package does not import Scrapy or Twisted.
"""

from cinema_dag.scraping.run import ScrapeError, ScrapeReport, read_records, scrape
from cinema_dag.scraping.sources import (
    DEFAULT_SOURCES,
    Source,
    default_allowed_domains,
    default_sources,
    default_start_urls,
    keywords_for,
)

__all__ = [
    "DEFAULT_SOURCES",
    "ScrapeError",
    "ScrapeReport",
    "Source",
    "default_allowed_domains",
    "default_sources",
    "default_start_urls",
    "keywords_for",
    "read_records",
    "scrape",
]
