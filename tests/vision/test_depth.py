"""DPT depth, 16-bit PNG encoding and the preview."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cinema_dag.cinemagraph.depth import fill_non_finite
from cinema_dag.models import load_component
from cinema_dag.vision.depth import colorize_depth, depth_from_png16, depth_to_png16, estimate_depth


@pytest.fixture(scope="module")
def depth_model(tiny_cache):
    return load_component("depth", cache_dir=tiny_cache)


class TestEstimateDepth:
    def test_finite_and_image_sized(self, depth_model):
        rng = np.random.default_rng(0)
        images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in ((48, 64), (33, 21))]
        images.append(Image.new("L", (40, 40), 90))
        depths = estimate_depth(depth_model, images)
        assert len(depths) == 3
        for image, d in zip(images, depths, strict=True):
            assert d.shape == (image.height, image.width) and d.dtype == np.float32
            assert np.isfinite(d).all()
        # Deterministic (eval mode).
        assert np.array_equal(estimate_depth(depth_model, images[:1])[0], depths[0])


class TestNonFinite:
    def test_previews_fill_holes_with_the_nearest_finite_value_like_the_engine(self):
        # One policy (cinemagraph.depth.fill_non_finite): a hole takes its nearest finite neighbour's
        # value, not the map's farthest or nearest value.
        d = np.array([[0.5, np.nan, np.inf, 2.0, 2.0, 1.0]], dtype=np.float32)
        filled = fill_non_finite(d)
        assert filled.tolist() == [[0.5, 0.5, 2.0, 2.0, 2.0, 1.0]]
        assert np.array_equal(depth_from_png16(depth_to_png16(d)), depth_from_png16(depth_to_png16(filled)))

    def test_a_nan_depth_map_previews_like_its_filled_version(self):
        # Holes in the middle of a ramp: NaN -> 0 (or the farthest value) would paint them as the
        # farthest colour; the one policy paints them as their neighbours.
        d = np.tile(np.linspace(1.0, 5.0, 16, dtype=np.float32), (12, 1))
        d[4:8, 6:10] = np.nan
        d[0, 15] = np.inf
        filled = fill_non_finite(d)
        preview = np.asarray(colorize_depth(d))
        assert np.array_equal(preview, np.asarray(colorize_depth(filled)))
        assert not np.array_equal(preview, np.asarray(colorize_depth(np.nan_to_num(d, posinf=0.0))))
        with pytest.raises(ValueError, match="no finite value"):
            colorize_depth(np.full((3, 3), np.nan, np.float32))

    def test_a_map_with_no_finite_value_is_an_error(self):
        with pytest.raises(ValueError, match="no finite value"):
            depth_to_png16(np.full((2, 2), np.nan))


class TestPng16:
    def test_lossless_round_trip(self):
        rng = np.random.default_rng(1)
        d = rng.normal(size=(17, 23)).astype(np.float32)
        data = depth_to_png16(d)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(data)) as img:
            assert img.mode == "I;16" and img.size == (23, 17)
        back = depth_from_png16(data)
        expected = (d - d.min()) / (d.max() - d.min())
        assert back.shape == d.shape and back.min() == 0.0 and back.max() == 1.0
        # Lossless up to the 16-bit quantisation step.
        assert np.abs(back - expected).max() <= 0.5 / 65535 + 1e-7

    def test_constant_and_bad(self):
        assert not depth_from_png16(depth_to_png16(np.full((4, 4), 3.0))).any()
        with pytest.raises(ValueError, match=r"\(4,\)"):
            depth_to_png16(np.zeros(4))


def test_colorize_depth():
    d = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    img = colorize_depth(d)
    assert img.mode == "RGB" and img.size == (8, 8)
    rgb = np.asarray(img).astype(int)
    assert rgb[-1, -1].sum() > rgb[0, 0].sum()  # near (large disparity) is brighter
    with pytest.raises(ValueError, match="'nope'"):
        colorize_depth(d, "nope")
