"""One disaster type's evaluation as a JSON record, its table rows, and the previous adapter's numbers.

The ``evaluation`` asset compares three *arms*, all with the same T2I model, seeds and sizes,
against the scraped photos of the type:

* ``keyword``: the plain keyword prompt ("flood") -- the paper's "Stable Diffusion" row;
* ``base``: metadata prompts from the LLM without an adapter;
* ``adapter``: metadata prompts from the LLM with the current LoRA adapter -- the paper's "Ours".

Each run's record keeps the previous adapter's cells (taken from the record it replaces), with the
settings, scorers and reference photos that made them, so the table can show the change since the
previous adapter and a check can flag a regression -- on the metrics whose numbers are comparable:
a metric is compared only when its scorer (the FID extractor, the CLIP model, LPIPS), the reference
photos it is measured against and the settings of its estimate are the same on both sides
(:data:`METRIC_BASIS`, :func:`not_comparable`). The
``keyword`` and ``base`` arms do not depend on the adapter: when nothing they depend on changed
(settings, scorers, reference photos), a nightly run takes them from the record it replaces
(:func:`reusable_arms`) and only generates and measures the adapter's images.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .cells import METRIC_KEYS, unavailable
from .table import SOURCE_CHANGE, SOURCE_MISSING, SOURCE_SKIPPED, TableRow, change_cells

__all__ = [
    "ARMS",
    "ADAPTER_ARM",
    "REUSABLE_ARMS",
    "COMPARABLE_SETTINGS",
    "MetricBasis",
    "METRIC_BASIS",
    "fingerprint",
    "reusable_arms",
    "previous_adapter",
    "not_comparable",
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

#: Settings two records must share for their adapters to be compared at all: with any of them
#: changed the adapter arm makes other images (another T2I model, count, seeds or size), or the
#: adapter sits on another LLM. Settings that only change some metrics' estimates are in
#: :data:`METRIC_BASIS`.
COMPARABLE_SETTINGS: tuple[str, ...] = ("profile", "text_to_image", "llm", "num_images", "seed", "generation")


class MetricBasis(NamedTuple):
    """What a metric's number depends on besides the images (see :data:`METRIC_BASIS`).

    Attributes:
        scorer: the key of :meth:`~cinema_dag.evaluation.evaluate.Scorers.describe` naming the
            model that scores (``None``: no model, e.g. SSIM).
        uses_reference: whether it is measured against the reference photos.
        settings: the settings of its estimate (pairs, KID subsets).
    """

    scorer: str | None
    uses_reference: bool
    settings: tuple[str, ...] = ()


#: Metric key -> what its number depends on; two numbers of a metric are compared only when all of
#: it is the same on both sides.
METRIC_BASIS: dict[str, MetricBasis] = {
    "fid": MetricBasis("fid_extractor", True),
    "kid": MetricBasis("fid_extractor", True, ("kid_subset_size", "kid_subsets")),
    "clip_score": MetricBasis("clip_model", False),  # image against its own prompt: no photos
    "lpips": MetricBasis("lpips", True, ("pair_size", "max_pairs")),
    "ssim": MetricBasis(None, True, ("pair_size", "max_pairs")),
}


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
    * otherwise (no record, other :data:`COMPARABLE_SETTINGS`, no adapter then): ``None``.

    Returns:
        ``{"adapter_version", "cells", "evaluated_at", "n_reference", "settings", "scorers",
        "reference_fingerprint"}`` or ``None``; the last three say what made the cells (``None``
        where a record written before they were kept does not say), for :func:`not_comparable`.
    """
    if not stored:
        return None
    if any(stored.get("settings", {}).get(k) != settings.get(k) for k in COMPARABLE_SETTINGS):
        return None
    version = stored.get("adapter_version")
    arm = stored.get("arms", {}).get(ADAPTER_ARM)
    if version and version != adapter_version and arm is not None:
        return {"adapter_version": version, "cells": dict(arm["cells"]),
                "evaluated_at": stored.get("evaluated_at"), "n_reference": arm.get("n_reference"),
                "settings": dict(stored.get("settings", {})), "scorers": stored.get("scorers"),
                "reference_fingerprint": stored.get("reference", {}).get("fingerprint")}
    carried = stored.get("previous")
    return dict(carried) if carried and carried.get("adapter_version") != adapter_version else None


def not_comparable(record: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, str]:
    """The metrics whose current number cannot be compared with the previous adapter's, and why.

    A metric is comparable when its scorer, its reference photos (if it uses them) and the
    settings of its estimate (:data:`METRIC_BASIS`) are the same in ``record`` (the current
    record: ``settings``, ``scorers``, ``reference.fingerprint``) and ``previous``
    (:func:`previous_adapter`). What ``previous`` does not say counts as different: a number is
    never compared on a guess.

    Returns:
        ``{metric: "not comparable: <why>"}``; empty when every metric is comparable.

    Example:
        >>> now = {"settings": {}, "scorers": {"fid_extractor": "A", "clip_model": "c", "lpips": "l"},
        ...        "reference": {"fingerprint": "p"}}
        >>> before = {"settings": {}, "scorers": {"fid_extractor": "B", "clip_model": "c", "lpips": "l"},
        ...           "reference_fingerprint": "p"}
        >>> not_comparable(now, before)["fid"]
        "not comparable: the fid_extractor changed from 'B' to 'A'"
    """
    now_settings, now_scorers = record.get("settings", {}), record.get("scorers", {})
    now_reference = record.get("reference", {}).get("fingerprint")
    before_settings, before_scorers = previous.get("settings"), previous.get("scorers")
    before_reference = previous.get("reference_fingerprint")
    reasons = {}
    for key, basis in METRIC_BASIS.items():
        why = []
        if basis.scorer is not None:
            if before_scorers is None:
                why.append(f"the previous record does not say which {basis.scorer} scored it")
            elif before_scorers.get(basis.scorer) != now_scorers.get(basis.scorer):
                why.append(f"the {basis.scorer} changed from {before_scorers.get(basis.scorer)!r} "
                           f"to {now_scorers.get(basis.scorer)!r}")
        if basis.uses_reference:
            if before_reference is None:
                why.append("the previous record does not identify its reference photos")
            elif before_reference != now_reference:
                why.append("the reference photos changed")
        for setting in basis.settings:
            if before_settings is None or setting not in before_settings:
                why.append(f"the previous record does not keep {setting}")
            elif before_settings[setting] != now_settings.get(setting):
                why.append(f"{setting} changed from {before_settings[setting]!r} to {now_settings.get(setting)!r}")
        if why:
            reasons[key] = "not comparable: " + "; ".join(why)
    return reasons


def record_rows(record: Mapping[str, Any]) -> list[TableRow]:
    """The measured rows of one record: one per arm (an arm that did not run says why, as a
    :data:`~cinema_dag.evaluation.table.SOURCE_SKIPPED` row), then the change since the previous
    adapter when there is one (``unavailable: not comparable: …`` for a metric whose scorer,
    photos or estimate changed since)."""
    disaster = record["disaster"]
    rows = []
    for arm, label in ARMS.items():
        result = record["arms"].get(arm)
        if result is None:
            skipped = record.get("skipped", {})
            why = skipped.get(arm, "not evaluated")
            rows.append(TableRow(disaster, label, {k: unavailable(why) for k in METRIC_KEYS},
                                 SOURCE_SKIPPED if arm in skipped else SOURCE_MISSING))
            continue
        note = f"adapter {record['adapter_version']}" if arm == ADAPTER_ARM else ""
        rows.append(TableRow(disaster, label, dict(result["cells"]), n_generated=result["n_generated"],
                             n_reference=result["n_reference"], note=note))
    previous = record.get("previous")
    current = record["arms"].get(ADAPTER_ARM)
    if previous and current is not None:
        cells = change_cells(current["cells"], previous["cells"])
        cells.update({k: unavailable(why) for k, why in not_comparable(record, previous).items()})
        rows.append(TableRow(
            disaster, f"change since adapter {previous['adapter_version']}", cells, SOURCE_CHANGE,
            note=f"adapter {record['adapter_version']} minus {previous['adapter_version']}"))
    return rows


def missing_rows(disaster: str, why: str = "not evaluated") -> list[TableRow]:
    """The row of a type that has no evaluation record yet: one line for all arms, every cell
    ``unavailable: <why>``."""
    return [TableRow(disaster, "our three arms", {k: unavailable(why) for k in METRIC_KEYS}, SOURCE_MISSING,
                     note=f"materialize evaluation for {disaster}")]
