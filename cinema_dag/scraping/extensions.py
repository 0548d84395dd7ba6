"""Extensions: a log of every image the pipelines rejected, with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from cinema_dag.scraping.jsonl import JsonLinesFile, out_dir_of
from cinema_dag.scraping.layout import REJECTED_FILE

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

__all__ = ["RejectionLog"]


class RejectionLog:
    """Write ``rejected.jsonl``: one line per dropped or failed item, renamed into place at the end.

    Each line: ``reason`` (the :class:`~.pipelines.ItemRejected` code, ``"dropped"`` for another
    ``DropItem``, ``"error"`` for an exception in a pipeline), ``detail``, ``image_url``,
    ``page_url``.
    """

    def __init__(self, out_dir: Path):
        self.rejected = JsonLinesFile(out_dir / REJECTED_FILE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(out_dir_of(crawler, cls.__name__))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def spider_opened(self) -> None:
        self.rejected.open()

    def spider_closed(self) -> None:
        self.rejected.close()

    def _write(self, item: Any, reason: str, detail: str) -> None:
        if not self.rejected.is_open:
            return  # a late signal after close: the crawl is over, nothing more is recorded
        row = {
            "reason": reason,
            "detail": detail,
            "image_url": getattr(item, "image_url", None),
            "page_url": getattr(item, "page_url", None),
        }
        self.rejected.write(row)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        reason = getattr(exception, "reason", "dropped")
        self._write(item, reason, getattr(exception, "detail", str(exception)))

    def item_error(self, item: Any, failure: Failure) -> None:
        self._write(item, "error", f"{failure.type.__name__}: {failure.value}")
