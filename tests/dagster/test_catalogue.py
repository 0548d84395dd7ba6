"""The libraries: the backfill job's seeds × cameras, the CLI backfill over the seven types, and the
catalogue's lineage rows for library videos (built on stored artefacts, no models needed)."""

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg

from cinema_dag.artefacts import CATALOGUE_FILE, LINEAGE_FILE
from cinema_dag.assets._common import ALERT_ASSET, CANCEL_ID_KEY, CANCELLED_ALERT_KEY
from cinema_dag.assets.catalogue import video_catalogue
from cinema_dag.automation.jobs import LIBRARY_CAMERAS, LIBRARY_SEEDS
from cinema_dag.disasters import DISASTER_KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_library_job_config_and_partitions():
    from cinema_dag.definitions import defs

    job = defs().resolve_job_def("cinemagraph_library_job")
    assert job.partitions_def.get_partition_keys() == list(DISASTER_KEYS)
    for key in DISASTER_KEYS:  # every backfilled partition's run gets the library's cameras × seeds
        config = job.partitioned_config.get_run_config_for_partition_key(key)
        assert config["ops"]["cinemagraphs"]["config"] == {"cameras": LIBRARY_CAMERAS, "seeds": LIBRARY_SEEDS}
        dg.validate_run_config(job, config)


def test_cli_backfill_over_seven_types(tmp_path):
    """The README's command creates one backfill of the seven partitions (the daemon then runs them)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "CINEMA_DAG_HOME": str(tmp_path / "data"), "DAGSTER_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([str(Path(sys.executable).with_name("dagster")), "job", "backfill", "-w",
                           str(ROOT / "workspace.yaml"), "-j", "cinemagraph_library_job", "--all", "all",
                           "--noprompt"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        [backfill] = instance.get_backfills()
        assert sorted(backfill.partition_names) == sorted(DISASTER_KEYS)
        assert backfill.partition_set_origin.partition_set_name.startswith("cinemagraph_library_job")


def _stage(storage, asset, partition, files, metadata=None):
    with storage.stage(asset, partition, metadata or {}) as out:
        for name, data in files.items():
            (out / name).write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())


def test_catalogue_rows_for_library_videos(resources, instance, tmp_path):
    storage = resources["store"]
    images = {
        "images": [
            {
                "index": 0,
                "prompt": "a photo of a flood in Korea, flooded street",
                "negative_prompt": "people",
                "seed": 7,
            }
        ]
    }
    _stage(storage, "disaster_images", "flood", {"images.json": images})
    # Later upstream runs (another adapter, other models) must not rewrite an existing video's lineage.
    _stage(storage, "generated_prompts", "flood", {"prompts.json": []}, {"adapter": "v20990101-0200"})
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "disaster_images", partition="flood", metadata={"model_id": "some-later-model"}))
    at_render = {"llm": "cinema-dag/tiny-llm", "text_to_image": "cinema-dag/tiny-text-to-image",
                 "grounding": "gd-tiny", "segmenter": "sam-tiny", "depth": "cinema-dag/tiny-depth"}
    library = [{"name": f"000_{cam}_s{seed}", "image": 0, "camera": cam, "seed": seed, "code_version": "0.1.0+gX",
                "model_ids": at_render, "adapter_version": "v20250101-0200"}
               for cam in ("circle", "none") for seed in (0, 1)]
    library[-1] = {k: v for k, v in library[-1].items() if k not in ("code_version", "model_ids", "adapter_version")}
    _stage(storage, "cinemagraphs", "flood", {"library.json": library,
                                              **{f"{v['name']}.mp4": v["name"].encode() for v in library}})
    result = dg.materialize([video_catalogue], resources=resources, instance=instance)
    assert result.success
    rows = json.loads((tmp_path / "artefacts" / "video_catalogue" / "all" / CATALOGUE_FILE).read_text())
    assert len(rows) == 4 and {(r["camera"], r["render_seed"]) for r in rows} == {
        ("circle", 0), ("circle", 1), ("none", 0), ("none", 1)}
    row = rows[0]
    assert row["kind"] == "library" and row["alert_id"] is None and row["seed"] == 7
    assert row["prompt"].startswith("a photo of a flood") and row["negative_prompt"] == "people"
    assert row["adapter_version"] == "v20250101-0200" and row["created_at"]
    assert row["model_ids"] == at_render and row["code_version"] == "0.1.0+gX"
    older = rows[-1]  # written before lineage was recorded: unknown, never today's values
    assert older["adapter_version"] == older["code_version"] == "unknown"
    assert set(older["model_ids"].values()) == {"unknown"}
    import hashlib

    assert row["sha1"] == hashlib.sha1(row["video"].rsplit("/", 1)[1].removesuffix(".mp4").encode()).hexdigest()


def test_catalogue_marks_cancelled_alert_videos(resources, instance, tmp_path):
    storage = resources["store"]
    for alert_id in ("KR-TEST-1", "KR-TEST-2"):
        lineage = {"video": f"file:///{alert_id}/video.mp4", "kind": "alert", "disaster_type": "flood",
                   "alert_id": alert_id, "prompt": "p", "negative_prompt": "n", "seed": 0, "render_seed": 0,
                   "camera": "circle", "sha1": "0" * 40, "keywords": ["호우"]}
        _stage(storage, ALERT_ASSET, alert_id, {LINEAGE_FILE: lineage})
    # What the alert sensor records for a Cancel of KR-TEST-1 (tests/dagster/test_alert_sensors.py).
    instance.report_runless_asset_event(dg.AssetObservation(
        ALERT_ASSET, partition="flood", metadata={CANCELLED_ALERT_KEY: "KR-TEST-1", CANCEL_ID_KEY: "KR-TEST-1-C"}))
    result = dg.materialize([video_catalogue], resources=resources, instance=instance)
    assert result.success
    rows = json.loads((tmp_path / "artefacts" / "video_catalogue" / "all" / CATALOGUE_FILE).read_text())
    assert {r["alert_id"]: r["cancelled_by"] for r in rows} == {"KR-TEST-1": "KR-TEST-1-C", "KR-TEST-2": None}
    md = result.asset_materializations_for_node("video_catalogue")[0].metadata
    assert md["cancelled_alert_videos"].value == 1
