"""LangSAM on transformers: GroundingDINO boxes, SAM masks, empty results, the lang-sam API."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cinema_dag.disasters import get_disaster
from cinema_dag.models import load_component
from cinema_dag.vision.segment import LangSAM, detect, format_text_prompt, segment_boxes, segment_motion


@pytest.fixture(scope="module")
def grounding(tiny_cache):
    return load_component("grounding", cache_dir=tiny_cache)


@pytest.fixture(scope="module")
def segmenter(tiny_cache):
    return load_component("segmenter", cache_dir=tiny_cache)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in ((48, 64), (40, 30))]


def test_format_text_prompt():
    assert format_text_prompt(("Water", " flood  water")) == "water. flood water."
    assert format_text_prompt("Fire. smoke") == "fire. smoke."
    with pytest.raises(ValueError, match=r"' \. '"):
        format_text_prompt(" . ")


class TestSegmentMotion:
    def test_masks_binary_and_image_sized(self, grounding, segmenter, images):
        prompts = get_disaster("flood").motion_prompts
        results = segment_motion(grounding, segmenter, images, prompts, box_threshold=0.0)
        assert len(results) == len(images)
        for image, r in zip(images, results, strict=True):
            hw = (image.height, image.width)
            assert r.mask.dtype == bool and r.mask.shape == hw
            assert not r.empty and len(r.labels) == len(r.boxes) == len(r.scores) == len(r.masks) > 0
            assert r.masks.dtype == bool and r.masks.shape[1:] == hw
            assert np.array_equal(r.mask, r.masks.any(axis=0))
            assert r.boxes.shape[1] == 4
            assert (r.boxes[:, 0] <= r.boxes[:, 2]).all() and (r.boxes[:, 2] <= image.width).all()
            assert list(r.scores) == sorted(r.scores, reverse=True)
            assert r.prompt == "water. river. flood water."
            for label, m in r.label_masks.items():
                assert m.shape == hw and m.dtype == bool
                assert label in r.labels
            assert 0.0 <= r.coverage <= 1.0

    def test_to_dict_is_json_ready(self, grounding, segmenter, images):
        import json

        found, empty = segment_motion(grounding, segmenter, images, ["water"], box_threshold=0.0)[0], segment_motion(
            grounding, segmenter, images[:1], ["water"], box_threshold=1.01
        )[0]
        for r in (found, empty):
            record = r.to_dict()
            assert json.loads(json.dumps(record)) == record
            assert record["size"] == [64, 48] and record["empty"] is r.empty
            assert len(record["boxes"]) == len(record["labels"]) == len(record["mask_scores"])
        assert empty.to_dict()["coverage"] == 0.0 and found.to_dict()["labels"]

    def test_nothing_found_is_empty_not_error(self, grounding, segmenter, images):
        results = segment_motion(grounding, segmenter, images, "fire. smoke.", box_threshold=1.01)
        for image, r in zip(images, results, strict=True):
            assert r.empty and not r.mask.any()
            assert r.mask.shape == (image.height, image.width)
            assert r.masks.shape == (0, image.height, image.width) and r.boxes.shape == (0, 4)
            assert r.labels == [] and r.label_masks == {}

    def test_per_image_prompts(self, grounding, segmenter, images):
        results = segment_motion(grounding, segmenter, images, [["water"], "fire. smoke."], box_threshold=0.0)
        assert [r.prompt for r in results] == ["water.", "fire. smoke."]
        with pytest.raises(ValueError, match="2 images but 3"):
            segment_motion(grounding, segmenter, images, [["a"], ["b"], ["c"]])

    def test_long_prompt_is_truncated_not_crashing(self, grounding, segmenter, images):
        long_prompt = [f"thing number {i}" for i in range(40)]
        assert len(segment_motion(grounding, segmenter, images[:1], long_prompt, box_threshold=0.0)) == 1

    def test_bad_thresholds(self, grounding, segmenter, images):
        with pytest.raises(ValueError, match=r"1\.5"):
            segment_motion(grounding, segmenter, images, "water.", text_threshold=1.5)


def test_detect(grounding, images):
    found = detect(grounding, images[0], "person", box_threshold=0.0)
    assert found and all(d.label in ("person", "unlabelled") for d in found)
    assert all(0.0 <= d.score <= 1.0 and len(d.box) == 4 for d in found)
    assert detect(grounding, images[0], ["person"], box_threshold=1.01) == []
    label, score, box = found[0]  # unpacks as (label, score, box)
    assert (label, score, box) == (found[0].label, found[0].score, found[0].box)


def test_segment_boxes(segmenter, images):
    masks, scores = segment_boxes(segmenter, images[0], [[0, 0, 32, 24], [10, 10, 60, 40]])
    assert masks.shape == (2, 48, 64) and masks.dtype == bool and scores.shape == (2,)
    none, no_scores = segment_boxes(segmenter, images[0], [])
    assert none.shape == (0, 48, 64) and no_scores.shape == (0,)


class TestLangSAM:
    def test_predict_shape_of_lang_sam(self, grounding, segmenter, images):
        model = LangSAM(grounding, segmenter)
        assert "tiny-grounding" in repr(model)
        out = model.predict(images, ["water. river.", "smoke"], box_threshold=0.0, text_threshold=0.25)
        assert len(out) == 2
        for image, r in zip(images, out, strict=True):
            assert set(r) == {"boxes", "scores", "labels", "text_labels", "masks", "mask_scores"}
            n = len(r["boxes"])
            assert r["masks"].shape == (n, image.height, image.width) and len(r["mask_scores"]) == n
        empty = model.predict(images[:1], ["water."], box_threshold=1.01)[0]
        assert empty["masks"] == [] and empty["mask_scores"] == [] and len(empty["boxes"]) == 0

    def test_one_prompt_per_image(self, grounding, segmenter, images):
        with pytest.raises(ValueError, match="one prompt string per image"):
            LangSAM(grounding, segmenter).predict(images, ["water."])
