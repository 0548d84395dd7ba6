"""Acceptance tests of the renderer on synthetic scenes (the issue's list)."""

import numpy as np
import pytest

from cinema_dag.cinemagraph import (
    CinemagraphRenderer,
    build_ldi,
    camera_path,
    loop_seam_ratio,
    make_cinemagraph,
    motion_field,
    render_cinemagraph,
)

from .conftest import textured


def _flat(h=40, w=48, depth=2.0):
    return np.full((h, w), depth, np.float32)


class TestStill:
    def test_static_camera_and_zero_flow_reproduce_the_image(self, two_planes):
        image, depth = two_planes
        result = render_cinemagraph(build_ldi(image, depth), np.zeros((*depth.shape, 2), np.float32), num_frames=6)
        assert result.frames.shape == (6, *image.shape) and result.frames.dtype == np.uint8
        assert all(np.array_equal(frame, image) for frame in result.frames)
        assert result.stats["moving_points"] == 0 and result.stats["hole_fraction_max"] == 0.0

    def test_constant_flow_moves_the_masked_band_by_the_integrated_displacement(self):
        # A texture periodic in x with period N * v: the forward copy (moved t v) and the backward
        # copy (moved -(N - t) v) then show the same picture, so every frame is exactly the image
        # shifted by t v inside the band, whatever the blend weights.
        n, v = 8, 1.0
        tile = textured(40, 8, seed=3)
        image = np.tile(tile, (1, 6, 1))  # 40 x 48, period 8 = n * v
        band = np.zeros((40, 48), bool)
        band[12:28] = True
        flow = np.zeros((40, 48, 2), np.float32)
        flow[band, 0] = v
        frames = render_cinemagraph(build_ldi(image, _flat()), flow, num_frames=n).frames
        # Columns within N v of the image's sides are left out: there the forward (backward) copy
        # gathers from beyond the picture's left (right) edge, which is extended by its edge pixels,
        # not by this texture's period.
        inner = band.copy()
        inner[:, : int(n * v)] = inner[:, -int(n * v) :] = False
        for t in range(n):
            shifted = np.roll(image, int(t * v), axis=1)
            assert np.array_equal(frames[t][inner], shifted[inner]), t
            assert np.array_equal(frames[t][~band], image[~band]), t  # still camera: nothing else moves

    def test_flow_moves_content_downstream_in_the_first_frames(self):
        image = textured(40, 48, seed=5)
        mask = np.zeros((40, 48), bool)
        mask[:, 10:38] = True
        flow = np.zeros((40, 48, 2), np.float32)
        flow[mask, 1] = 0.5  # 0.5 px/frame down
        renderer = CinemagraphRenderer(build_ldi(image, _flat()), flow, num_frames=20)
        frame, _ = renderer.render_frame(2)  # forward weight 0.9: mostly the image moved 1 px down
        inner = frame.numpy()[5:35, 14:34].astype(int)
        down = np.abs(inner - image[4:34, 14:34]).mean()
        same = np.abs(inner - image[5:35, 14:34]).mean()
        assert down < same / 2


class TestSubPixelMotion:
    def test_slow_flow_drifts_smoothly_by_the_integrated_displacement(self):
        # ~0.15 px/frame: without sub-pixel resampling the band would move a whole pixel every ~7
        # frames (frame differences ~0, ~0, large, ...). The texture is a sum of sinusoids,
        # periodic in x with period N v = 8 px, so the forward copy (moved t v) and the backward
        # copy (moved -(N - t) v) both show the image shifted by t v, whatever the blend weights,
        # and the exact shifted texture is known in closed form.
        n, period = 53, 8
        v = period / n
        h, w = 64, 96
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)

        def texture(shift: float) -> np.ndarray:
            phase = 2 * np.pi * (xx - shift) / period
            return np.stack(
                [128 + 70 * np.sin(phase + yy / 9), 128 + 50 * np.cos(phase - yy / 13) + 20 * np.sin(2 * phase),
                 128 + 60 * np.sin(phase + 1.0)], axis=-1,
            )

        image = np.clip(np.round(texture(0.0)), 0, 255).astype(np.uint8)
        band = np.zeros((h, w), bool)
        band[20:44] = True
        flow = np.zeros((h, w, 2), np.float32)
        flow[band, 0] = v
        frames = render_cinemagraph(build_ldi(image, _flat(h, w)), flow, num_frames=n).frames
        inside = frames[:, band].astype(np.float64)
        # Consecutive differences inside the band, the seam (N - 1 -> 0) included: nearly constant.
        steps = np.abs(np.roll(inside, -1, axis=0) - inside).mean(axis=(1, 2))
        assert steps.max() <= 1.3 * np.median(steps), steps
        # Content: the texture shifted by t v (the image's rounding and the resampling cost about
        # a grey level; bilinear resampling would be off by ~2.4 on average). Left out: the 8 columns on
        # each side, which gather from beyond the image.
        inner = band.copy()
        inner[:, :period] = inner[:, -period:] = False
        for t in range(n):
            error = np.abs(frames[t].astype(np.float64) - texture(t * v))[inner]
            assert error.mean() <= 1.5 and error.max() <= 5.0, (t, error.mean(), error.max())
            assert np.array_equal(frames[t][~band], image[~band]), t  # still camera: nothing else moves


class TestLoop:
    @pytest.mark.parametrize("camera", ["none", "circle", "shake"])
    def test_frame_n_equals_frame_0(self, two_planes, camera):
        image, depth = two_planes
        mask = np.zeros(depth.shape, bool)
        mask[30:] = True
        flow = motion_field("flood", mask, depth)
        renderer = CinemagraphRenderer(build_ldi(image, depth), flow, num_frames=10, camera=camera)
        first = renderer.render_frame(0)[0].clone()
        renderer.render_frame(5)
        assert np.array_equal(renderer.render_frame(10)[0].numpy(), first.numpy())
        assert renderer.n_moving > 0

    def test_seam_is_like_any_other_step(self, two_planes):
        image, depth = two_planes
        mask = np.zeros(depth.shape, bool)
        mask[28:] = True
        flow = motion_field("flood", mask, depth)
        frames = render_cinemagraph(build_ldi(image, depth), flow, num_frames=12, camera="circle").frames
        assert loop_seam_ratio(frames) < 1.6
        assert not np.array_equal(frames[0], frames[6])  # it does move


class TestParallax:
    def test_near_plane_shifts_more_than_far_in_the_perspective_direction(self):
        # Markers: a white 2x2 square on the near block, a black one on the far plane.
        h, w, near_depth, far_depth = 48, 64, 1.0, 4.0
        image = np.full((h, w, 3), 128, np.uint8)
        depth = np.full((h, w), far_depth, np.float32)
        depth[14:34, 26:46] = near_depth
        image[23:25, 35:37] = 255
        image[8:10, 10:12] = 0
        n, amplitude = 8, 0.1
        path = camera_path("swing", n, amplitude=(amplitude, 0.0, 0.0))
        renderer = CinemagraphRenderer(
            build_ldi(image, depth), np.zeros((h, w, 2), np.float32), num_frames=n, camera=path, zoom=1.0
        )
        frame = renderer.render_frame(n // 4)[0].numpy()  # camera at +amplitude (moved right)
        f = float(max(h, w))

        def centre_of(value):
            ys, xs = np.nonzero((frame == value).all(-1))
            return xs.mean(), ys.mean()

        near_x, near_y = centre_of(255)
        far_x, far_y = centre_of(0)
        near_shift, far_shift = near_x - 35.5, far_x - 10.5
        assert near_shift == pytest.approx(-f * amplitude / near_depth, abs=1.0)  # about -6.4 px
        assert far_shift == pytest.approx(-f * amplitude / far_depth, abs=1.0)  # about -1.6 px
        assert near_shift < far_shift < 0 and near_y == pytest.approx(23.5) and far_y == pytest.approx(8.5)


class TestHoles:
    def test_back_layer_fills_disocclusions_and_no_hole_remains(self, two_planes):
        image, depth = two_planes
        flow = np.zeros((*depth.shape, 2), np.float32)
        # The block (depth 1) slides 64 * 0.08 * (1 - 1/4) = 3.8 px over the far plane (depth 4):
        # within the default hidden band (6% of 64 = 4 px).
        path = camera_path("swing", 8, amplitude=(0.08, 0.0, 0.0))
        fractions = {}
        for layers in (1, 2):
            ldi = build_ldi(image, depth, num_layers=layers)
            stats = render_cinemagraph(ldi, flow, num_frames=8, camera=path, fill_holes=False).stats
            assert stats["zoom"] > 1.0  # the automatic overscan keeps the image borders covered
            fractions[layers] = stats["hole_fraction_mean"]
            filled = render_cinemagraph(ldi, flow, num_frames=8, camera=path, zoom=1.0)  # borders open too
            # The texture has no black pixel, and an unfilled pixel would be black.
            assert not (filled.frames == 0).all(-1).any()
        assert fractions[1] > 0.005
        assert fractions[2] < fractions[1] / 10

    def test_hole_filler_off_leaves_black_pixels(self, two_planes):
        image, depth = two_planes
        path = camera_path("swing", 8, amplitude=(0.12, 0.0, 0.0))
        result = render_cinemagraph(
            build_ldi(image, depth, num_layers=1), np.zeros((*depth.shape, 2), np.float32),
            num_frames=8, camera=path, zoom=1.0, fill_holes=False,
        )
        assert (result.frames == 0).all(-1).any() and result.stats["frames_with_holes"] > 0


class TestDeterminismAndInputs:
    def test_same_inputs_same_frames(self, two_planes):
        image, depth = two_planes
        mask = np.zeros(depth.shape, bool)
        mask[:, :20] = True
        runs = [make_cinemagraph(image, 1.0 / depth, mask, "typhoon", seed=7, num_frames=6).frames for _ in range(2)]
        assert np.array_equal(runs[0], runs[1])

    def test_size_mismatch_is_a_clear_error(self, two_planes):
        image, depth = two_planes
        mask = np.zeros(depth.shape, bool)
        with pytest.raises(ValueError, match=r"`image` 48x64, `disparity` 48x64, `mask` 47x64"):
            make_cinemagraph(image, depth, mask[:-1], "flood")
        with pytest.raises(ValueError, match=r"`flow` 48x63"):
            render_cinemagraph(build_ldi(image, depth), np.zeros((48, 63, 2), np.float32))

    def test_nan_and_constant_depth_are_handled(self, two_planes):
        image, _ = two_planes
        mask = np.zeros((48, 64), bool)
        mask[30:] = True
        disparity = np.full((48, 64), 0.5, np.float32)  # constant: a flat photo
        disparity[5:9, 5:9] = np.nan
        result = make_cinemagraph(image, disparity, mask, "flood", num_frames=4, camera="circle")
        assert result.frames.shape == (4, 48, 64, 3) and np.array_equal(result.depth, np.ones((48, 64), np.float32))

    def test_empty_mask_is_a_camera_only_3d_photo(self, two_planes):
        image, depth = two_planes
        result = make_cinemagraph(image, 1.0 / depth, np.zeros((48, 64), bool), "earthquake", num_frames=6)
        assert result.stats["moving_points"] == 0 and result.stats["camera"] == "shake"
        assert not np.array_equal(result.frames[0], result.frames[2])  # the camera moves
        assert not (result.frames == 0).all(-1).any()

    def test_bad_arguments(self, two_planes):
        image, depth = two_planes
        ldi = build_ldi(image, depth)
        flow = np.zeros((48, 64, 2), np.float32)
        with pytest.raises(ValueError, match="period"):
            render_cinemagraph(ldi, flow, num_frames=10, camera=camera_path("circle", 12))
        with pytest.raises(ValueError, match="non-finite"):
            render_cinemagraph(ldi, np.full((48, 64, 2), np.nan, np.float32))
        with pytest.raises(ValueError, match="zoom"):
            render_cinemagraph(ldi, flow, zoom=0.0)
        with pytest.raises(ValueError, match="`t`"):
            CinemagraphRenderer(ldi, flow, num_frames=4).render_frame(5)


class TestWithCamera:
    """A renderer's ``with_camera``: the same loop under another camera, without a second set-up."""

    N = 12

    def _scene(self):
        image = textured(48, 64, seed=5)
        depth = np.full((48, 64), 4.0, np.float32)
        depth[6:24, 20:44] = 1.5  # a near block: parallax, disocclusions
        mask = np.zeros((48, 64), bool)
        mask[28:, :] = True
        return build_ldi(image, depth), motion_field("flood", mask, depth)

    def _frames(self, renderer):
        return np.stack([renderer.render_frame(t)[0].numpy().copy() for t in range(self.N + 1)])

    def test_equals_a_renderer_made_for_that_camera(self):
        ldi, flow = self._scene()
        circle = CinemagraphRenderer(ldi, flow, num_frames=self.N, camera="circle", seed=3)
        swing = camera_path("swing", self.N, seed=3)
        derived = self._frames(circle.with_camera(swing))
        fresh = self._frames(CinemagraphRenderer(ldi, flow, num_frames=self.N, camera=swing, seed=3))
        assert np.array_equal(derived, fresh)
        assert np.array_equal(derived[0], derived[-1])  # the seam stays exact

    def test_a_still_pass_of_a_moving_renderer_is_the_still_loop(self):
        ldi, flow = self._scene()
        moving = CinemagraphRenderer(ldi, flow, num_frames=self.N, camera="circle", seed=3)
        derived = moving.with_camera("none")
        assert derived.zoom == 1.0 and derived.path.is_still and moving.zoom > 1.0
        still = self._frames(derived)
        fresh = self._frames(CinemagraphRenderer(ldi, flow, num_frames=self.N, camera="none", seed=3))
        outside = (flow == 0).all(-1)
        assert np.array_equal(still[:, outside], fresh[:, outside])  # still content: bit for bit
        assert np.abs(still.astype(int) - fresh).mean() < 1.0  # the moving region: the same loop
        assert np.array_equal(still[0], still[-1]) and np.array_equal(still[0], fresh[0])
        assert (still[:, outside] == still[0][outside]).all()  # no flicker outside the moving region

    def test_the_original_keeps_rendering_its_own_camera(self):
        ldi, flow = self._scene()
        moving = CinemagraphRenderer(ldi, flow, num_frames=self.N, camera="circle", seed=3)
        before = self._frames(moving)
        still = moving.with_camera("none")
        interleaved = []
        for t in range(self.N + 1):  # both step their own forward copies and pose buffers
            still.render_frame(self.N - t)
            interleaved.append(moving.render_frame(t)[0].numpy().copy())
        assert np.array_equal(np.stack(interleaved), before)
        assert moving.stats["camera"] == "circle" and still.stats["camera"] == "none"

    def test_a_still_renderer_refuses_a_moving_camera(self):
        ldi, flow = self._scene()
        still = CinemagraphRenderer(ldi, flow, num_frames=self.N, camera="none")
        with pytest.raises(ValueError, match="made for a still camera"):
            still.with_camera("circle")
        with pytest.raises(ValueError, match="must divide"):
            CinemagraphRenderer(ldi, flow, num_frames=self.N, camera="circle").with_camera(camera_path("circle", 5))
