"""The paper's table shape (disaster type x model x metric): rows, changes, Markdown, CSV, Parquet.

Rows carry cells (:mod:`.cells`): measured rows, the paper's published rows (:mod:`.paper`), and
"change" rows -- the adapter's metrics minus the previous adapter's, signed so that the reader sees
the raw difference, with :func:`regressions` saying which changes are for the worse.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cinema_dag.atomic import atomic_open, atomic_path

from .cells import METRIC_KEYS, METRICS, Cell, format_cell, is_number, unavailable
from .paper import PAPER_MODELS, PAPER_SHORT, PAPER_TABLE1

__all__ = [
    "SOURCE_MEASURED",
    "SOURCE_PAPER",
    "SOURCE_CHANGE",
    "SOURCE_MISSING",
    "SOURCE_SKIPPED",
    "TableRow",
    "paper_rows",
    "change_cells",
    "regressions",
    "to_markdown",
    "write_csv",
    "write_parquet",
]

SOURCE_MEASURED = "measured"
SOURCE_PAPER = "paper"
SOURCE_CHANGE = "change"
SOURCE_MISSING = "missing"
SOURCE_SKIPPED = "skipped"

_NOT_IN_PAPER = unavailable("not in the paper")


@dataclass
class TableRow:
    """One row of the table.

    Attributes:
        disaster: disaster key (``"flood"``).
        model: what made the images (``"Ours (paper)"``, ``"metadata prompts + adapter"``, ...).
        cells: metric key -> cell, for every key of :data:`~cinema_dag.evaluation.cells.METRICS`.
        source: :data:`SOURCE_MEASURED`, :data:`SOURCE_PAPER`, :data:`SOURCE_CHANGE`,
            :data:`SOURCE_SKIPPED` (an arm that did not run, e.g. no usable adapter; its cells say
            why) or :data:`SOURCE_MISSING` (a type not evaluated yet).
        n_generated, n_reference: image counts behind a measured row (``None`` otherwise).
        note: free text (adapter version, the paper reference, ...).
    """

    disaster: str
    model: str
    cells: dict[str, Cell]
    source: str = SOURCE_MEASURED
    n_generated: int | None = None
    n_reference: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [k for k in METRIC_KEYS if k not in self.cells]
        if missing:
            raise ValueError(f"row {self.disaster}/{self.model} lacks cells {missing}")
        for key in METRIC_KEYS:
            format_cell(self.cells[key])  # a number or an "unavailable: …" text, else ValueError


def paper_rows(disasters: Iterable[str] | None = None) -> list[TableRow]:
    """The paper's Table 1 rows for ``disasters`` (default: all seven), KID marked as not in the
    paper; the note names the table (:data:`~cinema_dag.evaluation.paper.PAPER_SOURCE` has the DOI)."""
    rows = []
    for disaster in disasters if disasters is not None else PAPER_TABLE1:
        for model in PAPER_MODELS:
            values = PAPER_TABLE1[disaster][model]
            cells = {k: values.get(k, _NOT_IN_PAPER) for k in METRIC_KEYS}
            rows.append(TableRow(disaster, f"{model} (paper)", cells, SOURCE_PAPER, note=PAPER_SHORT))
    return rows


def change_cells(current: Mapping[str, Cell], previous: Mapping[str, Cell]) -> dict[str, Cell]:
    """``current - previous`` per metric; unavailable where either side is.

    Example:
        >>> change_cells({"fid": 40.0, "kid": 0.1, "clip_score": 0.3, "lpips": "unavailable: x", "ssim": 0.5},
        ...              {"fid": 42.5, "kid": 0.1, "clip_score": 0.25, "lpips": 0.6, "ssim": 0.5})["fid"]
        -2.5
    """
    out: dict[str, Cell] = {}
    for key in METRIC_KEYS:
        now, before = current.get(key), previous.get(key)
        if is_number(now) and is_number(before):
            out[key] = float(now) - float(before)
        else:
            missing = "now" if not is_number(now) else "for the previous adapter"
            out[key] = unavailable(f"no number {missing}")
    return out


def regressions(current: Mapping[str, Cell], previous: Mapping[str, Cell],
                margin: float) -> dict[str, dict[str, float]]:
    """The metrics on which ``current`` is worse than ``previous`` by more than ``margin``.

    "Worse" follows each metric's direction (FID, KID, LPIPS: higher is worse; CLIP, SSIM: lower
    is worse); ``margin`` is relative to the previous value's magnitude (0.05 = 5 %), with an
    absolute floor of ``margin * 1e-3`` so a previous value of 0 does not make every change count.
    Metrics without a number on both sides are not compared.

    Returns:
        ``{metric: {"observed", "previous", "worse_by", "allowed"}}``, empty when nothing regressed.
    """
    if margin < 0:
        raise ValueError(f"`margin` must be >= 0; got {margin}")
    found = {}
    for key, info in METRICS.items():
        now, before = current.get(key), previous.get(key)
        if not (is_number(now) and is_number(before)):
            continue
        worse_by = (float(before) - float(now)) if info.higher_is_better else (float(now) - float(before))
        allowed = margin * max(abs(float(before)), 1e-3)
        if worse_by > allowed:
            found[key] = {"observed": float(now), "previous": float(before), "worse_by": worse_by, "allowed": allowed}
    return found


_COLUMNS = ("disaster", "model", *METRIC_KEYS, "n_generated", "n_reference", "source", "note")


def _row_texts(row: TableRow, digits: int) -> dict[str, str]:
    signed = row.source == SOURCE_CHANGE
    return {
        "disaster": row.disaster,
        "model": row.model,
        **{k: format_cell(row.cells[k], digits, signed=signed) for k in METRIC_KEYS},
        "n_generated": "" if row.n_generated is None else str(row.n_generated),
        "n_reference": "" if row.n_reference is None else str(row.n_reference),
        "source": row.source,
        "note": row.note,
    }


def to_markdown(rows: Sequence[TableRow], digits: int = 4) -> str:
    """The table as Markdown: one line per row, the paper's column headers with arrows."""
    headers = ["type", "model", *(METRICS[k].label for k in METRIC_KEYS), "images (gen/ref)", "source"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        texts = _row_texts(row, digits)
        counts = f"{texts['n_generated']}/{texts['n_reference']}" if row.n_generated is not None else ""
        cells = [texts[k].replace("|", "/") for k in METRIC_KEYS]
        source = row.source if not row.note else f"{row.source}: {row.note}"
        lines.append("| " + " | ".join([row.disaster, row.model, *cells, counts, source.replace("|", "/")]) + " |")
    return "\n".join(lines)


def write_csv(rows: Sequence[TableRow], path: str | os.PathLike[str], digits: int = 6) -> None:
    """The table as CSV (UTF-8), one column per metric holding a number or "unavailable: …"."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(_row_texts(row, digits))


def write_parquet(rows: Sequence[TableRow], path: str | os.PathLike[str]) -> None:
    """The table as Parquet: metric columns are float64 (null where unavailable) and each has a
    ``<metric>_unavailable`` string column with the reason (null where there is a number)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {"disaster": [], "model": []}
    for key in METRIC_KEYS:
        columns[key], columns[f"{key}_unavailable"] = [], []
    columns.update(n_generated=[], n_reference=[], source=[], note=[])
    for row in rows:
        columns["disaster"].append(row.disaster)
        columns["model"].append(row.model)
        for key in METRIC_KEYS:
            cell = row.cells[key]
            columns[key].append(float(cell) if is_number(cell) else None)
            columns[f"{key}_unavailable"].append(None if is_number(cell) else str(cell))
        columns["n_generated"].append(row.n_generated)
        columns["n_reference"].append(row.n_reference)
        columns["source"].append(row.source)
        columns["note"].append(row.note)
    types = {k: pa.float64() for k in METRIC_KEYS} | {"n_generated": pa.int64(), "n_reference": pa.int64()}
    table = pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in columns.items()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
