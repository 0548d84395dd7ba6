"""End to end on tiny: a CAP file dropped into the watched folder → sensor → run → an MP4 with the
caption in its frames and a spoken audio track, a CAP 1.2 document that validates and whose digest
matches the file, and a catalogue row with the alert's lineage."""

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from cinema_dag.alerts import parse_cap
from cinema_dag.alerts.capout import validate_cap
from cinema_dag.alerts.tts import probe_audio
from cinema_dag.artefacts import CAP_OUT_FILE, CATALOGUE_FILE, LINEAGE_FILE, VIDEO_FILE
from cinema_dag.assets.alerts import alert_cinemagraphs
from cinema_dag.assets.catalogue import video_catalogue
from cinema_dag.automation.sensors import alert_folder_sensor
from cinema_dag.cinemagraph import read_mp4
from cinema_dag.resources import AlertSources
from tests.alerts.conftest import SHARED
from tests.alerts.test_card_tts import ocr


@pytest.mark.slow
def test_dropped_cap_file_becomes_accessible_video_and_cap_out(tmp_path, resources, instance, metadata):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SHARED / "cap" / "heavy_rain_bilingual.xml", inbox / "alert.xml")
    context = dg.build_sensor_context(instance=instance, resources={
        "alert_sources": AlertSources(inbox=str(inbox), settle_seconds=0)})
    [request] = alert_folder_sensor(context).run_requests
    assert request.partition_key == "flood" and request.run_key == "KR-TEST-20250717-0001"

    result = dg.materialize([alert_cinemagraphs], partition_key=request.partition_key, run_config=request.run_config,
                            resources=resources, instance=instance, tags=request.tags)
    assert result.success
    folder = tmp_path / "artefacts" / "alert_cinemagraphs" / "KR-TEST-20250717-0001"  # stored under the alert id
    video = folder / VIDEO_FILE
    frames = read_mp4(video)
    assert frames.shape[2] == 480 and len(frames) % 48 == 0  # whole loops of the 48-frame cinemagraph
    text = ocr(frames[len(frames) // 2, 480:])  # the band below the 480x480 picture
    assert "극한호우" in text and "대피하십시오" in text, text
    audio = probe_audio(video)
    assert audio is not None and audio.rms > 100
    assert abs(audio.duration_s - len(frames) / 24.0) < 0.15  # audio as long as the video

    cap = (folder / CAP_OUT_FILE).read_bytes()
    assert validate_cap(cap) == []
    out = parse_cap(cap)
    assert out.references[0].identifier == "KR-TEST-20250717-0001"
    resource = out.infos[0].resources[-1]
    assert resource.digest == hashlib.sha1(video.read_bytes()).hexdigest()
    assert resource.size == video.stat().st_size and resource.uri == video.resolve().as_uri()

    md = metadata(result, "alert_cinemagraphs")
    assert md["headline"] == "극한호우 발생" and md["area"] == "서울특별시 노원구 공릉2동"
    # The loop's measures, as the cinemagraphs asset reports them.
    assert md["loop_seam_error"] == 0.0 and md["loop_unfilled_after_fill"] == 0.0
    assert md["loop_checks"]["seam"] and md["loop_checks"]["holes"] and "loop_sharpness_min" in md
    lineage = json.loads((folder / LINEAGE_FILE).read_text())
    assert lineage["quality"]["seam_error"] == 0.0 and lineage["checks"]["holes"] is True
    assert "severe flood" in lineage["prompt_keywords"] and "극한호우" in lineage["prompt_keywords"]
    assert md["instruction"].startswith("지자체 안내에 따라") and "data:image/gif;base64," in md["preview"]

    catalogue = dg.materialize([video_catalogue], resources=resources, instance=instance)
    assert catalogue.success
    [row] = json.loads((tmp_path / "artefacts" / "video_catalogue" / "all" / CATALOGUE_FILE).read_text())
    assert row["alert_id"] == "KR-TEST-20250717-0001" and row["kind"] == "alert"
    assert row["sha1"] == resource.digest and row["prompt"].startswith("a photo of a flood in Korea")
    assert row["model_ids"]["llm"] == "cinema-dag/tiny-llm" and row["code_version"]
    assert Path(row["video"].removeprefix("file://")) == video.resolve()


@pytest.mark.slow
def test_a_seam_fails_the_asset_and_publishes_nothing(tmp_path, resources, instance, monkeypatch):
    """The tiny scene's loop is flawless, so a seam is put into its measure (see tests/alerts/test_render.py)."""
    import dataclasses

    from cinema_dag.cinemagraph import quality

    measured = quality.measure_loop
    monkeypatch.setattr(quality, "measure_loop",
                        lambda *a, **k: dataclasses.replace(measured(*a, **k), seam_error=0.5))
    config = {"alert_id": "KR-TEST-SEAM", "headline": "극한호우 발생", "keywords": ["heavy rain"], "num_frames": 12,
              "speech": False, "use_adapter": False}
    result = dg.materialize([alert_cinemagraphs], partition_key="flood", resources=resources, instance=instance,
                            run_config={"ops": {"alert_cinemagraphs": {"config": config}}}, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    failure_data = failure.step_failure_data.user_failure_data
    assert "failed the seam check" in failure_data.description
    assert failure_data.metadata["loop_seam_error"].value == 0.5
    assert resources["store"].partitions("alert_cinemagraphs") == []  # no video, no CAP out, no lineage
