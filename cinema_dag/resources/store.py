"""The artefact store resource: where every asset writes its files (atomically)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from cinema_dag.storage import ArtefactStorage


class ArtefactStore(dg.ConfigurableResource):
    """Artefact folders ``<root>/<asset>/<partition>/``; a local folder by default, ``s3://…`` in production.

    Each partition is written through :meth:`stage` (temp folder, then swap), so an interrupted
    materialization leaves the previous version or nothing — never half a folder.
    """

    root: str = "data/artefacts"
    _storage: ArtefactStorage | None = PrivateAttr(default=None)

    @property
    def storage(self) -> ArtefactStorage:
        if self._storage is None:
            self._storage = ArtefactStorage(self.root)
        return self._storage

    def stage(self, asset: str, partition: str, metadata: dict | None = None):
        return self.storage.stage(asset, partition, metadata)

    def require(self, asset: str, partition: str) -> Path:
        """Local folder of a complete upstream partition, or a clear error naming what to run first."""
        return self.storage.require(asset, partition)

    def manifest(self, asset: str, partition: str) -> dict:
        return self.storage.manifest(asset, partition)

    def partitions(self, asset: str) -> list[str]:
        return self.storage.partitions(asset)

    def cache_dir(self, name: str) -> Path:
        return self.storage.cache_dir(name)

    def uri(self, asset: str, partition: str, *parts: str) -> str:
        return str(self.storage.path(asset, partition, *parts))
