import subprocess
import sys

import dagster as dg

from cinema_dag.definitions import defs
from cinema_dag.disasters import DISASTER_KEYS

GPU_ASSETS = ["generated_prompts", "disaster_images", "motion_masks", "depth_maps"]


def load():
    return defs() if callable(defs) else defs


def test_definitions_validate_and_list_seven_partitions():
    definitions = load()
    dg.Definitions.validate_loadable(definitions)
    for key in ["generated_prompts", "disaster_images", "motion_masks", "depth_maps"]:
        asset = definitions.resolve_assets_def(key)
        assert list(asset.partitions_def.get_partition_keys()) == list(DISASTER_KEYS)


def test_gpu_assets_share_the_gpu_pool():
    definitions = load()
    for key in GPU_ASSETS:
        node = definitions.resolve_assets_def(key).node_def
        assert node.pool == "gpu", key


def test_loading_definitions_imports_no_heavy_library():
    code = (
        "import sys, cinema_dag.definitions as d; d.defs();"
        "print(' '.join(m for m in ('torch','diffusers','transformers','scrapy','open3d','cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
