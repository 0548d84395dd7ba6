"""Extensions: a log of every image the pipelines rejected, with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from cinema_dag.atomic import AtomicFile
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
        self.path = out_dir / REJECTED_FILE
        self.file: AtomicFile | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        out_dir = crawler.settings.get("CINEMA_OUT_DIR")
        if not out_dir:
            raise NotConfigured("RejectionLog needs the CINEMA_OUT_DIR setting")
        ext = cls(Path(out_dir))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def spider_opened(self) -> None:
        self.file = AtomicFile(self.path)

    def spider_closed(self) -> None:
        if self.file is not None:
            self.file.commit()
            self.file = None

    def _write(self, item: Any, reason: str, detail: str) -> None:
        if self.file is None:
            return  # a late signal after close: the crawl is over, nothing more is recorded
        row = {
            "reason": reason,
            "detail": detail,
            "image_url": getattr(item, "image_url", None),
            "page_url": getattr(item, "page_url", None),
        }
        self.file.write(json.dumps(row, ensure_ascii=False) + "\n")

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        reason = getattr(exception, "reason", "dropped")
        self._write(item, reason, getattr(exception, "detail", str(exception)))

    def item_error(self, item: Any, failure: Failure) -> None:
        self._write(item, "error", f"{failure.type.__name__}: {failure.value}")
