"""Dagster resources: the artefact store, the torch device and the model registry.

Environment settings of the default resources (all optional):

- ``CINEMA_DAG_HOME`` sets ``store.home`` and ``models.home``: the artefacts live in
  ``$CINEMA_DAG_HOME/artefacts``, the tiny models in ``$CINEMA_DAG_HOME/models`` (unset: ``data``);
- ``CINEMA_DAG_PROFILE`` sets ``models.profile`` (unset: the registry's default, ``tiny``);
- ``CINEMA_DAG_DEVICE`` sets ``device.device`` (unset: ``auto``);
- ``CINEMA_DAG_TORCH_THREADS`` sets ``device.threads`` (unset: ``0``, torch's own default);
- ``CINEMA_DAG_ALLOW_DOWNLOAD=1`` turns ``models.allow_download`` on (anything else: off);
- alerts: the folder sensor watches ``$CINEMA_DAG_ALERT_INBOX`` (unset: ``<home>/alerts/inbox``), the
  feed sensor polls ``$CINEMA_DAG_ALERT_FEEDS`` (space-separated URLs); the MOIS API key
  ``$CINEMA_DAG_MOIS_API_KEY`` is read at each poll, never stored in config.

The first four reach the resources as :class:`dagster.EnvVar`: Dagster reads them when a run
starts (a changed value needs no code reload) and shows the variable's name, not its value, in the
UI. An EnvVar whose variable is unset fails the run — Dagster has no default for it
(dagster-io/dagster#16232) — so a variable that is not set at load leaves the field's plain default.
``CINEMA_DAG_HOME`` fills a ``home`` field of each resource, from which the artefact root and the
model cache follow (``root`` and ``cache_dir`` override them), since an EnvVar replaces a whole
value and cannot be joined to a sub-folder. ``CINEMA_DAG_ALLOW_DOWNLOAD`` is read when the
definitions load: Dagster has no EnvVar for a ``bool`` field (pydantic rejects a name there;
dagster-io/dagster#26285). The two alert settings are read at load too: the inbox's default is
derived from the home, and the feeds are a list. The weights folders ``CINEMA_DAG_WEIGHTS_<COMPONENT>``
are read by the core registry (:mod:`cinema_dag.models.registry`) when a model loads, so they work
outside Dagster too.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from cinema_dag.defaults import DEFAULT_HOME
from cinema_dag.resources.alerts import AlertSources
from cinema_dag.resources.device import TorchDevice
from cinema_dag.resources.registry import ModelRegistry
from cinema_dag.resources.store import ArtefactStore

__all__ = ["AlertSources", "ArtefactStore", "ModelRegistry", "TorchDevice", "default_resources", "defs"]

HOME_ENV_VAR = "CINEMA_DAG_HOME"
ALLOW_DOWNLOAD_ENV_VAR = "CINEMA_DAG_ALLOW_DOWNLOAD"


def default_resources(home: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """The embedded default: local folders under ``home`` (else ``$CINEMA_DAG_HOME``, else ``./data``).

    The environment settings are in the module docstring.
    """
    # The home as an EnvVar, read when a run starts; a given `home` or an unset variable: a plain value.
    home_field = {"home": home} if home else _set_in_environment(home=dg.EnvVar(HOME_ENV_VAR))
    load_time_home = home or os.environ.get(HOME_ENV_VAR, DEFAULT_HOME)  # only for the alert inbox's default
    return {
        "store": ArtefactStore(**home_field),
        "models": ModelRegistry(
            **home_field,
            # A bool field takes no EnvVar (module docstring): read when the definitions load.
            allow_download=os.environ.get(ALLOW_DOWNLOAD_ENV_VAR, "") == "1",
            **_set_in_environment(profile=dg.EnvVar("CINEMA_DAG_PROFILE")),
        ),
        "alert_sources": AlertSources(
            inbox=os.environ.get("CINEMA_DAG_ALERT_INBOX", os.path.join(load_time_home, "alerts", "inbox")),
            feed_urls=os.environ.get("CINEMA_DAG_ALERT_FEEDS", "").split(),
        ),
        "device": TorchDevice(
            **_set_in_environment(
                device=dg.EnvVar("CINEMA_DAG_DEVICE"),
                threads=dg.EnvVar.int("CINEMA_DAG_TORCH_THREADS"),
            ),
        ),
    }


@dg.definitions
def defs() -> dg.Definitions:
    """The default resources, merged into the code location by :mod:`cinema_dag.definitions`."""
    return dg.Definitions(resources=default_resources())


def _set_in_environment(**fields: Any) -> dict[str, Any]:
    """The ``fields`` (``dg.EnvVar(...)`` or ``dg.EnvVar.int(...)``) whose variable is set.

    The others are left out, so the resource keeps its own default for them.
    """
    return {field: var for field, var in fields.items() if _variable_name(var) in os.environ}


def _variable_name(var: Any) -> str:
    # EnvVar is a str subclass named by env_var_name; EnvVar.int(...) returns an IntEnvVar (not
    # exported by dagster) named by .name.
    return var.env_var_name if isinstance(var, dg.EnvVar) else var.name
