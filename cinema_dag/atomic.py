"""The one atomic writer of the project: temp name beside the target, fsync, rename, sane permissions.

Every artefact file and folder is written through these functions, so a reader sees the previous
version or the complete new one — never half a file — and an interrupted or killed writer leaves at
most a hidden ``.<name>.<pid>.<hex>.tmp<suffix>`` behind.

* Files get mode ``0o666`` and folders ``0o777``, less the umask, like a plain ``open``/``mkdir``
  (``tempfile.mkstemp``/``mkdtemp`` would give 0600/0700 and make artefacts unreadable to other
  users, e.g. the Dagster webserver's).
* The temp name keeps the target's suffix (``.mp4``, ``.png``, ``.ply``), because ffmpeg, Pillow and
  open3d pick the format from it.
* Data is fsynced before the rename and the folder after it, so a power cut cannot leave a renamed
  but empty file.

Local paths only: object storage has its own commit protocol (:mod:`cinema_dag.storage`).
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "AtomicFile",
    "atomic_path",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_dir",
    "leftovers",
    "leftovers_in",
    "temp_name",
]


def _umask() -> int:
    # Linux says it without changing it; os.umask() must set it to read it, racing other threads.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_name(path: os.PathLike[str] | str, kind: str = "tmp") -> Path:
    """A fresh hidden name beside ``path`` that keeps its suffix: ``.<stem>.<pid>.<hex>.<kind><suffix>``.

    ``kind`` is ``"tmp"`` for a version being written and ``"old"`` for one being retired.
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.{kind}{path.suffix}")


_ANY_TEMP = re.compile(r"\..+\.\d+\.[0-9a-f]{8}\.(?:tmp|old)(?:\.[^.]+)?")


def leftovers_in(folder: os.PathLike[str] | str) -> list[Path]:
    """Every temp or retired name of this module in ``folder``, whatever its target (see :func:`leftovers`)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _ANY_TEMP.fullmatch(p.name))


def leftovers(path: os.PathLike[str] | str) -> list[Path]:
    """The temp and retired siblings of ``path`` that interrupted or killed writers left behind.

    They are the :func:`temp_name` names of ``path`` (files or folders); a live writer's temp is
    among them too, so only call this where no other writer of ``path`` can run (under a lock).
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.stem)}\.\d+\.[0-9a-f]{{8}}\.(?:tmp|old){re.escape(path.suffix)}")
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: os.PathLike[str] | str) -> Iterator[Path]:
    """Yield a temp path beside ``path`` for a writer that wants a file name (ffmpeg, Pillow, open3d).

    On a normal exit the temp file, which the body must have created, is fsynced, given the usual
    permissions and renamed onto ``path``; on an exception it is removed and ``path`` is untouched.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "poster.png"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_bytes(b"...")
        >>> target.read_bytes()
        b'...'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"the writer of {path} created nothing at {tmp}")
        _fsync_file(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: os.PathLike[str] | str, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temp file beside ``path`` for writing (``"w"`` text or ``"wb"`` bytes); rename on success."""
    if mode not in ("w", "wb"):
        raise ValueError(f"`mode` must be 'w' or 'wb'; got {mode!r}")
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, mode, encoding=None if mode == "wb" else encoding) as handle:
            yield handle
            handle.flush()


class _Discarded(Exception):
    """Thrown into :func:`atomic_open` by :meth:`AtomicFile.discard` so it deletes its temp file."""


class AtomicFile:
    """:func:`atomic_open` for writers whose start and end are separate calls (Scrapy's
    ``open_spider``/``close_spider``): write, then :meth:`commit` publishes the file whole, or
    :meth:`discard` (or a killed process) leaves ``path`` as it was.
    """

    def __init__(self, path: os.PathLike[str] | str, mode: str = "w", encoding: str | None = "utf-8") -> None:
        self.path = Path(path)
        self._stack = ExitStack()
        self.file: IO[Any] = self._stack.enter_context(atomic_open(self.path, mode, encoding))

    def write(self, data: Any) -> int:
        return self.file.write(data)

    def commit(self) -> Path:
        self._stack.close()
        return self.path

    def discard(self) -> None:
        error = _Discarded()
        self._stack.__exit__(_Discarded, error, None)


def atomic_write_bytes(path: os.PathLike[str] | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: os.PathLike[str] | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns ``path``."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: os.PathLike[str] | str, value: Any, indent: int | None = 2) -> Path:
    """Write ``value`` as UTF-8 JSON (Korean kept readable) to ``path`` atomically; returns ``path``."""
    return atomic_write_text(path, json.dumps(value, indent=indent, ensure_ascii=False))


@contextmanager
def atomic_dir(path: os.PathLike[str] | str, *, keep_existing: bool = False) -> Iterator[Path]:
    """Yield an empty temp folder beside ``path``; on success it replaces ``path`` whole.

    A rename cannot overwrite a non-empty folder, so an existing ``path`` is first renamed aside,
    the new folder renamed in, then the old one deleted: readers see the old folder or the new one
    (for an instant, between the two renames, none). On an exception the temp folder is deleted and
    ``path`` stays as it was. Every file in the new folder is fsynced before it is renamed in, so a
    power cut cannot publish empty files, whoever wrote them (ffmpeg, open3d, ``save_pretrained``).

    Args:
        path: the folder to publish.
        keep_existing: when ``path`` exists at the end (another process won a race to build the
            same thing), keep it and discard the new folder instead of replacing it.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "model"
        >>> with atomic_dir(target) as tmp:
        ...     _ = (tmp / "weights.bin").write_bytes(b"...")
        >>> sorted(p.name for p in target.iterdir())
        ['weights.bin']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    os.mkdir(tmp, 0o777)
    retired: Path | None = None
    try:
        yield tmp
        _fsync_tree(tmp)
        if keep_existing:
            try:
                os.rename(tmp, path)  # fails on an existing non-empty folder: the other one wins
            except OSError as err:
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not path.is_dir():
                    raise
        else:
            if path.exists():
                retired = temp_name(path, "old")
                os.replace(path, retired)
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            file = Path(dirpath, name)
            if not file.is_symlink():
                _fsync_file(file)
        _fsync_dir(Path(dirpath))
