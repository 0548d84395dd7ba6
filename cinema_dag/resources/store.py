"""The artefact store resource: where every asset reads and writes its files (atomically)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from cinema_dag.defaults import DEFAULT_HOME
from cinema_dag.storage import ArtefactStorage


class ArtefactStore(dg.ConfigurableResource):
    """Artefact folders ``<root>/<asset>/<partition>/``: a local folder by default, ``s3://…`` in production.

    Assets ask it for partitions by asset name and partition key; the file names inside a partition
    come from :mod:`cinema_dag.artefacts`. Each partition is written through :meth:`stage`, so an
    interrupted, killed or concurrent materialization leaves the previous version or the new one,
    never half a folder or a mix. The root picks the implementation
    (:class:`~cinema_dag.storage.LocalArtefactStorage` or
    :class:`~cinema_dag.storage.ObjectArtefactStorage`); object-storage credentials come from the
    environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``).
    """

    home: str = Field(default=DEFAULT_HOME, description="Base folder; the root is <home>/artefacts unless set.")
    root: str | None = Field(default=None, description="Artefact root (a folder or s3://…); unset: <home>/artefacts.")
    _storage: ArtefactStorage | None = PrivateAttr(default=None)

    @property
    def resolved_root(self) -> str:
        """The artefact root in use: ``root``, else ``<home>/artefacts``."""
        return self.root if self.root else os.path.join(self.home, "artefacts")

    def _backend(self) -> ArtefactStorage:
        if self._storage is None:
            # ArtefactStorage.__new__ returns the local or object implementation; mypy sees the ABC.
            self._storage = ArtefactStorage(self.resolved_root)  # type: ignore[abstract]
        return self._storage

    def stage(self, asset: str, partition: str, metadata: dict[str, Any] | None = None):
        """A context manager yielding an empty local folder that becomes the partition's new version."""
        return self._backend().stage(asset, partition, metadata)

    def require(self, asset: str, partition: str) -> Path:
        """Local folder of a complete upstream partition, or a clear error naming what to run first."""
        return self._backend().require(asset, partition)

    def is_complete(self, asset: str, partition: str) -> bool:
        """Whether the partition has a complete version."""
        return self._backend().is_complete(asset, partition)

    def manifest(self, asset: str, partition: str) -> dict[str, Any]:
        """The manifest (files, sizes, ``metadata``, ``version``) of a complete partition."""
        return self._backend().manifest(asset, partition)

    def partitions(self, asset: str) -> list[str]:
        """The partitions of ``asset`` that have a complete version."""
        return self._backend().partitions(asset)

    def cache_dir(self, name: str) -> Path:
        """A lasting local folder for a cache that is not an artefact."""
        return self._backend().cache_dir(name)

    def uri(self, asset: str, partition: str, *parts: str) -> str:
        """Path or URL of a partition, or of a file in it, for metadata and logs."""
        return self._backend().uri(asset, partition, *parts)
