"""Asset jobs: the generation chain per disaster type, the alert job, the libraries, the nightly retraining."""

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

ALERT_ASSETS = ["alert_cinemagraphs"]

# In-process: the alert asset is one step, so a second process per step would only add start-up
# time; the models are loaded once per run (ModelRegistry caches per process).
alert_job = dg.define_asset_job(
    "alert_job",
    selection=dg.AssetSelection.assets(*ALERT_ASSETS),
    executor_def=dg.in_process_executor,
    description="One alert → its accessible cinemagraph (caption, speech) and CAP 1.2 document. Launched by the "
                "alert sensors, one run per alert (run key = alert identifier).",
)

#: The library each type gets by backfill: every image × these camera paths × these seeds.
LIBRARY_CAMERAS = ["auto", "circle", "up_down"]
LIBRARY_SEEDS = [0, 1]

# Backfills from the UI cannot take run config (one Launchpad per partition), so the library's
# cameras and seeds are this job's default config; the catalogue runs once after, on its own.
cinemagraph_library_job = dg.define_asset_job(
    "cinemagraph_library_job",
    selection=dg.AssetSelection.assets(*CINEMAGRAPH_ASSETS),
    config={"ops": {"cinemagraphs": {"config": {"cameras": LIBRARY_CAMERAS, "seeds": LIBRARY_SEEDS}}}},
    description="A type's cinemagraph library: every image × camera paths × seeds (backfill it over the seven "
                "types; then materialize video_catalogue).",
)

catalogue_job = dg.define_asset_job(
    "catalogue_job", selection=dg.AssetSelection.assets("video_catalogue"),
    description="Rebuild the catalogue of every library and alert video (lineage rows).",
)

ALL_JOBS = [cinemagraph_job, retraining_job, alert_job, cinemagraph_library_job, catalogue_job]
