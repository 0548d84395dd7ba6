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

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_path",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_dir",
    "temp_name",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_name(path: os.PathLike[str] | str, kind: str = "tmp") -> Path:
    """A fresh hidden name beside ``path`` that keeps its suffix: ``.<stem>.<pid>.<hex>.<kind><suffix>``."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.{kind}{path.suffix}")


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
def atomic_dir(path: os.PathLike[str] | str) -> Iterator[Path]:
    """Yield an empty temp folder beside ``path``; on success it replaces ``path`` whole.

    A rename cannot overwrite a non-empty folder, so an existing ``path`` is first renamed aside,
    the new folder renamed in, then the old one deleted: readers see the old folder or the new one
    (for an instant, between the two renames, none). On an exception the temp folder is deleted and
    ``path`` stays as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    os.mkdir(tmp, 0o777)
    retired: Path | None = None
    try:
        yield tmp
        if path.exists():
            retired = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.old")
            os.replace(path, retired)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
