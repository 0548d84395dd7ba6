"""One disaster type's evaluation as a JSON record, its table rows, and the previous adapter's numbers.

The ``evaluation`` asset compares three *arms*, all with the same T2I model, seeds and sizes,
against the scraped photos of the type:

* ``keyword``: the plain keyword prompt ("flood") -- the paper's "Stable Diffusion" row;
* ``base``: metadata prompts from the LLM without an adapter;
* ``adapter``: metadata prompts from the LLM with the current LoRA adapter -- the paper's "Ours".

Each run's record keeps the previous adapter's cells (taken from the record it replaces), so the
table can show the change since the previous adapter and a check can flag a regression. The
``keyword`` and ``base`` arms do not depend on the adapter: when nothing they depend on changed
(settings, scorers, reference photos), a nightly run takes them from the record it replaces
(:func:`reusable_arms`) and only generates and measures the adapter's images.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .cells import METRIC_KEYS, unavailable
from .table import SOURCE_CHANGE, SOURCE_MISSING, TableRow, change_cells

__all__ = [
    "ARMS",
    "ADAPTER_ARM",
    "REUSABLE_ARMS",
    "COMPARABLE_SETTINGS",
    "fingerprint",
    "reusable_arms",
    "previous_adapter",
    "record_rows",
    "missing_rows",
]

#: Arm key -> the model column of the table.
ARMS: dict[str, str] = {
    "keyword": "keyword prompt",
    "base": "metadata prompts, base LLM",
    "adapter": "metadata prompts + adapter",
}
ADAPTER_ARM = "adapter"
REUSABLE_ARMS: tuple[str, ...] = ("keyword", "base")

#: Settings two records must share for their adapters' numbers to be compared.
COMPARABLE_SETTINGS: tuple[str, ...] = ("profile", "text_to_image", "num_images", "seed", "generation", "pair_size")


def fingerprint(files: Iterable[str | os.PathLike[str]]) -> str:
    """SHA-1 over the names and bytes of ``files``, in order: the identity of a reference set."""
    digest = hashlib.sha1()
    for path in files:
        path = Path(path)
        digest.update(path.name.encode() + b"\0" + hashlib.sha1(path.read_bytes()).digest())
    return digest.hexdigest()


def reusable_arms(stored: Mapping[str, Any] | None, settings: Mapping[str, Any], reference_fingerprint: str,
                  scorers: Mapping[str, str]) -> list[str]:
    """The adapter-independent arms of ``stored`` that a new run may take over unchanged: all of
    :data:`REUSABLE_ARMS` it has, if its settings, scorers and reference photos are the new run's."""
    if not stored:
        return []
    same = (dict(stored.get("settings", {})) == dict(settings)
            and dict(stored.get("scorers", {})) == dict(scorers)
            and stored.get("reference", {}).get("fingerprint") == reference_fingerprint)
    return [arm for arm in REUSABLE_ARMS if same and arm in stored.get("arms", {})]


def previous_adapter(stored: Mapping[str, Any] | None, adapter_version: str | None,
                     settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The previous adapter's evaluation, from the record a new run is about to replace.

    * the stored record evaluated a different adapter version with comparable settings: its
      adapter cells are the previous adapter's;
    * it evaluated the same version again (a re-run): its own ``previous`` carries over;
    * otherwise (no record, other settings, no adapter then): ``None``.

    Returns:
        ``{"adapter_version", "cells", "evaluated_at", "n_reference"}`` or ``None``.
    """
    if not stored:
        return None
    if any(stored.get("settings", {}).get(k) != settings.get(k) for k in COMPARABLE_SETTINGS):
        return None
    version = stored.get("adapter_version")
    arm = stored.get("arms", {}).get(ADAPTER_ARM)
    if version and version != adapter_version and arm is not None:
        return {"adapter_version": version, "cells": dict(arm["cells"]),
                "evaluated_at": stored.get("evaluated_at"), "n_reference": arm.get("n_reference")}
    carried = stored.get("previous")
    return dict(carried) if carried and carried.get("adapter_version") != adapter_version else None


def record_rows(record: Mapping[str, Any]) -> list[TableRow]:
    """The measured rows of one record: one per arm (an arm that did not run says why), then the
    change since the previous adapter when there is one."""
    disaster = record["disaster"]
    rows = []
    for arm, label in ARMS.items():
        result = record["arms"].get(arm)
        if result is None:
            why = record.get("skipped", {}).get(arm, "not evaluated")
            rows.append(TableRow(disaster, label, {k: unavailable(why) for k in METRIC_KEYS}))
            continue
        note = f"adapter {record['adapter_version']}" if arm == ADAPTER_ARM else ""
        rows.append(TableRow(disaster, label, dict(result["cells"]), n_generated=result["n_generated"],
                             n_reference=result["n_reference"], note=note))
    previous = record.get("previous")
    current = record["arms"].get(ADAPTER_ARM)
    if previous and current is not None:
        rows.append(TableRow(
            disaster, f"change since adapter {previous['adapter_version']}",
            change_cells(current["cells"], previous["cells"]), SOURCE_CHANGE,
            note=f"adapter {record['adapter_version']} minus {previous['adapter_version']}"))
    return rows


def missing_rows(disaster: str, why: str = "not evaluated") -> list[TableRow]:
    """The row of a type that has no evaluation record yet: one line for all arms, every cell
    ``unavailable: <why>``."""
    return [TableRow(disaster, "our three arms", {k: unavailable(why) for k in METRIC_KEYS}, SOURCE_MISSING,
                     note=f"materialize evaluation for {disaster}")]
