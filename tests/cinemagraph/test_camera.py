import numpy as np
import pytest

from cinema_dag.cinemagraph.camera import CAMERA_KINDS, CameraPath, camera_path, default_camera_kind, overscan_zoom


@pytest.mark.parametrize("kind", CAMERA_KINDS)
@pytest.mark.parametrize("period", [60, 30, 20])
def test_every_path_is_closed(kind, period):
    path = camera_path(kind, 60, period=period, seed=4)
    assert np.array_equal(path.centres([0]), path.centres([60]))
    assert np.array_equal(path.centres([5]), path.centres([5 + period]))
    if kind != "none":
        assert np.ptp(path.centres(np.arange(60)), axis=0).max() > 0


def test_period_must_divide_the_frames():
    with pytest.raises(ValueError, match="divisor"):
        camera_path("circle", 60, period=7)


def test_earthquake_shakes_and_amplitudes_are_relative_to_the_nearest_depth():
    assert default_camera_kind("earthquake") == "shake" and default_camera_kind("지진") == "shake"
    swing = camera_path("swing", 40)
    assert np.abs(swing.centres(np.arange(40))[:, 0]).max() == pytest.approx(0.06)
    assert camera_path("flood", 40).kind == default_camera_kind("flood")
    with pytest.raises(ValueError, match="z amplitude"):
        CameraPath("zoom", 10, (0.0, 0.0, 0.6))
    with pytest.raises(ValueError, match="unknown camera path"):
        CameraPath("orbit", 10, (0.0, 0.0, 0.0))


def test_overscan_zoom():
    depth = np.full((30, 40), 2.0)
    assert overscan_zoom(camera_path("none", 10), depth) == 1.0
    zoom = overscan_zoom(camera_path("swing", 10), depth)
    # Border at 20 px from the centre, shifted by f * 0.06 / 2 = 1.2 px: needs (20 + 1) / (19.5 - 1.2).
    assert 1.05 < zoom < 1.2
    assert overscan_zoom(camera_path("swing", 10, scale=20.0), depth, max_zoom=1.3) == 1.3
