"""Helpers shared by the asset modules (Dagster side only)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

GROUP_GENERATION = "generation"
GROUP_ENGINE = "cinemagraph_engine"
GROUP_TRAINING = "training"

#: The partition folder of unpartitioned assets (prompt_corpus, prompt_lora): one current version.
ALL = "all"
#: prompt_lora's blocking check; generated_prompts uses an adapter only when it passed.
LOSS_CHECK = "held_out_loss_below_base"


@contextmanager
def timed(context: dg.AssetExecutionContext, step: str, timings: dict[str, float],
          detail: str = "") -> Iterator[None]:
    """Log how long ``step`` took and add it to ``timings`` (seconds) for the asset's metadata.

    ``step`` is a stable name ("generate images") so metadata keys are the same in every run;
    ``detail`` ("2 images, flood") only goes to the log. Repeated steps add up.
    """
    label = f"{step} ({detail})" if detail else step
    context.log.info(f"{label}…")
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    timings[step] = round(timings.get(step, 0.0) + seconds, 3)
    context.log.info(f"{label}: {seconds:.2f} s")


def timing_metadata(timings: dict[str, float]) -> dict[str, dg.MetadataValue]:
    """``seconds_<step>`` entries, e.g. ``seconds_generate_images``."""
    return {"seconds_" + re.sub(r"\W+", "_", k).strip("_"): dg.MetadataValue.float(v) for k, v in timings.items()}
