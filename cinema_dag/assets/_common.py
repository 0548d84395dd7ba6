"""Helpers shared by the asset modules (Dagster side only)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

GROUP_GENERATION = "generation"
GROUP_ENGINE = "cinemagraph_engine"
GROUP_TRAINING = "training"


@contextmanager
def timed(context: dg.AssetExecutionContext, what: str, timings: dict[str, float]) -> Iterator[None]:
    """Log how long ``what`` took and record it in ``timings`` (seconds) for the asset's metadata."""
    context.log.info(f"{what}…")
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    timings[what] = round(seconds, 3)
    context.log.info(f"{what}: {seconds:.2f} s")


def timing_metadata(timings: dict[str, float]) -> dict[str, dg.MetadataValue]:
    return {f"seconds_{k.replace(' ', '_')}": dg.MetadataValue.float(v) for k, v in timings.items()}
