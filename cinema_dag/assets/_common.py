"""Helpers shared by the asset modules (Dagster side only)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from cinema_dag.resources import ArtefactStore

# Asset groups, in the order of the graph: the UI lists and colours assets by these.
GROUP_COLLECTION = "collection"  # scraped photos and their captions
GROUP_TRAINING = "training"  # prompt corpus and the LoRA adapter
GROUP_GENERATION = "generation"  # prompts → images → masks → depth
GROUP_ANIMATION = "animation"  # layered depth → flow → rendered cinemagraphs
GROUP_ALERTS = "alerts"  # live disaster alerts and the cinemagraph sent with each
GROUP_EVALUATION = "evaluation"  # the paper's image metrics per type, and their table
ASSET_GROUPS = (GROUP_COLLECTION, GROUP_TRAINING, GROUP_GENERATION, GROUP_ANIMATION, GROUP_ALERTS,
                GROUP_EVALUATION)

# Who to ask about an asset (the UI's owner filter): one team per group.
OWNERS = {
    GROUP_COLLECTION: ["team:data"],
    GROUP_TRAINING: ["team:ml"],
    GROUP_GENERATION: ["team:ml"],
    GROUP_ANIMATION: ["team:graphics"],
    GROUP_ALERTS: ["team:alerts"],
    GROUP_EVALUATION: ["team:ml"],
}

# GPU-bound steps: every asset with ``pool=GPU_POOL`` also carries ``op_tags=GPU_OP_TAGS``, so each
# executor puts it on a GPU — the instance's ``gpu`` pool limits them to one step per GPU; the Celery
# executor (``automation/executors.py``) sends them to the ``gpu`` queue, which only GPU workers
# consume (CPU steps go to the default ``dagster`` queue); the Kubernetes job executor gives each
# such step's pod one GPU on a GPU node. CPU assets carry none of this.
GPU_POOL = "gpu"
GPU_QUEUE = "gpu"
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}  # label set by NVIDIA GPU feature discovery
GPU_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
GPU_OP_TAGS = {
    "dagster-celery/queue": GPU_QUEUE,
    "dagster-k8s/config": {
        "container_config": {"resources": {"limits": {"nvidia.com/gpu": 1}}},
        "pod_spec_config": {"node_selector": GPU_NODE_SELECTOR, "tolerations": GPU_TOLERATIONS},
    },
}

#: The partition folder of unpartitioned assets (prompt_corpus, prompt_lora): one current version.
ALL = "all"
#: prompt_lora's blocking check; generated_prompts uses an adapter only when it passed.
LOSS_CHECK = "held_out_loss_below_base"
#: The asset that holds the prompt generator's LoRA adapter.
ADAPTER_ASSET = "prompt_lora"


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


def usable_adapter(context: dg.AssetExecutionContext, store: ArtefactStore) -> tuple[Path | None, str | None]:
    """The newest prompt_lora adapter whose held-out check passed, as (folder, version), else (None, None)."""
    from cinema_dag.artefacts import ADAPTER_DIR, CHECK_FILE, read_json

    if not store.is_complete(ADAPTER_ASSET, ALL):
        context.log.warning("No prompt_lora adapter yet: generating with the base model.")
        return None, None
    folder = store.require(ADAPTER_ASSET, ALL)
    version = store.manifest(ADAPTER_ASSET, ALL)["metadata"].get("version")
    if not read_json(folder, CHECK_FILE).get(LOSS_CHECK):
        context.log.warning(f"prompt_lora {version} failed its held-out loss check: using the base model.")
        return None, None
    context.log.info(f"Using prompt_lora adapter {version}")
    return folder / ADAPTER_DIR, version


#: Asset keys named by more than one module (the asset, the alert sensors, the catalogue): one spelling.
ALERT_ASSET = "alert_cinemagraphs"
CATALOGUE_ASSET = "video_catalogue"
#: Metadata keys of the alert sensors' Cancel observations on ALERT_ASSET, which the catalogue reads.
CANCELLED_ALERT_KEY = "cancelled_alert_id"
CANCEL_ID_KEY = "cancel_id"

#: The text-to-image settings that a config may set and the profile otherwise gives
#: (``disaster_images``, and every arm of ``evaluation``).
GENERATION_SETTINGS: tuple[str, ...] = ("height", "width", "num_inference_steps", "guidance_scale", "scheduler")

#: Where each upstream asset's materialization names the models it ran, for the lineage of a
#: cinemagraph: asset -> (metadata key, components; two components are written ``"a + b"``).
MODEL_ID_METADATA: dict[str, tuple[str, tuple[str, ...]]] = {
    "generated_prompts": ("model_id", ("llm",)),
    "disaster_images": ("model_id", ("text_to_image",)),
    "motion_masks": ("model_ids", ("grounding", "segmenter")),
    "depth_maps": ("model_id", ("depth",)),
}
