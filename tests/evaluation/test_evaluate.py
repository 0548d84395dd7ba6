"""evaluate_images fills every cell: a number, or why not (here with a cheap stand-in extractor)."""

import numpy as np
import pytest
from realistic_images import fractal_noise, photos

from cinema_dag.evaluation import METRIC_KEYS, FeatureExtractor, ReferenceSet, Scorers, evaluate_images, is_number


class ColourStats:
    """A cheap stand-in feature extractor: per-channel mean and std of a 16x16 thumbnail."""

    name = "colour statistics (test stand-in)"
    dims = 6

    def __call__(self, images):
        return np.array([np.concatenate([np.asarray(i, float).mean((0, 1)), np.asarray(i, float).std((0, 1))])
                         for i in images])


def scorers(**overrides):
    base = dict(features=ColourStats(), clip="no CLIP in this test", lpips="no LPIPS in this test")
    return Scorers(**(base | overrides))


def test_every_cell_is_a_number_or_a_reason():
    assert isinstance(ColourStats(), FeatureExtractor)
    s = scorers()
    reference = ReferenceSet.build(photos()[:3], s)
    generated = [fractal_noise(64, 64, seed=i) for i in range(3)]
    result = evaluate_images(generated, ["flood"] * 3, reference, s, pair_size=32)
    assert list(result.cells) == list(METRIC_KEYS)
    assert is_number(result.cells["fid"]) and is_number(result.cells["kid"]) and is_number(result.cells["ssim"])
    assert result.cells["clip_score"] == "unavailable: no CLIP in this test"
    assert result.cells["lpips"] == "unavailable: no LPIPS in this test"
    assert result.details["ssim_pairs"] == 9 and "biased" in result.details["fid_note"]
    assert (result.n_generated, result.n_reference) == (3, 3)
    assert s.describe()["fid_extractor"] == "colour statistics (test stand-in)"


def test_the_reference_set_against_itself_scores_a_perfect_fid_and_pairwise_ssim():
    s = scorers()
    images = photos()[:3]
    result = evaluate_images(images, ["x"] * 3, ReferenceSet.build(images, s), s, pair_size=32, max_pairs=9)
    assert result.cells["fid"] == pytest.approx(0.0, abs=1e-9)
    # Mean over all 9 pairs: the 3 identical pairs score 1, the others less.
    assert 1 / 3 < result.cells["ssim"] < 1.0


def test_too_few_images_or_no_photos_are_explained():
    s = scorers()
    one = evaluate_images(photos()[:1], ["x"], ReferenceSet.build(photos()[1:3], s), s, pair_size=32)
    assert one.cells["fid"].startswith("unavailable: needs at least 2 images per side; got 1 generated")
    assert is_number(one.cells["ssim"])
    none = evaluate_images(photos()[:2], ["x"] * 2, ReferenceSet.build([], s), s, pair_size=32)
    assert none.cells["ssim"] == "unavailable: no reference photos" and none.cells["fid"].startswith("unavailable: ")
    missing = scorers(features="the offline Inception weights are missing")
    cells = evaluate_images(photos()[:2], ["x"] * 2, ReferenceSet.build(photos()[2:4], missing), missing).cells
    assert cells["fid"] == cells["kid"] == "unavailable: the offline Inception weights are missing"
    with pytest.raises(ValueError, match="2 generated images but 1 prompts"):
        evaluate_images(photos()[:2], ["x"], ReferenceSet.build(photos()[2:4], s), s)
