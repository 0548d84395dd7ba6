"""Asset jobs: the generation chain per disaster type, and the nightly retraining."""

import dagster as dg

GENERATION_ASSETS = ["generated_prompts", "disaster_images", "motion_masks", "depth_maps"]

generation_job = dg.define_asset_job(
    "generation_job",
    selection=dg.AssetSelection.assets(*GENERATION_ASSETS),
    description="Prompts → Stable Diffusion images → motion masks → depth, for one disaster type.",
)

ALL_JOBS = [generation_job]
