"""The JSON-lines result files of a crawl (``records.jsonl``, ``rejected.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from cinema_dag.atomic import AtomicFile

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["JsonLinesFile", "out_dir_of"]


def out_dir_of(crawler: Crawler, component: str) -> Path:
    """The crawl's output folder (the ``CINEMA_OUT_DIR`` setting), or ``NotConfigured`` naming ``component``."""
    out_dir = crawler.settings.get("CINEMA_OUT_DIR")
    if not out_dir:
        raise NotConfigured(f"{component} needs the CINEMA_OUT_DIR setting")
    return Path(out_dir)


class JsonLinesFile:
    """One JSON object per line, opened when the spider opens and published whole when it closes
    (:class:`cinema_dag.atomic.AtomicFile`): a failed or killed crawl leaves no half file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: AtomicFile | None = None

    @property
    def is_open(self) -> bool:
        return self._file is not None

    def open(self) -> None:
        self._file = AtomicFile(self.path)

    def write(self, row: dict[str, Any]) -> None:
        if self._file is None:
            raise RuntimeError(f"{self.path.name} is not open (open_spider was not called)")
        self._file.write(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.commit()
            self._file = None
