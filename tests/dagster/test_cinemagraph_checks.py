"""The cinemagraphs asset measures every video and its quality checks judge them; a broken render
(hole filling off, moving camera; a frame N that differs from frame 0) fails its check; a moving
camera's flicker is measured on a still-camera pass; each library entry records the code version
and model ids of its render, which the catalogue reads. Upstream artefacts are put in the store
directly (a real photo, a two-plane depth), so no model runs."""

import json
import shutil

import cv2
import dagster as dg
import numpy as np
import pytest
import skimage.data

from cinema_dag.alerts.catalogue import code_version
from cinema_dag.artefacts import FLOW, LDI, LIBRARY_FILE, CinemagraphFiles, write_arrays, write_json
from cinema_dag.assets.catalogue import video_catalogue
from cinema_dag.assets.cinemagraphs import QUALITY_CHECKS, cinemagraphs
from cinema_dag.cinemagraph import CinemagraphRenderer, build_ldi, default_camera_kind, motion_field
from cinema_dag.storage import MANIFEST_NAME

H, W, N = 96, 128, 12


@pytest.fixture(scope="module")
def scene():
    """One LDI (a real photo with a near block in front of a far plane) and the flood motion field
    of its lower half."""
    image = cv2.resize(skimage.data.coffee(), (W, H), interpolation=cv2.INTER_AREA)
    depth = np.full((H, W), 4.0, np.float32)
    depth[20:70, 40:90] = 1.0  # a near block: a moving camera uncovers what is behind it
    mask = np.zeros((H, W), bool)
    mask[60:, :] = True
    return build_ldi(image, depth, num_layers=2).to_bytes(), motion_field("flood", mask, depth)


@pytest.fixture
def upstream(scene, resources):
    """The scene written where the asset reads it."""
    ldi_bytes, flow = scene
    store = resources["store"]
    with store.stage("depth_ldis", "flood") as out:
        LDI.path(out, 0).write_bytes(ldi_bytes)
    with store.stage("flow_fields", "flood") as out:
        write_arrays(out, [flow], FLOW)


def _run(resources, instance, **config):
    run_config = {"ops": {"cinemagraphs": {"config": {"num_frames": N, "fps": 12, "gif": False, "crf": 10, **config}}}}
    return dg.materialize([cinemagraphs], partition_key="flood", resources=resources, instance=instance,
                          run_config=run_config, raise_on_error=False)


def _checks(result) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_every_video_is_measured_and_passes_its_checks(upstream, resources, instance, metadata, tmp_path):
    # A sharpness threshold no loop can meet: its check fails, as a warning that blocks nothing.
    result = _run(resources, instance, cameras=["none", "circle"], min_sharpness=1.01, still_pass=True)
    assert result.success
    library = json.loads((tmp_path / "artefacts" / "cinemagraphs" / "flood" / "library.json").read_text())
    assert [v["camera"] for v in library] == ["none", "circle"]
    still, moving = (v["quality"] for v in library)
    for q in (still, moving):
        assert q["seam_error"] == 0.0  # frame N is frame 0, bit for bit
        assert q["unfilled_after_fill"] == 0.0
        assert 0.3 < q["motion_fraction"] < 0.5  # the lower 36 of 96 rows move
        assert 0.0 < q["sharpness_min"] <= 1.0 and q["sharpness_jump"] >= 0.0
        assert 0.5 < q["wrap_step_ratio"] < 2.0
    assert still["flicker"] == 0.0 and still["unfilled_before_fill"] == 0.0 and still["flicker_from"] == "video"
    # The moving camera's flicker comes from a still-camera pass of the same loop.
    assert moving["flicker"] == 0.0 and moving["flicker_from"] == "still pass (5 frames)"
    assert moving["unfilled_before_fill_max"] >= moving["unfilled_before_fill"]

    checks = _checks(result)
    assert set(checks) == set(QUALITY_CHECKS)
    for name in ("loop_seam", "no_unfilled_pixels", "no_flicker_outside_motion"):
        assert checks[name].passed, (name, checks[name].metadata)
        assert checks[name].severity == dg.AssetCheckSeverity.ERROR
        assert checks[name].metadata["videos_measured"].value == 2 and "not_measured" not in checks[name].metadata
    sharp = checks["sharpness_stable"]
    assert not sharp.passed and sharp.severity == dg.AssetCheckSeverity.WARN
    assert sharp.metadata["min_sharpness"].value == pytest.approx(1.01)
    worst = min(still["sharpness_min"], moving["sharpness_min"])
    assert sharp.metadata["worst_sharpness_min"].value == pytest.approx(worst)
    assert "sharpness_min" in metadata(result, "cinemagraphs")["quality"]


def test_hole_filling_off_with_a_moving_camera_fails_the_holes_check(upstream, resources, instance, tmp_path):
    result = _run(resources, instance, cameras=["swing"], camera_scale=3.0, fill_holes=False)
    checks = _checks(result)
    holes = checks["no_unfilled_pixels"]
    assert not holes.passed and holes.severity == dg.AssetCheckSeverity.ERROR
    assert holes.metadata["worst_unfilled_after_fill"].value > 0.001
    assert holes.metadata["videos_failed"].value == "000_swing_s0"
    assert not result.success  # a failed blocking check fails the step: nothing downstream runs
    library = json.loads((tmp_path / "artefacts" / "cinemagraphs" / "flood" / "library.json").read_text())
    assert library[0]["checks"]["no_unfilled_pixels"] is False



def test_by_default_the_default_camera_gets_its_flicker_measured(upstream, resources, instance, tmp_path):
    result = _run(resources, instance)  # cameras: auto, the flood's own (moving) path; still_pass: on
    assert result.success
    (video,) = json.loads((tmp_path / "artefacts" / "cinemagraphs" / "flood" / LIBRARY_FILE).read_text())
    assert video["camera"] == default_camera_kind("flood") != "none"
    assert video["quality"]["flicker"] == 0.0 and video["quality"]["flicker_from"].startswith("still pass")
    flicker = _checks(result)["no_flicker_outside_motion"]
    assert flicker.passed and flicker.metadata["videos_measured"].value == 1
    assert "not_measured" not in flicker.metadata


def test_flicker_not_measured_is_said_and_never_a_silent_pass(upstream, resources, instance):
    result = _run(resources, instance, still_pass=False)  # the default camera moves, no still-camera pass
    assert result.success  # not a defect anyone saw: it warns, it does not block
    checks = _checks(result)
    flicker = checks["no_flicker_outside_motion"]
    assert flicker.passed is False and flicker.severity == dg.AssetCheckSeverity.WARN
    assert flicker.metadata["videos_measured"].value == 0
    assert flicker.metadata["not_measured"].value.startswith("1 of 1 videos: ")
    assert "not measured: the camera moves" in flicker.metadata["not_measured"].value
    assert flicker.description.startswith("not measured") and "still_pass" in flicker.metadata["how_to_measure"].value
    assert checks["loop_seam"].passed  # the other checks measured the video


def test_a_frame_n_that_differs_from_frame_0_fails_the_seam_check(upstream, resources, instance, monkeypatch):
    original = CinemagraphRenderer.render_frame

    def render_frame(self, t, out=None):
        frame, holes = original(self, t, out)
        if t == self.num_frames:  # only frame N, rendered to prove the seam, comes out changed
            frame[2, 3, 0] = 255 - int(frame[2, 3, 0])
        return frame, holes

    monkeypatch.setattr(CinemagraphRenderer, "render_frame", render_frame)
    result = _run(resources, instance, cameras=["none"])
    seam = _checks(result)["loop_seam"]
    assert not seam.passed and seam.severity == dg.AssetCheckSeverity.ERROR
    assert seam.metadata["worst_seam_error"].value > 0 and seam.metadata["videos_failed"].value == "000_none_s0"
    assert not result.success  # blocking: the step fails, nothing downstream runs


def test_library_entries_keep_the_lineage_of_their_render_and_the_catalogue_reads_it(
        upstream, resources, instance, tmp_path):
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "disaster_images", partition="flood", metadata={"model_id": "t2i-at-render"}))
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "motion_masks", partition="flood", metadata={"model_ids": "gd-at-render + sam-at-render"}))
    assert _run(resources, instance, cameras=["none"]).success
    folder = tmp_path / "artefacts" / "cinemagraphs" / "flood"
    (video,) = json.loads((folder / LIBRARY_FILE).read_text())
    at_render = {"llm": "unknown", "text_to_image": "t2i-at-render", "grounding": "gd-at-render",
                 "segmenter": "sam-at-render", "depth": "unknown"}
    assert video["code_version"] == code_version() and video["model_ids"] == at_render

    # Later: the code and the upstream models change, and an older entry (written before the
    # lineage was recorded) sits beside it. The catalogue must not give either today's values.
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "disaster_images", partition="flood", metadata={"model_id": "t2i-later"}))
    older = {k: v for k, v in video.items() if k not in ("code_version", "model_ids")}
    older |= {"name": "000_none_s1", "seed": 1}
    store = resources["store"]
    with store.stage("cinemagraphs", "flood") as out:
        for path in folder.iterdir():
            if path.name != MANIFEST_NAME:
                shutil.copy2(path, out / path.name)
        shutil.copy2(CinemagraphFiles(folder, video["name"]).video, CinemagraphFiles(out, older["name"]).video)
        write_json(out, LIBRARY_FILE, [video | {"code_version": "X"}, older])
    assert dg.materialize([video_catalogue], resources=resources, instance=instance).success
    rows = json.loads((tmp_path / "artefacts" / "video_catalogue" / "all" / "catalogue.json").read_text())
    by_seed = {r["render_seed"]: r for r in rows}
    assert by_seed[0]["code_version"] == "X" and by_seed[0]["model_ids"] == at_render
    assert by_seed[1]["code_version"] == "unknown" and set(by_seed[1]["model_ids"].values()) == {"unknown"}
