"""Artefact storage: one folder per asset and partition, published whole or not at all.

Layout: ``<root>/<asset>/<partition>/`` holds a partition's files and ``_manifest.json``, the commit
marker, written last: it lists every file with its size, the writer's metadata and a version id.
Readers treat a partition without a manifest as absent, so they see no version, the previous
complete one or the new complete one — never half of one.

One interface, :class:`ArtefactStorage`, two implementations chosen by the root
(``ArtefactStorage(root)`` returns the right one):

* :class:`LocalArtefactStorage` — a folder (or a ``file://`` URL). A new version is staged in a
  hidden sibling folder and swapped in by renames (:func:`cinema_dag.atomic.atomic_dir`), under an
  exclusive per-partition lock (``flock`` on ``<asset>/.<partition>.lock``): two writers of one
  partition take turns and the later one wins whole. The lock dies with its process, even by
  SIGKILL, and the next writer deletes (or, cut between its two renames, restores) what a killed
  one left. A full disk fails with :class:`StorageFullError`, the previous version intact.
* :class:`ObjectArtefactStorage` — an fsspec URL (``s3://bucket/prefix``, ``gs://…``,
  ``memory://…``). Object stores cannot rename, so each version is uploaded under its own prefix
  ``<asset>/<partition>/_versions/<version>/``, checked, and only then is the manifest naming it
  written — one PUT, seen whole or not at all. Files of two writers never mix; the manifest written
  last wins. Credentials and endpoints come from the environment only (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` for S3-compatible servers, …).

Only this module builds partition paths; :mod:`cinema_dag.artefacts` names the files inside them.
"""

from __future__ import annotations

import abc
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Any

from cinema_dag.atomic import atomic_dir, atomic_write_json, leftovers

__all__ = [
    "MANIFEST_NAME",
    "VERSIONS_DIR",
    "ArtefactStorage",
    "LocalArtefactStorage",
    "ObjectArtefactStorage",
    "MissingArtefactError",
    "PartitionLockedError",
    "StorageFullError",
    "is_object_url",
]

MANIFEST_NAME = "_manifest.json"
#: Object storage: the prefix, inside a partition, under which each version is uploaded.
VERSIONS_DIR = "_versions"
#: Object storage: an unreferenced version younger than this may be a live writer's upload.
DEFAULT_STALE_AFTER_S = 3600.0

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_log = logging.getLogger(__name__)


class MissingArtefactError(FileNotFoundError):
    """Raised when an upstream artefact has not been materialized (or not completely)."""


class StorageFullError(OSError):
    """Raised when a partition cannot be written for lack of space; the previous version is kept."""


class PartitionLockedError(TimeoutError):
    """Raised when another writer held a partition's lock for longer than the timeout."""


def is_object_url(root: str | os.PathLike[str]) -> bool:
    """Whether ``root`` names object storage (``s3://…``) rather than a local folder."""
    text = os.fspath(root)
    return "://" in text and not text.startswith("file://")


def _check_key(kind: str, value: str) -> str:
    if not value or value.startswith((".", "_")) or "/" in value or "\\" in value or "," in value:
        raise ValueError(f"{kind} must be a plain name without '/', ',' or a leading '.' or '_'; got {value!r}")
    return value


def _new_version() -> str:
    """A sortable, unique version id: UTC time to the microsecond and 8 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.urandom(4).hex()}"


def _version_age_s(version: str) -> float | None:
    try:
        started = datetime.strptime(version.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None  # not one of ours: leave it alone
    return (datetime.now(UTC) - started).total_seconds()


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


class ArtefactStorage(abc.ABC):
    """Atomic, per-asset and per-partition artefact folders under a root (local folder or URL).

    ``ArtefactStorage(root)`` gives a :class:`LocalArtefactStorage` for a path or ``file://`` URL
    and an :class:`ObjectArtefactStorage` for any other URL; keyword options go to that class.

    Args:
        root: a local folder (created on demand) or an fsspec URL such as ``s3://bucket/prefix``.
    """

    def __new__(cls, root: str | os.PathLike[str], **options: Any) -> ArtefactStorage:
        if cls is ArtefactStorage:
            cls = ObjectArtefactStorage if is_object_url(root) else LocalArtefactStorage
        return super().__new__(cls)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={self.root!r})"

    @property
    @abc.abstractmethod
    def root(self) -> str:
        """The root as a path or URL string."""

    @abc.abstractmethod
    def is_complete(self, asset: str, partition: str) -> bool:
        """Whether a complete version of the partition exists (its manifest was written)."""

    @abc.abstractmethod
    def manifest(self, asset: str, partition: str) -> dict[str, Any]:
        """The manifest of the partition's complete version.

        Raises:
            MissingArtefactError: naming the asset and partition to materialize first.
        """

    @abc.abstractmethod
    def require(self, asset: str, partition: str) -> Path:
        """A local folder holding the partition's complete version (a download for object storage).

        Raises:
            MissingArtefactError: naming the asset and partition to materialize first.
        """

    @abc.abstractmethod
    def partitions(self, asset: str) -> list[str]:
        """The partitions of an asset that have a complete version, sorted."""

    @abc.abstractmethod
    def stage(self, asset: str, partition: str, metadata: dict[str, Any] | None = None):
        """Write a new version of a partition, atomically (a context manager).

        Yields a local, empty folder; write every file of the new version into it. On a normal exit
        the folder becomes the partition's version, the manifest (files and sizes, ``metadata``, a
        new ``version`` id) written last; on an exception nothing is published and the previous
        version, if any, stays as it was.

        Example:
            >>> storage = ArtefactStorage(tempfile.mkdtemp())
            >>> with storage.stage("depth_maps", "flood", {"seed": 0}) as out:
            ...     _ = (out / "disparity_000.npy").write_bytes(b"...")
            >>> storage.manifest("depth_maps", "flood")["files"]
            {'disparity_000.npy': 3}

        Raises:
            StorageFullError: the disk (or quota) ran out; the previous version is kept.
        """

    @abc.abstractmethod
    def uri(self, asset: str, partition: str, *parts: str) -> str:
        """Where a partition (or a file in its current version) is, as a path or URL for people."""

    def cache_dir(self, name: str) -> Path:
        """A lasting local folder for caches that are not artefacts (e.g. Scrapy's HTTP cache):
        ``<root>/.cache/<name>`` for a local root, under ``cache_root`` for object storage; created."""
        path = self._local_base() / ".cache" / _check_key("cache", name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @abc.abstractmethod
    def _local_base(self) -> Path:
        """The local folder that holds caches."""

    # -- shared by both implementations --------------------------------------------------------

    def _missing(self, asset: str, partition: str) -> MissingArtefactError:
        return MissingArtefactError(
            f"No complete artefact for asset {asset!r}, partition {partition!r} under {self.root}: "
            f"materialize {asset!r} for {partition!r} first."
        )

    @staticmethod
    def _build_manifest(folder: Path, asset: str, partition: str, metadata: dict[str, Any],
                        version: str) -> dict[str, Any]:
        files = {
            p.relative_to(folder).as_posix(): p.stat().st_size
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME
        }
        return {
            "asset": asset,
            "partition": partition,
            "version": version,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": files,
            "metadata": metadata,
        }

    @contextmanager
    def _disk_full_is_clear(self, asset: str, partition: str, where: Path) -> Iterator[None]:
        """Turn running out of space into a :class:`StorageFullError` that says what it means."""
        try:
            yield
        except OSError as err:
            if err.errno not in _DISK_FULL:
                raise
            free = _free_bytes(where)
            raise StorageFullError(
                err.errno,
                f"No space left writing asset {asset!r}, partition {partition!r} under {where}"
                f"{f' ({free} bytes free)' if free is not None else ''}: {err.strerror or err}. "
                "Nothing was published; the previous version, if any, is intact. Free space and re-run.",
            ) from err


class LocalArtefactStorage(ArtefactStorage):
    """Artefact folders under a local root; see the module docstring for the commit protocol.

    Args:
        root: a folder (created on demand) or a ``file://`` URL.
        lock_timeout_s: how long :meth:`stage` waits for another writer of the same partition;
            ``None`` (default) waits as long as it takes.
    """

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout_s: float | None = None) -> None:
        text = os.fspath(root)
        text = text.removeprefix("file://")
        self._root = Path(text).expanduser().resolve()
        self.lock_timeout_s = lock_timeout_s

    @property
    def root(self) -> str:
        return str(self._root)

    def dir(self, asset: str, partition: str) -> Path:
        """The folder of one asset partition (it may not exist)."""
        return self._root / _check_key("asset", asset) / _check_key("partition", partition)

    def path(self, asset: str, partition: str, *parts: str) -> Path:
        """A file inside an asset partition's folder."""
        return self.dir(asset, partition).joinpath(*parts)

    def is_complete(self, asset: str, partition: str) -> bool:
        return self.path(asset, partition, MANIFEST_NAME).is_file()

    def manifest(self, asset: str, partition: str) -> dict[str, Any]:
        try:
            text = self.path(asset, partition, MANIFEST_NAME).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self._missing(asset, partition) from None
        return json.loads(text)

    def require(self, asset: str, partition: str) -> Path:
        self.manifest(asset, partition)
        return self.dir(asset, partition)

    def partitions(self, asset: str) -> list[str]:
        base = self._root / _check_key("asset", asset)
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir()
                      if not p.name.startswith((".", "_")) and (p / MANIFEST_NAME).is_file())

    def uri(self, asset: str, partition: str, *parts: str) -> str:
        return str(self.path(asset, partition, *parts))

    def _local_base(self) -> Path:
        return self._root

    @contextmanager
    def stage(self, asset: str, partition: str, metadata: dict[str, Any] | None = None) -> Iterator[Path]:
        final = self.dir(asset, partition)
        with self._exclusive(asset, partition):
            self._clean_up_after_killed_writers(final)
            with self._disk_full_is_clear(asset, partition, final.parent), atomic_dir(final) as staging:
                yield staging
                manifest = self._build_manifest(staging, asset, partition, metadata or {}, _new_version())
                atomic_write_json(staging / MANIFEST_NAME, manifest)

    @contextmanager
    def _exclusive(self, asset: str, partition: str) -> Iterator[None]:
        """Hold ``<asset>/.<partition>.lock`` exclusively; the kernel releases it if we die."""
        lock_path = self._root / _check_key("asset", asset) / f".{_check_key('partition', partition)}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if self.lock_timeout_s is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + self.lock_timeout_s
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise PartitionLockedError(
                                f"another writer of asset {asset!r}, partition {partition!r} held {lock_path} "
                                f"for over {self.lock_timeout_s} s"
                            ) from None
                        time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def _clean_up_after_killed_writers(final: Path) -> None:
        """Delete the temp folders of killed writers of ``final`` (we hold its lock, so no writer of
        it is alive); a writer killed between its two renames left the partition absent and the
        complete previous version retired: put that one back."""
        stale = leftovers(final)
        retired = [p for p in stale if p.name.endswith(".old") and (p / MANIFEST_NAME).is_file()]
        if retired and not final.exists():
            restored = max(retired, key=lambda p: p.stat().st_mtime)
            os.rename(restored, final)
            stale.remove(restored)
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)


class ObjectArtefactStorage(ArtefactStorage):
    """Artefact folders in object storage through fsspec; see the module docstring for the protocol.

    Args:
        root: an fsspec URL, e.g. ``s3://bucket/prefix`` (``s3fs`` reads credentials and
            ``AWS_ENDPOINT_URL`` from the environment).
        cache_root: local folder for downloads (:meth:`require`), staging and :meth:`cache_dir`;
            default: a folder per root under the system temp folder.
        stale_after_s: an unreferenced version (a killed writer's upload) is deleted by the next
            writer once it is this old; younger ones may still be uploading. Default 1 h.
        **storage_options: passed to the fsspec filesystem (never put credentials here in code).
    """

    def __init__(self, root: str, *, cache_root: str | os.PathLike[str] | None = None,
                 stale_after_s: float = DEFAULT_STALE_AFTER_S, **storage_options: Any) -> None:
        import fsspec  # noqa: PLC0415 - only object roots need it

        self._url = os.fspath(root).rstrip("/")
        # Fresh listings and a filesystem of our own: readers poll for manifests other processes write.
        options = {"skip_instance_cache": True, "use_listings_cache": False, **storage_options}
        self._fs, base = fsspec.core.url_to_fs(self._url, **options)
        self._base = base.rstrip("/")
        digest = hashlib.sha1(self._url.encode("utf-8")).hexdigest()[:12]
        self._cache_root = (Path(cache_root) if cache_root is not None
                            else Path(tempfile.gettempdir()) / "cinema_dag_cache" / digest)
        self.stale_after_s = stale_after_s

    @property
    def root(self) -> str:
        return self._url

    def _prefix(self, asset: str, partition: str) -> str:
        return f"{self._base}/{_check_key('asset', asset)}/{_check_key('partition', partition)}"

    def _version_prefix(self, asset: str, partition: str, version: str) -> str:
        return f"{self._prefix(asset, partition)}/{VERSIONS_DIR}/{version}"

    def is_complete(self, asset: str, partition: str) -> bool:
        return self._fs.exists(f"{self._prefix(asset, partition)}/{MANIFEST_NAME}")

    def manifest(self, asset: str, partition: str) -> dict[str, Any]:
        try:
            data = self._fs.cat_file(f"{self._prefix(asset, partition)}/{MANIFEST_NAME}")
        except FileNotFoundError:
            raise self._missing(asset, partition) from None
        return json.loads(data)

    def require(self, asset: str, partition: str) -> Path:
        """Download the current version into ``<cache_root>/<asset>/<partition>/<version>/`` (once).

        The download is checked against the manifest (every file, every size). A version replaced
        and deleted while it was being read is dropped and the new one read instead.
        """
        for _ in range(3):
            manifest = self.manifest(asset, partition)
            version = manifest["version"]
            target = self._cache_root / asset / partition / version
            if not (target / MANIFEST_NAME).is_file():
                try:
                    self._download(asset, partition, manifest, target)
                except FileNotFoundError:
                    continue  # superseded mid-read: read the new manifest
            for old in target.parent.iterdir():  # earlier versions of this partition
                if old.name != version and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
            return target
        raise MissingArtefactError(
            f"asset {asset!r}, partition {partition!r} under {self.root} kept changing while it was read; re-run"
        )

    def _download(self, asset: str, partition: str, manifest: dict[str, Any], target: Path) -> None:
        source = self._version_prefix(asset, partition, manifest["version"])
        with atomic_dir(target, keep_existing=True) as tmp:
            for name, size in manifest["files"].items():
                dest = tmp / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                self._fs.get_file(f"{source}/{name}", str(dest))
                if dest.stat().st_size != size:
                    raise FileNotFoundError(f"{source}/{name} has {dest.stat().st_size} bytes, the manifest {size}")
            atomic_write_json(tmp / MANIFEST_NAME, manifest)

    def partitions(self, asset: str) -> list[str]:
        try:
            entries = self._fs.ls(f"{self._base}/{_check_key('asset', asset)}", detail=False)
        except FileNotFoundError:
            return []
        names = {e.rstrip("/").rsplit("/", 1)[-1] for e in entries}
        return sorted(n for n in names if not n.startswith((".", "_")) and self.is_complete(asset, n))

    def uri(self, asset: str, partition: str, *parts: str) -> str:
        """The current version's URL (or a file in it); the partition's prefix when it has none."""
        try:
            path = self._version_prefix(asset, partition, self.manifest(asset, partition)["version"])
        except MissingArtefactError:
            path = self._prefix(asset, partition)
        return self._fs.unstrip_protocol("/".join([path, *parts]))

    def _local_base(self) -> Path:
        return self._cache_root

    @contextmanager
    def stage(self, asset: str, partition: str, metadata: dict[str, Any] | None = None) -> Iterator[Path]:
        prefix = self._prefix(asset, partition)
        staging_root = self._cache_root / ".staging"
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{asset}-{partition}-", dir=staging_root))
        try:
            with self._disk_full_is_clear(asset, partition, staging_root):
                yield staging
            # 1. Upload under a version prefix of its own (named now: its age is the upload's age)
            version = _new_version()
            manifest = self._build_manifest(staging, asset, partition, metadata or {}, version)
            target = self._version_prefix(asset, partition, version)
            for name in manifest["files"]:
                self._fs.put_file(str(staging / name), f"{target}/{name}")
            # 2. Check it is all there (a writer must never publish a version with a file missing)
            uploaded = {p[len(target) + 1:]: int(info["size"])
                        for p, info in self._fs.find(target, detail=True).items()}
            if uploaded != manifest["files"]:
                raise OSError(f"upload of {asset!r}/{partition!r} to {target} is incomplete; nothing published")
            # 3. Commit: one PUT of the manifest
            try:
                previous = self.manifest(asset, partition)["version"]
            except MissingArtefactError:
                previous = None
            self._fs.pipe_file(f"{prefix}/{MANIFEST_NAME}",
                               json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
            self._collect_garbage(asset, partition, keep=version, superseded=previous)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _collect_garbage(self, asset: str, partition: str, keep: str, superseded: str | None) -> None:
        """Delete the version just replaced and unreferenced ones older than ``stale_after_s``."""
        versions = f"{self._prefix(asset, partition)}/{VERSIONS_DIR}"
        try:
            names = [e.rstrip("/").rsplit("/", 1)[-1] for e in self._fs.ls(versions, detail=False)]
            for name in names:
                if name == keep:
                    continue
                age = _version_age_s(name)
                if name == superseded or (age is not None and age > self.stale_after_s):
                    self._fs.rm(f"{versions}/{name}", recursive=True)
        except OSError as err:  # the new version is committed; old ones go at the next write
            _log.warning("could not delete old versions under %s: %s", versions, err)
