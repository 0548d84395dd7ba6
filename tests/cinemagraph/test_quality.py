"""Sharpness stability S(t) and stutter on cases with known answers."""

import cv2
import numpy as np
import pytest

from cinema_dag.cinemagraph.quality import (
    laplacian_energy,
    region_steps,
    sharpness_jump,
    sharpness_series,
    stutter_ratio,
)

from .conftest import textured


@pytest.fixture
def scene():
    image = textured(64, 80, seed=11)
    mask = np.zeros((64, 80), bool)
    mask[16:56, 10:70] = True
    return image, mask


class TestSharpnessSeries:
    def test_still_video_scores_one_everywhere(self, scene):
        image, mask = scene
        series = sharpness_series(np.stack([image] * 6), image, mask)
        assert series.shape == (6,) and np.allclose(series, 1.0)
        assert sharpness_jump(series) == 0.0

    def test_blurring_the_moving_region_lowers_it(self, scene):
        image, mask = scene
        blurred = cv2.GaussianBlur(image, (0, 0), 1.0)
        mild = cv2.GaussianBlur(image, (0, 0), 0.5)
        series = sharpness_series(np.stack([image, mild, blurred]), image, mask)
        assert series[0] == pytest.approx(1.0) and series[2] < series[1] < series[0] and series[2] < 0.7

    def test_jump_catches_one_blurred_frame_and_the_wrap(self, scene):
        image, mask = scene
        frames = np.stack([image] * 8)
        frames[4] = cv2.GaussianBlur(image, (0, 0), 1.0)
        assert sharpness_jump(sharpness_series(frames, image, mask)) > 0.3
        frames = np.stack([image] * 8)
        frames[-1] = cv2.GaussianBlur(image, (0, 0), 1.0)  # only the wrap back to frame 0 ...
        series = sharpness_series(frames, image, mask)
        assert sharpness_jump(series) > 0.3  # ... and the step into it
        assert np.abs(np.diff(series[:-1])).max() == 0.0

    def test_errors(self, scene):
        image, mask = scene
        with pytest.raises(ValueError, match="empty after eroding"):
            sharpness_series(np.stack([image] * 2), image, np.zeros_like(mask))
        with pytest.raises(ValueError, match="no detail"):
            flat = np.full_like(image, 90)
            sharpness_series(np.stack([flat] * 2), flat, mask)
        with pytest.raises(ValueError, match="source"):
            sharpness_series(np.stack([image] * 2), image[:32], mask)
        with pytest.raises(ValueError, match="empty"):
            laplacian_energy(image, np.zeros_like(mask))


class TestStutter:
    def test_smooth_drift_is_near_one_and_whole_pixel_jumps_are_not(self, scene):
        image, mask = scene
        smooth = np.stack([np.roll(image, t, axis=1) for t in range(8)])
        assert stutter_ratio(smooth, mask) < 1.3
        jumpy = np.stack([np.roll(image, t // 4, axis=1) for t in range(8)])  # moves at frames 4 and the wrap
        assert stutter_ratio(jumpy, mask) == np.inf or stutter_ratio(jumpy, mask) > 5

    def test_still_region_is_one(self, scene):
        image, mask = scene
        assert stutter_ratio(np.stack([image] * 4), mask) == 1.0
        assert region_steps(np.stack([image] * 4)).shape == (4,)
