"""Stable Diffusion image generation on the tiny pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from cinema_dag.models import load_component
from cinema_dag.vision.generate import SCHEDULERS, generate_images


@pytest.fixture(scope="module")
def t2i(tiny_cache):
    return load_component("text_to_image", cache_dir=tiny_cache)


def _settings(t2i, **overrides):
    settings = {k: t2i.defaults[k] for k in ("height", "width", "num_inference_steps", "guidance_scale")}
    return {**settings, **overrides}


class TestGenerateImages:
    def test_size_and_count(self, t2i):
        images = generate_images(t2i, ["a flood", "a fire"], "people", seed=0, **_settings(t2i, height=48, width=64))
        assert len(images) == 2
        assert all(img.size == (64, 48) and img.mode == "RGB" for img in images)
        assert np.asarray(images[0]).std() > 0

    def test_callback(self, t2i):
        calls = []
        generate_images(t2i, ["a", "b"], None, seed=0, callback=lambda i, n: calls.append((i, n)), **_settings(t2i))
        assert calls == [(0, 2), (1, 2)]

    def test_same_seed_same_image(self, t2i):
        a = generate_images(t2i, ["a flood"], ["people"], seed=5, **_settings(t2i))
        b = generate_images(t2i, ["a flood"], ["people"], seed=5, **_settings(t2i))
        c = generate_images(t2i, ["a flood"], ["people"], seed=6, **_settings(t2i))
        assert np.array_equal(np.asarray(a[0]), np.asarray(b[0]))
        assert np.abs(np.asarray(a[0]).astype(int) - np.asarray(c[0]).astype(int)).mean() > 1

    def test_image_depends_on_its_own_seed_only(self, t2i):
        """Image i uses seed + i, independent of the other prompts in the call."""
        pair = generate_images(t2i, ["a flood", "a fire"], None, seed=10, **_settings(t2i))
        alone = generate_images(t2i, ["a fire"], None, seed=11, **_settings(t2i))
        assert np.array_equal(np.asarray(pair[1]), np.asarray(alone[0]))

    @pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
    def test_scheduler_swap_restores_pipeline(self, t2i, scheduler):
        before = t2i.pipeline.scheduler
        settings = _settings(t2i, num_inference_steps=2)
        images = generate_images(t2i, ["a flood"], None, seed=0, scheduler=scheduler, **settings)
        assert images[0].size == (128, 128)
        assert t2i.pipeline.scheduler is before

    def test_scheduler_changes_image(self, t2i):
        ddim = generate_images(t2i, ["a flood"], None, seed=0, scheduler="ddim", **_settings(t2i))
        euler = generate_images(t2i, ["a flood"], None, seed=0, scheduler="euler_a", **_settings(t2i))
        assert not np.array_equal(np.asarray(ddim[0]), np.asarray(euler[0]))

    def test_bad_inputs(self, t2i):
        with pytest.raises(ValueError, match="divisible by 8 but are 100 and 64"):
            generate_images(t2i, ["x"], None, seed=0, **_settings(t2i, height=100, width=64))
        with pytest.raises(ValueError, match="2 prompts but 1 negative"):
            generate_images(t2i, ["x", "y"], ["z"], seed=0, **_settings(t2i))
        with pytest.raises(ValueError, match="'lcm'"):
            generate_images(t2i, ["x"], None, seed=0, scheduler="lcm", **_settings(t2i))
        with pytest.raises(ValueError, match="non-empty"):
            generate_images(t2i, [" "], None, seed=0, **_settings(t2i))
