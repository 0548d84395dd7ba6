"""CLIP score with the tiny random CLIP: plumbing only, but the properties must hold."""

import numpy as np
import pytest
from realistic_images import fractal_noise, photos

from cinema_dag.evaluation import TINY_CLIP_NOTE, clip_label, clip_scores
from cinema_dag.models import load_component

PROMPTS = ["a photo of a flood in Korea, flooded street", "wildfire", "a photo of a landslide in Korea, "
           "collapsed hillside, mud and rocks, broken trees, buried road, heavy rain at night", "snow"]


@pytest.fixture(scope="module")
def clip(tiny_cache):
    return load_component("clip", cache_dir=tiny_cache)


def test_scores_are_cosines_and_invariant_to_batch_order_and_size(clip):
    images = [*photos()[:3], fractal_noise(64, 64)]
    scores = clip_scores(clip, images, PROMPTS, batch_size=4)
    assert scores.shape == (4,) and (np.abs(scores) <= 1.0).all()
    assert len(set(np.round(scores, 6))) == 4  # each pair has its own score
    order = [2, 0, 3, 1]
    shuffled = clip_scores(clip, [images[i] for i in order], [PROMPTS[i] for i in order], batch_size=3)
    assert np.allclose(shuffled, scores[order], atol=1e-5)
    one_by_one = clip_scores(clip, images, PROMPTS, batch_size=1)  # no padding at all
    assert np.allclose(one_by_one, scores, atol=1e-5)


def test_the_tiny_model_is_labelled_as_a_plumbing_check(clip):
    assert clip_label(clip) == f"cinema-dag/tiny-clip ({TINY_CLIP_NOTE})"


def test_bad_inputs(clip):
    with pytest.raises(ValueError, match="2 images but 1 prompts"):
        clip_scores(clip, photos()[:2], PROMPTS[:1])
    with pytest.raises(ValueError, match="non-empty"):
        clip_scores(clip, photos()[:1], [" "])
