"""The cinemagraphs asset measures every video and its quality checks judge them; a broken render
(hole filling off, moving camera) fails the holes check. Upstream artefacts are put in the store
directly (a real photo, a two-plane depth), so no model runs."""

import json

import cv2
import dagster as dg
import numpy as np
import pytest
import skimage.data

from cinema_dag.artefacts import FLOW, LDI, write_arrays
from cinema_dag.assets.cinemagraphs import QUALITY_CHECKS, cinemagraphs
from cinema_dag.cinemagraph import build_ldi, motion_field

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
    result = _run(resources, instance, cameras=["none", "circle"], min_sharpness=1.01)
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
    assert still["flicker"] == 0.0 and still["unfilled_before_fill"] == 0.0
    assert moving["flicker"] is None and "moving camera" in moving["notes"]["flicker"]

    checks = _checks(result)
    assert set(checks) == set(QUALITY_CHECKS)
    for name in ("loop_seam", "no_unfilled_pixels", "no_flicker_outside_motion"):
        assert checks[name].passed, (name, checks[name].metadata)
        assert checks[name].severity == dg.AssetCheckSeverity.ERROR
    assert checks["no_flicker_outside_motion"].metadata["videos_measured"].value == 1
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

