"""Asset jobs: the generation chain per disaster type, and the nightly retraining."""

import dagster as dg

from cinema_dag.disasters import DISASTER_KEYS

GENERATION_ASSETS = ["generated_prompts", "disaster_images", "motion_masks", "depth_maps"]
CINEMAGRAPH_ASSETS = [*GENERATION_ASSETS, "depth_ldis", "flow_fields", "cinemagraphs"]
RETRAINING_ASSETS = ["scraped_images", "image_captions", "prompt_corpus", "prompt_lora"]

cinemagraph_job = dg.define_asset_job(
    "cinemagraph_job",
    selection=dg.AssetSelection.assets(*CINEMAGRAPH_ASSETS),
    description="Prompts → images → masks → depth → layered depth → flow → cinemagraphs, for one disaster type.",
)

retraining_job = dg.define_asset_job(
    "retraining_job",
    selection=dg.AssetSelection.assets(*RETRAINING_ASSETS),
    description=(
        "Scrape → captions for every disaster type (one run; each crawl in its own process), then the "
        "prompt corpus and a new LoRA adapter for the prompt generator."
    ),
)

# One run over every disaster type: the per-type assets have a single-run backfill policy.
ALL_TYPES_TAGS = {
    "dagster/asset_partition_range_start": DISASTER_KEYS[0],
    "dagster/asset_partition_range_end": DISASTER_KEYS[-1],
}
