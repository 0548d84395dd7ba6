"""Artefact storage: one folder per asset and partition, written atomically.

Layout: ``<root>/<asset>/<partition>/<files…>`` with ``_manifest.json`` written last. A partition
folder is either absent, the complete previous version, or the complete new version — never a mix:

* local roots: the new version is staged in a sibling temp folder, then swapped in with renames;
* remote roots (``s3://…`` through fsspec/UPath): files are uploaded, then ``_manifest.json`` — the
  commit marker that readers check — is written last.

Only this module builds artefact paths, so names stay the same in code, UI and storage.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from upath import UPath

__all__ = ["ArtefactStorage", "MissingArtefactError", "MANIFEST_NAME", "atomic_write_bytes"]

MANIFEST_NAME = "_manifest.json"
_STAGING_PREFIX = ".staging-"
_RETIRED_PREFIX = ".retired-"


class MissingArtefactError(FileNotFoundError):
    """Raised when an upstream artefact has not been materialized (or not completely)."""


def atomic_write_bytes(path: os.PathLike | str, data: bytes) -> Path:
    """Write ``data`` to a local ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _check_key(kind: str, value: str) -> str:
    if not value or value.startswith(".") or "/" in value or "\\" in value or "," in value:
        raise ValueError(f"{kind} must be a plain name without '/', ',' or a leading '.'; got {value!r}")
    return value


class ArtefactStorage:
    """Atomic, per-asset and per-partition artefact folders under a root (local path or URL).

    Args:
        root: a local folder (created on demand) or an fsspec URL such as ``s3://bucket/prefix``.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self._local = "://" not in str(root) or str(root).startswith("file://")
        if self._local:
            local = str(root)[len("file://"):] if str(root).startswith("file://") else root
            self.root = UPath(Path(local).expanduser().resolve())
        else:
            self.root = UPath(root)

    def __repr__(self) -> str:
        return f"ArtefactStorage(root={str(self.root)!r})"

    @property
    def is_local(self) -> bool:
        return self._local

    def dir(self, asset: str, partition: str) -> UPath:
        """The folder of one asset partition (it may not exist)."""
        return self.root / _check_key("asset", asset) / _check_key("partition", partition)

    def path(self, asset: str, partition: str, *parts: str) -> UPath:
        """A file inside an asset partition's folder."""
        return self.dir(asset, partition).joinpath(*parts)

    def is_complete(self, asset: str, partition: str) -> bool:
        """Whether a complete version of the partition exists (its manifest was written)."""
        return self.path(asset, partition, MANIFEST_NAME).exists()

    def manifest(self, asset: str, partition: str) -> dict[str, Any]:
        """The manifest of a complete partition.

        Raises:
            MissingArtefactError: naming the asset and partition to materialize first.
        """
        path = self.path(asset, partition, MANIFEST_NAME)
        if not path.exists():
            raise MissingArtefactError(
                f"No complete artefact for asset {asset!r}, partition {partition!r} under {self.root}: "
                f"materialize {asset!r} for {partition!r} first."
            )
        return json.loads(path.read_text(encoding="utf-8"))

    def require(self, asset: str, partition: str) -> Path:
        """The local folder of a complete partition (downloaded to a cache for remote roots)."""
        self.manifest(asset, partition)
        if self._local:
            return Path(str(self.dir(asset, partition)))
        cache = Path(tempfile.gettempdir()) / "cinema_dag_cache" / asset / partition
        if cache.exists():
            shutil.rmtree(cache)
        cache.mkdir(parents=True)
        self.dir(asset, partition).fs.get(str(self.dir(asset, partition)) + "/", str(cache), recursive=True)
        return cache

    def cache_dir(self, name: str) -> Path:
        """A lasting local folder for caches that are not artefacts (e.g. Scrapy's HTTP cache).

        ``<root>/.cache/<name>`` for local roots; under the system temp folder for remote ones.
        """
        base = Path(str(self.root)) if self._local else Path(tempfile.gettempdir()) / "cinema_dag_cache"
        path = base / ".cache" / _check_key("cache", name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def partitions(self, asset: str) -> list[str]:
        """The partitions of an asset that have a complete version, sorted."""
        base = self.root / _check_key("asset", asset)
        if not base.exists():
            return []
        return sorted(
            p.name for p in base.iterdir()
            if not p.name.startswith(".") and (p / MANIFEST_NAME).exists()
        )

    @contextmanager
    def stage(self, asset: str, partition: str, metadata: dict[str, Any] | None = None) -> Iterator[Path]:
        """Write a new version of a partition folder atomically.

        Yields a local, empty temp folder; write every file of the new version into it. On a normal
        exit the folder replaces the partition (the manifest, listing files and sizes plus
        ``metadata``, is written last); on an exception it is deleted and the previous version, if
        any, stays as it was.

        Example:
            >>> with storage.stage("depth_maps", "flood") as out:
            ...     (out / "depth_000.npy").write_bytes(data)
        """
        final = self.dir(asset, partition)
        if self._local:
            parent = Path(str(final)).parent
            parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{partition}-", dir=parent))
        else:
            staging = Path(tempfile.mkdtemp(prefix=f"cinema_dag-{asset}-{partition}-"))
        try:
            yield staging
            self._write_manifest(staging, asset, partition, metadata or {})
            if self._local:
                self._swap_local(staging, Path(str(final)))
            else:
                self._upload(staging, final)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def write_bytes(self, asset: str, partition: str, name: str, data: bytes) -> UPath:
        """Replace one file of an existing partition atomically (temp name, then rename)."""
        target = self.path(asset, partition, name)
        if self._local:
            atomic_write_bytes(str(target), data)
        else:
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            tmp.fs.mv(str(tmp), str(target))
        return target

    def read_json(self, asset: str, partition: str, name: str) -> Any:
        self.manifest(asset, partition)
        return json.loads(self.path(asset, partition, name).read_text(encoding="utf-8"))

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _write_manifest(folder: Path, asset: str, partition: str, metadata: dict[str, Any]) -> None:
        files = {
            str(p.relative_to(folder)): p.stat().st_size
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME
        }
        manifest = {
            "asset": asset,
            "partition": partition,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": files,
            "metadata": metadata,
        }
        atomic_write_bytes(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, ensure_ascii=False).encode())

    @staticmethod
    def _swap_local(staging: Path, final: Path) -> None:
        retired = None
        if final.exists():
            retired = final.with_name(f"{_RETIRED_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}")
            os.replace(final, retired)
        os.replace(staging, final)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)

    @staticmethod
    def _upload(staging: Path, final: UPath) -> None:
        # The manifest goes last: readers treat a partition without it as absent.
        if final.exists():
            final.fs.rm(str(final), recursive=True)
        for path in sorted(staging.rglob("*")):
            if path.is_file() and path.name != MANIFEST_NAME:
                (final / str(path.relative_to(staging))).write_bytes(path.read_bytes())
        (final / MANIFEST_NAME).write_bytes((staging / MANIFEST_NAME).read_bytes())
