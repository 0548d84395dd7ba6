"""The generation chain as Dagster assets, on the tiny profile: prompts → images → masks → depth."""

import io
import json

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from cinema_dag import artefacts
from cinema_dag.assets.depth import depth_maps
from cinema_dag.assets.images import disaster_images
from cinema_dag.assets.masks import motion_masks
from cinema_dag.assets.prompts import generated_prompts
from cinema_dag.previews import png_markdown
from cinema_dag.storage import ArtefactStorage
from cinema_dag.vision.depth import colorize_depth, depth_from_png16, depth_to_png16

CHAIN = [generated_prompts, disaster_images, motion_masks, depth_maps]


def run(resources, instance, selection=None, run_config=None, partition="flood", raise_on_error=True):
    return dg.materialize(CHAIN, selection=selection, partition_key=partition, resources=resources,
                          instance=instance, run_config=run_config, raise_on_error=raise_on_error)


def test_chain_writes_real_artefacts_with_metadata(resources, instance, tmp_path, metadata):
    result = run(resources, instance)
    assert result.success
    storage = ArtefactStorage(tmp_path / "artefacts")
    prompts = json.loads(storage.path("generated_prompts", "flood", "prompts.json").read_text())
    assert len(prompts) == 2 and all("flood" in p["prompt"].lower() for p in prompts)
    assert all("humans" in p["negative_prompt"] for p in prompts)

    images = artefacts.read_images(storage.require("disaster_images", "flood"))
    masks = artefacts.read_masks(storage.require("motion_masks", "flood"))
    depths = artefacts.read_arrays(storage.require("depth_maps", "flood"), "disparity")
    assert len(images) == len(masks) == len(depths) == 2
    for i, (image, mask, depth) in enumerate(zip(images, masks, depths, strict=True)):
        assert mask.dtype == bool and mask.shape == (image.height, image.width)
        assert depth.shape == (image.height, image.width) and np.isfinite(depth).all()
        # The lossless 16-bit preview beside each .npy is that image's own map, not another's.
        png16 = storage.path("depth_maps", "flood", artefacts.DISPARITY_PNG.name(i)).read_bytes()
        assert Image.open(io.BytesIO(png16)).mode.startswith("I")
        np.testing.assert_array_equal(depth_from_png16(png16), depth_from_png16(depth_to_png16(depth)))

    md = metadata(result, "generated_prompts")
    assert md["model_id"] == "cinema-dag/tiny-llm" and md["used_adapter"] is False
    assert "data:image/png;base64," in metadata(result, "disaster_images")["preview"]
    assert metadata(result, "motion_masks")["num_masks"] == 2
    assert "seconds_estimate" in metadata(result, "depth_maps")
    # The depth preview is the project's one depth colouriser (one non-finite policy), not another.
    assert metadata(result, "depth_maps")["preview"] == png_markdown([colorize_depth(d) for d in depths])


def test_same_seed_same_images_and_rerun_is_idempotent(resources, instance, tmp_path):
    storage = ArtefactStorage(tmp_path / "artefacts")
    run(resources, instance, selection=[generated_prompts, disaster_images])
    first = storage.path("disaster_images", "flood", "image_000.png").read_bytes()
    run(resources, instance, selection=[disaster_images])
    assert storage.path("disaster_images", "flood", "image_000.png").read_bytes() == first
    run(resources, instance, selection=[disaster_images],
        run_config={"ops": {"disaster_images": {"config": {"seed": 7, "num_images": 1}}}})
    files = sorted(p.name for p in storage.require("disaster_images", "flood").glob("image_*.png"))
    assert files == ["image_000.png"]  # the new version replaced the old one whole
    assert storage.path("disaster_images", "flood", "image_000.png").read_bytes() != first


def test_nothing_found_gives_an_empty_mask_not_a_crash(resources, instance, tmp_path, metadata):
    run(resources, instance, selection=[generated_prompts, disaster_images])
    result = run(resources, instance, selection=[motion_masks],
                 run_config={"ops": {"motion_masks": {"config": {"box_threshold": 1.01}}}})
    assert metadata(result, "motion_masks")["empty_masks"] == 2
    masks = artefacts.read_masks(ArtefactStorage(tmp_path / "artefacts").require("motion_masks", "flood"))
    assert all(not m.any() for m in masks)


def test_interrupted_materialization_leaves_no_partial_artefact(resources, instance, tmp_path, monkeypatch):
    run(resources, instance, selection=[generated_prompts])

    def write_one_then_die(folder, images, prefix="image"):
        images[0].save(folder / f"{prefix}_000.png")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(artefacts, "write_images", write_one_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(resources, instance, selection=[disaster_images])
    root = tmp_path / "artefacts"
    assert not (root / "disaster_images" / "flood").exists()
    assert [p.name for p in (root / "disaster_images").iterdir()] == [".flood.lock"]  # no temp folder left


def test_missing_upstream_is_a_clear_failure(resources, instance):
    result = run(resources, instance, selection=[disaster_images], raise_on_error=False)
    assert not result.success
    error = result.failure_data_for_node("disaster_images").error
    failure = error.cause.message if error.cause else error.message
    assert "generated_prompts" in failure and "flood" in failure


def test_unknown_partition_is_refused(resources, instance):
    with pytest.raises(dg.DagsterUnknownPartitionError, match="tsunami"):
        run(resources, instance, partition="tsunami")


def test_real_profile_without_weights_fails_with_the_model_id(resources, instance, tmp_path, monkeypatch):
    from cinema_dag.resources import ModelRegistry

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_hf_home" / "hub"))
    paper = {**resources, "models": ModelRegistry(profile="paper", cache_dir=str(tmp_path / "models"))}
    result = dg.materialize([generated_prompts], partition_key="flood", resources=paper, instance=instance,
                            raise_on_error=False)
    assert not result.success
    error = result.failure_data_for_node("generated_prompts").error
    message = error.cause.message if error.cause else error.message
    assert "meta-llama/Llama-2-7b-hf" in message and "CINEMA_DAG_WEIGHTS_LLM" in message
