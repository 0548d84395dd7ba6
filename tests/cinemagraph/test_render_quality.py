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
    camera_path,
    default_feather,
    integrate_loop,
    motion_field,
    render_cinemagraph,
    splat_points,
)
from cinema_dag.cinemagraph.pointcloud import unproject
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


def reference_moving_colours(image: np.ndarray, flow: np.ndarray, pixels: np.ndarray, t: int, n: int) -> np.ndarray:
    """Colours of moving pixels ``(x, y)`` at frame ``t`` of an ``n``-frame loop, the plain way.

    The loop's definition (module docstring of cinema_dag.cinemagraph.animate) with a loop-long
    cross-fade (``crossfade=1.0``: every pixel switches at ``n / 2``): the forward copy is the
    photo at the point ``t`` Euler steps along ``-M`` (integrate_loop's backward set), the backward
    copy the photo ``n - t`` steps along ``+M``, looked up bilinearly (sample_bilinear), mixed with
    the smoothstep weight ``w = x^2 (3 - 2x)``, ``x = t / n``. ``float64 (K, 3)``.
    """
    forward, backward = integrate_loop(torch.from_numpy(flow), torch.from_numpy(pixels.astype(np.float32)), n)
    forward_copy = sample_bilinear(image, backward[t][:, 0].numpy(), backward[t][:, 1].numpy())
    backward_copy = sample_bilinear(image, forward[n - t][:, 0].numpy(), forward[n - t][:, 1].numpy())
    x = t / n
    w = x * x * (3.0 - 2.0 * x)
    return (1.0 - w) * forward_copy + w * backward_copy


class TestFastPathEqualsReference:
    """The renderer against a reference built only from the plain functions (integrate_loop,
    sample_bilinear, unproject, splat_points) and numpy: no renderer internals. The plain bilinear
    lookup is the renderer's ``linear`` kernel; one loop-long cross-fade makes the blend weight a
    function of ``t`` alone."""

    def test_still_camera_frames_equal_the_reference_composition(self):
        height, width, n = 48, 64, 12
        image = textured(height, width, seed=4)
        mask = np.zeros((height, width), bool)
        mask[16:40, 8:56] = True
        flow = np.zeros((height, width, 2), np.float32)
        flow[mask] = (0.37, -0.21)
        flow[mask] *= np.linspace(0.6, 1.0, width, dtype=np.float32)[None, :, None].repeat(height, 0)[mask]
        ldi = build_ldi(image, np.full((height, width), 2.0, np.float32), num_layers=1)
        renderer = CinemagraphRenderer(ldi, flow, num_frames=n, kernel="linear", crossfade=1.0)
        rows, cols = np.nonzero(mask)
        for t in (0, 3, 6, 11, n):
            frame = renderer.render_frame(t)[0].numpy().astype(float)
            expected = image.astype(float)
            expected[rows, cols] = reference_moving_colours(image, flow, np.stack([cols, rows], 1), t, n)
            # cv2.remap quantises a lookup's position to 1/32 px: on this per-pixel noise (neighbours
            # up to ~200 grey levels apart) a few grey levels at worst, under one on average. A
            # wrong step count, copy or weight is off by tens on average.
            error = np.abs(frame - expected)
            assert error.max() <= 5.0 and error[mask].mean() <= 1.0, (t, error.max(), error[mask].mean())
            assert np.array_equal(frame[~mask], image[~mask].astype(float)), t
            if t in (0, n):  # both ends of the loop: the photo itself, exactly
                assert np.array_equal(frame, image.astype(float)), t

    def test_moving_camera_frames_equal_splat_points_of_the_animated_points(self):
        height, width, n = 40, 48, 8
        image = textured(height, width, seed=6)
        depth = np.full((height, width), 3.0, np.float32)
        depth[8:20, 10:30] = 1.5
        mask = np.zeros((height, width), bool)
        mask[24:] = True
        flow = np.zeros((height, width, 2), np.float32)
        flow[mask] = (0.4, 0.0)
        ldi = build_ldi(image, depth, num_layers=1)
        renderer = CinemagraphRenderer(ldi, flow, num_frames=n, camera="circle", zoom=1.0, kernel="linear",
                                       crossfade=1.0, crack_fill=False, fill_holes=False)
        # Every pixel is a point at its depth; still points first, so that a still point wins a
        # depth tie (the renderer's documented order), each group row-major.
        rows, cols = np.nonzero(np.ones((height, width), bool))
        moving = mask[rows, cols]
        order = np.concatenate([np.flatnonzero(~moving), np.flatnonzero(moving)])
        rows, cols, moving = rows[order], cols[order], moving[order]
        pixels = np.stack([cols, rows], 1)
        xyz = torch.from_numpy(unproject(pixels, depth[rows, cols], (height, width), ldi.focal))
        path = camera_path("circle", n)
        for t in range(n):
            colours = image[rows, cols].astype(float)
            colours[moving] = reference_moving_colours(image, flow, pixels[moving], t, n)
            rgb = torch.from_numpy(np.round(colours).astype(np.uint8))
            centre = tuple(float(c) for c in path.centres([t])[0])
            expected, covered = splat_points(xyz, rgb, (height, width), focal=ldi.focal, camera_centre=centre)
            expected, covered = expected.numpy().astype(int), covered.numpy()
            frame = renderer.render_frame(t)[0].numpy().astype(int)
            # The camera opens gaps (zoom 1, no crack or hole filling): the scene tests coverage too.
            assert 0.01 * covered.size < (~covered).sum() < 0.1 * covered.size, (t, (~covered).sum())
            assert np.array_equal((frame == 0).all(-1), ~covered), t  # the same pixels left empty
            # The same point wins every pixel; its colour within the rounding of the two lookups.
            assert np.abs(frame - expected).max() <= 3, (t, np.abs(frame - expected).max())


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
