"""Dagster resources: the artefact store, the torch device and the model registry."""

from __future__ import annotations

import os

import dagster as dg

from cinema_dag.resources.alerts import AlertSources
from cinema_dag.resources.device import TorchDevice
from cinema_dag.resources.registry import ModelRegistry
from cinema_dag.resources.store import ArtefactStore

__all__ = ["AlertSources", "ArtefactStore", "ModelRegistry", "TorchDevice", "default_resources"]


def default_resources(home: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """The embedded default: local folders under ``$CINEMA_DAG_HOME`` (``./data``), the ``tiny`` profile.

    ``CINEMA_DAG_PROFILE`` (tiny | fast | paper) and ``CINEMA_DAG_DEVICE`` (auto | cpu | cuda | mps)
    choose the profile and device; weights folders come from ``CINEMA_DAG_WEIGHTS_<COMPONENT>``.
    Alerts: the folder sensor watches ``$CINEMA_DAG_ALERT_INBOX`` (``<home>/alerts/inbox``); the feed
    sensor ``$CINEMA_DAG_ALERT_FEEDS`` (space-separated URLs); the API key is in
    ``$CINEMA_DAG_MOIS_API_KEY`` (read at each poll, never stored in config).
    """
    home = home or os.environ.get("CINEMA_DAG_HOME", "data")
    return {
        "store": ArtefactStore(root=os.path.join(home, "artefacts")),
        "models": ModelRegistry(
            profile=os.environ.get("CINEMA_DAG_PROFILE", "tiny"),
            cache_dir=os.path.join(home, "models"),
            allow_download=os.environ.get("CINEMA_DAG_ALLOW_DOWNLOAD", "") == "1",
        ),
        "alert_sources": AlertSources(
            inbox=os.environ.get("CINEMA_DAG_ALERT_INBOX", os.path.join(home, "alerts", "inbox")),
            feed_urls=os.environ.get("CINEMA_DAG_ALERT_FEEDS", "").split(),
        ),
        "device": TorchDevice(
            device=os.environ.get("CINEMA_DAG_DEVICE", "auto"),
            threads=int(os.environ.get("CINEMA_DAG_TORCH_THREADS", "0")),
        ),
    }
