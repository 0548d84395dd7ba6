"""Loop measures on cases with known answers: sharpness stability S(t), stutter, seam, unfilled
pixels, flicker (on the video with a still camera, on a still-camera pass with a moving one),
motion fraction, and their checks -- on random texture, a real photo and fractal noise, and on
loops the renderer made."""

import cv2
import numpy as np
import pytest
from realistic_images import fractal_noise, photos

from cinema_dag.cinemagraph import CinemagraphRenderer, build_ldi, camera_path, motion_field
from cinema_dag.cinemagraph.quality import (
    LoopThresholds,
    check_loop,
    flicker_outside,
    laplacian_energy,
    measure_loop,
    motion_fraction,
    motion_region,
    region_steps,
    render_still_pass,
    seam_error,
    sharpness_jump,
    sharpness_series,
    still_pass_times,
    stutter_ratio,
)

from .conftest import textured


@pytest.fixture(params=["random", "photo", "fractal"])
def scene(request):
    image = {
        "random": lambda: textured(64, 80, seed=11),
        "photo": lambda: photos((80, 64))[0],
        "fractal": lambda: fractal_noise(64, 80, seed=11),
    }[request.param]()
    mask = np.zeros((64, 80), bool)
    mask[16:56, 10:70] = True
    return image, mask


@pytest.fixture
def white_noise_scene():
    """Random texture: any shift changes it by the same amount (the stutter tests rely on that)."""
    mask = np.zeros((64, 80), bool)
    mask[16:56, 10:70] = True
    return textured(64, 80, seed=11), mask


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
    def test_smooth_drift_is_near_one_and_whole_pixel_jumps_are_not(self, white_noise_scene):
        image, mask = white_noise_scene
        smooth = np.stack([np.roll(image, t, axis=1) for t in range(8)])
        assert stutter_ratio(smooth, mask) < 1.3
        jumpy = np.stack([np.roll(image, t // 4, axis=1) for t in range(8)])  # moves at frames 4 and the wrap
        assert stutter_ratio(jumpy, mask) == np.inf or stutter_ratio(jumpy, mask) > 5

    def test_still_region_is_one(self, white_noise_scene):
        image, mask = white_noise_scene
        assert stutter_ratio(np.stack([image] * 4), mask) == 1.0
        assert region_steps(np.stack([image] * 4)).shape == (4,)


def _scene(layers=2):
    """A real photo with a near block, its lower part flowing (flood): picture, LDI and flow."""
    image = photos((96, 72))[1]
    depth = np.full((72, 96), 4.0, np.float32)
    depth[10:40, 30:70] = 1.0
    mask = np.zeros((72, 96), bool)
    mask[44:, :] = True
    return image, build_ldi(image, depth, num_layers=layers), motion_field("flood", mask, depth)


def _renderer(camera="none", fill_holes=True, num_frames=12, layers=2):
    _, ldi, flow = _scene(layers)
    path = camera if camera == "none" else camera_path(camera, num_frames, amplitude=(0.15, 0.0, 0.0))
    return CinemagraphRenderer(ldi, flow, num_frames=num_frames, camera=path, zoom=1.0, fill_holes=fill_holes)


def _loop(camera="none", fill_holes=True, num_frames=12, layers=2):
    """The scene rendered by the engine: picture, flow, the render and frame N."""
    image, _, flow = _scene(layers)
    renderer = _renderer(camera, fill_holes, num_frames, layers)
    result = renderer.render()
    frame_n = renderer.render_frame(num_frames)[0].numpy().copy()
    return image, flow, result, frame_n


class TestSeam:
    def test_zero_for_the_renderers_loop_and_positive_when_the_last_frame_is_altered(self):
        _, _, result, frame_n = _loop()
        assert seam_error(frame_n, result.frames[0]) == 0.0
        altered = frame_n.copy()
        altered[30:34, 40:44] //= 2
        assert seam_error(altered, result.frames[0]) > 0.0

    def test_measure_loop_compares_the_given_frame_n_with_frame_0_and_the_check_fails(self):
        image, flow, result, frame_n = _loop()
        altered = frame_n.copy()
        altered[60, 10, 1] ^= 0x40  # one channel of one pixel: 64 / (3 * 72 * 96) grey levels on average
        quality = measure_loop(result.frames, altered, image, flow, result.stats, still_camera=True)
        assert quality.seam_error == pytest.approx(64 / (3 * 72 * 96))
        verdict = check_loop(quality)["seam"]
        assert verdict.passed is False and verdict.observed["seam_error"] > 0.0

    def test_a_changed_last_frame_raises_the_wrap_step(self):
        image, flow, result, frame_n = _loop()
        good = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=True)
        frames = result.frames.copy()
        frames[-1] = np.roll(frames[-1], 3, axis=1)  # the last frame jumps: the wrap is no ordinary step
        bad = measure_loop(frames, frame_n, image, flow, result.stats, still_camera=True)
        assert good.wrap_step_ratio < 2.0 < bad.wrap_step_ratio
        assert check_loop(good)["seam"].passed and not check_loop(bad)["seam"].passed


class TestFlickerAndMotion:
    def test_nothing_outside_the_moving_region_changes_with_a_still_camera(self):
        _, flow, result, _ = _loop()
        region = motion_region(flow)
        assert flicker_outside(result.frames, region) == 0.0
        assert flicker_outside(result.frames, motion_region(flow, 0) & False) > 0  # the water itself moves
        frames = result.frames.copy()
        frames[5, 2, 2] = frames[5, 2, 2] // 2 + 1  # one pixel far from the water
        assert flicker_outside(frames, region) == pytest.approx(float(np.abs(
            frames[5, 2, 2].astype(int) - result.frames[5, 2, 2]).max()))

    def test_one_pixel_changed_outside_the_motion_region_fails_the_flicker_check(self):
        image, flow, result, frame_n = _loop()
        frames = result.frames.copy()
        assert not motion_region(flow)[3, 5]
        frames[7, 3, 5, 2] = 255 - frames[7, 3, 5, 2]  # far from the water, in one frame
        quality = measure_loop(frames, frame_n, image, flow, result.stats, still_camera=True)
        assert quality.flicker == pytest.approx(abs(255 - 2 * int(result.frames[7, 3, 5, 2])))
        assert quality.flicker > 0 and quality.flicker_from == "video"
        assert check_loop(quality)["flicker"].passed is False

    def test_motion_region_and_fraction(self):
        flow = np.zeros((20, 30, 2), np.float32)
        flow[10:, :, 1] = 0.5
        assert motion_fraction(flow) == 0.5
        grown = motion_region(flow, 2)
        assert grown[8:].all() and not grown[:8].any()
        assert motion_region(np.zeros_like(flow), 2).sum() == 0
        with pytest.raises(ValueError, match="H, W, 2"):
            motion_region(flow[..., 0])


class TestStillPass:
    """A moving camera's flicker, measured on a still-camera pass of the same loop."""

    def test_times_start_at_0_end_at_n_and_rise(self):
        assert still_pass_times(60) == [0, 15, 30, 45, 60]
        assert still_pass_times(12, 2) == [0, 12] and still_pass_times(2, 5) == [0, 1, 2]
        with pytest.raises(ValueError, match="count"):
            still_pass_times(12, 1)

    def test_the_pass_is_the_still_loop_at_those_times(self):
        still = render_still_pass(_renderer("swing"), count=4)
        _, _, video, frame_n = _loop("none")
        assert still.shape == (4, 72, 96, 3) and still.dtype == np.uint8
        for frame, t in zip(still, still_pass_times(12, 4), strict=True):
            expected = frame_n if t == 12 else video.frames[t]
            assert np.array_equal(frame, expected), t  # the same loop, only the camera is still
        with pytest.raises(ValueError, match="camera is still"):
            render_still_pass(_renderer("none"))

    def test_a_moving_camera_gets_its_flicker_from_the_pass(self):
        image, _, flow = _scene()
        _, _, result, frame_n = _loop(camera="swing")
        still = render_still_pass(_renderer("swing"))
        quality = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=False,
                               still_frames=still)
        assert quality.flicker == 0.0 and quality.flicker_from == "still pass (5 frames)"
        assert "flicker" not in quality.notes and check_loop(quality)["flicker"].passed is True
        # One pixel far from the water changes in the pass: the check sees it.
        still[2, 3, 5] = 255 - still[2, 3, 5]
        broken = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=False,
                              still_frames=still)
        assert broken.flicker > 0 and check_loop(broken)["flicker"].passed is False

    def test_without_a_pass_a_moving_camera_says_not_measured(self):
        image, flow, result, frame_n = _loop(camera="swing")
        quality = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=False)
        assert quality.flicker is None and quality.flicker_from is None
        assert quality.notes["flicker"].startswith("not measured: the camera moves")
        assert check_loop(quality)["flicker"].passed is None
        with pytest.raises(ValueError, match="still_frames"):
            measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=False,
                         still_frames=result.frames[:3, :10])


class TestMeasureAndCheck:
    def test_a_good_still_loop_passes_the_blocking_checks(self):
        image, flow, result, frame_n = _loop()
        quality = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=True)
        assert quality.seam_error == 0.0 and quality.flicker == 0.0
        assert quality.unfilled_before_fill == 0.0 and quality.unfilled_after_fill == 0.0
        assert quality.motion_fraction == pytest.approx(28 / 72)
        assert 0.0 < quality.sharpness_min <= 1.0 and quality.sharpness_jump >= 0.0
        verdicts = check_loop(quality)
        assert all(verdicts[name].passed for name in ("seam", "holes", "flicker"))
        strict = check_loop(quality, LoopThresholds(min_sharpness=1.01))
        assert strict["sharpness"].passed is False and strict["sharpness"].expected["min_sharpness"] == 1.01

    def test_one_blurred_frame_warns_by_its_jump_though_the_minimum_passes(self):
        image, _, flow = _scene()
        frames = np.stack([image] * 8)
        frames[4] = cv2.GaussianBlur(image, (0, 0), 0.44)  # keeps ~80 % of the detail: above the minimum
        quality = measure_loop(frames, image, image, flow, {}, still_camera=True)
        assert LoopThresholds().min_sharpness <= quality.sharpness_min < 0.9
        assert quality.sharpness_jump > LoopThresholds().max_sharpness_jump
        verdict = check_loop(quality)["sharpness"]
        assert verdict.passed is False and verdict.observed["sharpness_jump"] == quality.sharpness_jump
        # Allow the jump and the same loop passes: the jump alone failed it.
        assert check_loop(quality, LoopThresholds(max_sharpness_jump=0.5))["sharpness"].passed is True

    def test_hole_filling_off_with_a_moving_camera_fails_the_holes_check(self):
        image, flow, result, frame_n = _loop(camera="swing", fill_holes=False, layers=1)
        quality = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=False)
        assert quality.unfilled_after_fill > 0.0 and quality.flicker is None
        # The mean hides the worst frame; the maximum is reported beside it.
        assert quality.unfilled_before_fill_max == result.stats["hole_fraction_max"]
        assert quality.unfilled_before_fill_max > quality.unfilled_before_fill > 0.0
        assert check_loop(quality)["holes"].observed["unfilled_before_fill_max"] == quality.unfilled_before_fill_max
        verdict = check_loop(quality)
        assert verdict["holes"].passed is False and verdict["flicker"].passed is None
        filled = _loop(camera="swing", fill_holes=True, layers=1)[2]
        assert filled.stats["hole_fraction_mean"] > 0.0 and filled.stats["unfilled_fraction_after_fill_max"] == 0.0

    def test_an_empty_mask_is_noted_not_measured(self):
        image, _, result, frame_n = _loop()
        still = np.zeros((*image.shape[:2], 2), np.float32)
        quality = measure_loop(result.frames, frame_n, image, still, result.stats, still_camera=True)
        assert quality.sharpness_min is None and "empty" in quality.notes["sharpness"]
        assert check_loop(quality)["sharpness"].passed is None
        record = quality.to_dict()
        assert record["sharpness_min"] is None and isinstance(record["wrap_step_ratio"], float)
