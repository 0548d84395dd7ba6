"""BLIP captioning on the tiny captioner."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cinema_dag.models import load_component
from cinema_dag.vision.caption import caption_images


@pytest.fixture(scope="module")
def captioner(tiny_cache):
    return load_component("captioner", cache_dir=tiny_cache)


def _images(n: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40 + 8 * i, 50, 3), dtype=np.uint8)) for i in range(n)]


class TestCaptionImages:
    def test_one_caption_per_image(self, captioner):
        images = _images(3)
        captions = caption_images(captioner, images, max_new_tokens=6, batch_size=2)
        assert len(captions) == 3
        assert all(isinstance(c, str) and c == " ".join(c.split()) for c in captions)
        # Greedy decoding: deterministic, and batching does not change the result.
        assert caption_images(captioner, images, max_new_tokens=6, batch_size=3) == captions

    def test_prompt_prefix(self, captioner):
        captions = caption_images(captioner, _images(2), max_new_tokens=4, prompt="a photo of")
        assert all(c.startswith("a photo of") for c in captions)

    def test_grey_and_rgba_images(self, captioner):
        images = [Image.new("L", (20, 30), 128), Image.new("RGBA", (33, 17), (10, 20, 30, 40))]
        assert len(caption_images(captioner, images, max_new_tokens=3)) == 2

    def test_empty_and_bad_inputs(self, captioner):
        assert caption_images(captioner, []) == []
        with pytest.raises(ValueError, match="0"):
            caption_images(captioner, _images(1), max_new_tokens=0)
        with pytest.raises(ValueError, match="' '"):
            caption_images(captioner, _images(1), prompt=" ")
