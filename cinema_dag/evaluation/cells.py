"""The metrics of the evaluation table and what one cell of it holds: a number, or why not.

A cell is a ``float`` or a string ``"unavailable: <why>"`` -- never a number computed from weights
that are not the metric's (e.g. LPIPS on a random backbone), never an empty cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeGuard

__all__ = [
    "Cell",
    "MetricInfo",
    "METRICS",
    "METRIC_KEYS",
    "UNAVAILABLE_PREFIX",
    "MetricUnavailable",
    "unavailable",
    "is_number",
    "format_cell",
]

Cell = float | str
"""A table cell: the metric's value, or ``"unavailable: <reason>"``."""

UNAVAILABLE_PREFIX = "unavailable: "


@dataclass(frozen=True)
class MetricInfo:
    """One column of the table.

    Attributes:
        key: the name in results and files (``"fid"``).
        label: the column header, with the paper's arrow (``"FID ↓"``).
        higher_is_better: the direction of "better" (for changes and regression checks).
    """

    key: str
    label: str
    higher_is_better: bool


METRICS: dict[str, MetricInfo] = {
    m.key: m
    for m in (
        MetricInfo("fid", "FID ↓", higher_is_better=False),
        MetricInfo("kid", "KID ↓", higher_is_better=False),
        MetricInfo("clip_score", "CLIP ↑", higher_is_better=True),
        MetricInfo("lpips", "LPIPS ↓", higher_is_better=False),
        MetricInfo("ssim", "SSIM ↑", higher_is_better=True),
    )
}
METRIC_KEYS: tuple[str, ...] = tuple(METRICS)


class MetricUnavailable(RuntimeError):
    """A metric cannot be computed here (missing weights or package, too few images); the message
    is the reason that goes into the cell."""


def unavailable(reason: str) -> str:
    """The cell text for a metric that could not be computed, e.g. ``"unavailable: no weights"``.

    Example:
        >>> unavailable("torchvision is not importable")
        'unavailable: torchvision is not importable'
    """
    reason = " ".join(str(reason).split())
    if not reason:
        raise ValueError("an unavailable cell needs a reason; got an empty one")
    return reason if reason.startswith(UNAVAILABLE_PREFIX) else UNAVAILABLE_PREFIX + reason


def is_number(cell: object) -> TypeGuard[float]:
    """Whether ``cell`` holds a finite number (not an ``unavailable`` text, not NaN)."""
    return isinstance(cell, (int, float)) and not isinstance(cell, bool) and math.isfinite(cell)


def format_cell(cell: Cell, digits: int = 4, signed: bool = False) -> str:
    """A cell as table text: numbers with ``digits`` significant figures (``+`` on changes when
    ``signed``), unavailable cells as they are.

    Example:
        >>> format_cell(27.692), format_cell(-0.01234, signed=True), format_cell(unavailable("n/a"))
        ('27.69', '-0.01234', 'unavailable: n/a')
    """
    if is_number(cell):
        text = f"{float(cell):.{digits}g}"
        return f"+{text}" if signed and float(cell) > 0 else text
    if isinstance(cell, str) and cell.startswith(UNAVAILABLE_PREFIX):
        return cell
    raise ValueError(f"a cell must be a finite number or an 'unavailable: …' text; got {cell!r}")
