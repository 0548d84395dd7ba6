"""Quality of the moving texture on textured scenes: sharp in every frame, no stutter, no seam.

Scenes a real photo would also fail: fractal noise (1/f amplitude spectrum, like natural images)
and scikit-image's ``gravel`` photo (shipped in its wheel), a 96 x 144 moving region, a still
camera, 48 frames, uniform flows at a slow (0.15 px/frame) and a fast (2 px/frame) speed.
"""

import cv2
import numpy as np
import pytest
import torch

from cinema_dag.cinemagraph import (
    CAMERA_KINDS,
    CinemagraphRenderer,
    build_ldi,
    default_feather,
    integrate_loop,
    motion_field,
    render_cinemagraph,
    splat_points,
)
from cinema_dag.cinemagraph.loopblend import backward_weight
from cinema_dag.cinemagraph.quality import sharpness_jump, sharpness_series, stutter_ratio
from cinema_dag.cinemagraph.resample import SupersampledTexture, sample_bilinear
from cinema_dag.cinemagraph.textures import fractal_noise

from .conftest import textured

SIZE = 192


def gravel_photo() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    grey = skimage_data.gravel()[160 : 160 + SIZE, 160 : 160 + SIZE]
    return np.ascontiguousarray(np.dstack([grey] * 3))


def uniform_scene(image: np.ndarray, speed: float):
    """A 96 x 144 region flowing at ``speed`` px/frame (direction (0.8, 0.6)), feathered edges."""
    h, w = image.shape[:2]
    mask = np.zeros((h, w), bool)
    mask[h // 4 : h // 4 + 96, w // 2 - 72 : w // 2 + 72] = True
    inside = np.pad(mask, 1).astype(np.uint8)
    ramp = np.clip(cv2.distanceTransform(inside, cv2.DIST_L2, 5)[1:-1, 1:-1] / default_feather(h, w), 0, 1)
    flow = np.zeros((h, w, 2), np.float32)
    flow[mask] = (0.8 * speed, 0.6 * speed)
    flow *= ramp[..., None]
    return build_ldi(image, np.full((h, w), 2.0, np.float32)), flow, mask


SCENES = {"fractal": lambda: fractal_noise(SIZE, SIZE), "gravel": gravel_photo}


@pytest.mark.parametrize("speed", [0.15, 2.0])
@pytest.mark.parametrize("texture", sorted(SCENES))
def test_moving_texture_is_as_sharp_as_the_photo_in_every_frame_and_never_stutters(texture, speed):
    image = SCENES[texture]()
    ldi, flow, mask = uniform_scene(image, speed)
    frames = render_cinemagraph(ldi, flow, num_frames=48).frames
    series = sharpness_series(frames, image, mask)
    assert series.min() >= 0.9, series.round(3)
    assert sharpness_jump(series) <= 0.05, series.round(3)  # the wrap to frame 0 included
    assert stutter_ratio(frames, mask) <= 1.3
    assert not np.array_equal(frames[0][mask], frames[24][mask])  # it moves


def test_the_old_resampling_and_loop_long_blend_fail_the_same_bounds():
    # Bilinear resampling with one loop-long blend (the previous renderer's look): the bounds
    # above are not loose.
    image = fractal_noise(SIZE, SIZE)
    ldi, flow, mask = uniform_scene(image, 0.15)
    frames = render_cinemagraph(ldi, flow, num_frames=48, kernel="linear", crossfade=1.0).frames
    series = sharpness_series(frames, image, mask)
    assert series.min() < 0.7 and sharpness_jump(series) > 0.05


def _loop_scene():
    image = textured(40, 56, seed=2)
    depth = np.full((40, 56), 4.0, np.float32)
    depth[10:26, 16:34] = 1.0
    mask = np.zeros((40, 56), bool)
    mask[24:] = True
    return build_ldi(image, depth), motion_field("flood", mask, depth)


@pytest.mark.parametrize("zoom", ["auto", 1.0, 1.1, 0.9])
def test_frame_n_equals_frame_0_for_every_camera_and_zoom(zoom):
    ldi, flow = _loop_scene()
    for camera in CAMERA_KINDS:
        renderer = CinemagraphRenderer(ldi, flow, num_frames=8, camera=camera, zoom=zoom, seed=3)
        first = renderer.render_frame(0)[0].clone()
        renderer.render_frame(5)  # a frame between, so frame N is not the first one rendered
        assert np.array_equal(renderer.render_frame(8)[0].numpy(), first.numpy()), camera


class TestFastPathEqualsReference:
    """The renderer against the plain reference functions (integrate_loop, the bilinear lookup,
    splat_points) on a small scene."""

    def _reference_colours(self, renderer, ldi, flow, t):
        """Colours of the moving pixels at frame ``t`` the plain way: positions from
        integrate_loop, lookups by sample_bilinear on the supersampled texture, the blend weight."""
        n = renderer.num_frames
        gather = renderer._gathers[0]
        start = renderer._start.cpu()
        forward, backward = integrate_loop(torch.from_numpy(flow), start, n)
        u = gather.texture.upsample
        c0, r0 = gather.origin
        copies = []
        for pos in (backward[t], forward[n - t]):  # forward copy: t steps of -M; backward copy: N - t of +M
            x, y = (pos[:, 0].numpy() - c0) * u, (pos[:, 1].numpy() - r0) * u
            copies.append(sample_bilinear(gather.texture.data, x, y))
        w = backward_weight(renderer._switch.cpu(), t, renderer.fade).numpy()[:, None]
        return (1 - w) * copies[0] + w * copies[1], renderer._start.cpu().numpy().astype(int)

    def test_still_camera_frames_equal_the_reference_composition(self):
        image = textured(48, 64, seed=4)
        mask = np.zeros((48, 64), bool)
        mask[16:40, 8:56] = True
        flow = np.zeros((48, 64, 2), np.float32)
        flow[mask] = (0.37, -0.21)
        flow[mask] *= np.linspace(0.6, 1.0, 64, dtype=np.float32)[None, :, None].repeat(48, 0)[mask]
        ldi = build_ldi(image, np.full((48, 64), 2.0, np.float32))
        renderer = CinemagraphRenderer(ldi, flow, num_frames=12, kernel="sharp")
        for t in (0, 3, 6, 11):
            frame = renderer.render_frame(t)[0].numpy().astype(float)
            colours, pixels = self._reference_colours(renderer, ldi, flow, t)
            got = frame[pixels[:, 1], pixels[:, 0]]
            # cv2.remap quantises positions to 1/256 px and its weights to 15 bits: within a grey
            # level or two of the exact bilinear values (a wrong step count or copy is off by tens).
            error = np.abs(got - colours)
            assert error.max() <= 2.0 and error.mean() <= 0.5, (t, error.max(), error.mean())
            assert np.array_equal(frame[~mask], image[~mask].astype(float)), t

    def test_moving_camera_frames_equal_splat_points_of_the_animated_points(self):
        image = textured(40, 48, seed=6)
        depth = np.full((40, 48), 3.0, np.float32)
        depth[8:20, 10:30] = 1.5
        mask = np.zeros((40, 48), bool)
        mask[24:] = True
        flow = np.zeros((40, 48, 2), np.float32)
        flow[mask] = (0.4, 0.0)
        ldi = build_ldi(image, depth, num_layers=1)
        renderer = CinemagraphRenderer(ldi, flow, num_frames=8, camera="circle", zoom=1.0,
                                       crack_fill=False, fill_holes=False)
        t = 3
        frame = renderer.render_frame(t)[0].numpy()
        # The same points, coloured with the renderer's moving colours, through splat_points.
        colours = renderer._colors32.clone()
        moving_ids = torch.arange(renderer.n_static, renderer.n_points)
        colours[moving_ids] = renderer._moving_colours(t, renderer._slot[moving_ids])
        rgb = colours[:-1].view(torch.uint8).view(-1, 4)[:, :3]
        _layer, row, col = ldi.point_indices()
        order = np.concatenate([np.flatnonzero(flow[row, col].any(1) == 0), np.flatnonzero(flow[row, col].any(1))])
        xyz = torch.from_numpy(ldi.points().xyz[order])
        centre = tuple(float(c) for c in renderer.path.centres([t])[0])
        expected, covered = splat_points(xyz, rgb, (40, 48), camera_centre=centre)
        # Pixel boundaries: the renderer folds the projection's constants differently, so a
        # point within float rounding of a pixel edge may land on the neighbour.
        same = (frame == expected.numpy()).all(-1)
        assert same.mean() >= 0.99, same.mean()
        assert np.array_equal((frame == 0).all(-1), ~covered.numpy()) or (~same).sum() <= 0.01 * same.size


def test_lookup_on_the_torch_path_matches_cv2():
    # The GPU path (grid_sample) run on CPU tensors: within a grey level of cv2.remap.
    texture = SupersampledTexture(textured(24, 32, seed=9))
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.uniform(-1, 33, 500).astype(np.float32))
    y = torch.from_numpy(rng.uniform(-1, 25, 500).astype(np.float32))
    by_cv2 = texture.lookup_cv2(x, y).view(torch.uint8).view(-1, 4).numpy().astype(int)
    by_torch = texture.lookup_torch(x, y).view(torch.uint8).view(-1, 4).numpy().astype(int)
    assert np.abs(by_cv2 - by_torch).max() <= 1
    reference = sample_bilinear(texture.data, x.numpy() * texture.upsample, y.numpy() * texture.upsample)
    assert np.abs(by_cv2[:, :3] - reference).max() <= 1.5
