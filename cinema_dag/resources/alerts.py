"""The alert-sources resource: which folder, feeds and API the alert sensors watch."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from cinema_dag.alerts.cap import DEFAULT_MAX_BYTES
from cinema_dag.alerts.sources import (
    DEFAULT_MOIS_KEY_ENV,
    DEFAULT_MOIS_URL,
    DEFAULT_SETTLE_SECONDS,
    DEFAULT_TIMEOUT,
    FolderSource,
    HttpSource,
    MoisSource,
)


class AlertSources(dg.ConfigurableResource):
    """Where alerts come from (each sensor uses one kind).

    The disaster-message API key is never a config value: ``mois_key_env`` names the environment
    variable that holds it, read at each poll.
    """

    inbox: str = Field(default="data/alerts/inbox", description="Folder of CAP/MOIS files (created if missing).")
    feed_urls: list[str] = Field(default_factory=list, description="HTTP(S) CAP alert or Atom/RSS index URLs.")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts feeds and their entries may be on; empty = each URL's own host.")
    mois_url: str = Field(default=DEFAULT_MOIS_URL, description="Disaster-message API endpoint (DSSP-IF-00247).")
    mois_key_env: str = Field(default=DEFAULT_MOIS_KEY_ENV, description="Environment variable with the API key.")
    mois_region: str | None = Field(default=None, description="rgnNm filter (시도/시군구 name); None = all.")
    settle_seconds: float = Field(
        default=DEFAULT_SETTLE_SECONDS, ge=0,
        description="Inbox files modified more recently wait for the next poll (copy in progress).")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, description="Size cap per document (bytes).")
    timeout: float = Field(default=DEFAULT_TIMEOUT, description="Seconds per download.")

    def folder_sources(self) -> list[FolderSource]:
        Path(self.inbox).mkdir(parents=True, exist_ok=True)
        return [FolderSource(self.inbox, max_bytes=self.max_bytes, settle_seconds=self.settle_seconds)]

    def feed_sources(self) -> list[HttpSource]:
        return [HttpSource(url, allowed_hosts=self.allowed_hosts, max_bytes=self.max_bytes, timeout=self.timeout)
                for url in self.feed_urls]

    def mois_sources(self) -> list[MoisSource]:
        return [MoisSource(url=self.mois_url, key_env=self.mois_key_env, region=self.mois_region,
                           allowed_hosts=self.allowed_hosts, max_bytes=self.max_bytes, timeout=self.timeout)]
