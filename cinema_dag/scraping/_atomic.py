"""Atomic file writes: a temp file in the same folder, then ``os.replace``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

__all__ = ["atomic_write_bytes", "open_atomic_text"]


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new temp file beside ``path``; mode 0o666 less the umask, like a plain ``open``
    (``tempfile.mkstemp`` would make it 0o600 and the final file unreadable to others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class open_atomic_text:  # noqa: N801 - used like open()
    """A text file written under a temp name and renamed to ``path`` by :meth:`commit`.

    :meth:`discard` removes the temp file instead, so a failed crawl never leaves a half-written
    ``path``; a killed process leaves only a hidden ``.<name>.<pid>.<hex>.tmp``.
    """

    def __init__(self, path: Path):
        self.path = path
        fd, self.tmp = _create_temp(path)
        self.file: IO[str] = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text: str) -> None:
        self.file.write(text)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)
