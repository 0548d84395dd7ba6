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


def test_the_dagster_layer_uses_no_preview_beta_or_deprecated_api():
    """Dagster marks unstable and outgoing APIs; the layer uses none (scanned from the source)."""
    import ast
    from pathlib import Path

    import dagster
    from dagster._symbol_annotations.lifecycle import is_beta, is_deprecated, is_preview, is_superseded

    package = Path(__file__).resolve().parents[2] / "cinema_dag"
    files = [*(package / "assets").rglob("*.py"), *(package / "resources").rglob("*.py"),
             *(package / "automation").rglob("*.py"), package / "definitions.py", package / "partitions.py"]
    used = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "dg":
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "dagster":
                used.update(alias.name for alias in node.names)
    assert {"Definitions", "load_from_defs_folder", "asset"} <= used, "the scan found too little: it is broken"
    marked = {name: [label for label, test in (("preview", is_preview), ("beta", is_beta),
                                               ("deprecated", is_deprecated), ("superseded", is_superseded))
                     if test(getattr(dagster, name))]
              for name in used}
    assert {name: labels for name, labels in marked.items() if labels} == {}


def test_loading_the_definitions_emits_no_warning():
    # In a fresh interpreter with every warning an error: nothing to silence, nothing silenced.
    code = "import cinema_dag.definitions as d, dagster as dg; dg.Definitions.validate_loadable(d.defs())"
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
