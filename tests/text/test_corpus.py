"""Captions dataset, caption → metadata template, prompt corpus split and storage."""

from __future__ import annotations

import json
import random

import datasets
import pytest

from cinema_dag.disasters import DISASTER_KEYS, UnknownDisasterTypeError
from cinema_dag.text.corpus import (
    CAPTION_COLUMNS,
    CORPUS_COLUMNS,
    CaptionRow,
    PromptCorpus,
    build_captions_dataset,
    build_prompt_corpus,
    caption_to_metadata,
    clean_caption,
    load_captions_dataset,
    load_corpus,
    save_captions_dataset,
    save_corpus,
)
from cinema_dag.text.template import RESPONSE_PREFIX, format_example, format_instruction

CAPTIONS = [
    ("a flooded street with cars", "flood"),
    ("arafed view of a river overflowing a bridge", "홍수"),
    ("a burning forest with thick smoke", "wildfire"),
    ("flames on a hill at night", "산불"),
    ("a snow covered road with buried cars", "heavy snow"),
    ("a collapsed greenhouse in the snow", "heavy_snow"),
    ("huge waves hitting a harbor", "typhoon"),
    ("a collapsed building with rubble", "earthquake"),
    ("a cracked dry field", "drought"),
    ("mud and rocks on a mountain road", "landslide"),
    ("there is a flooded parking lot with a car", "flood"),
    ("a burnt pine forest at dawn", "wildfire"),
]


def make_rows(captions=CAPTIONS):
    return [
        CaptionRow(image_path=f"images/{i:03d}.jpg", caption=c, disaster_type=d, source_page=f"https://x.kr/{i}")
        for i, (c, d) in enumerate(captions)
    ]


class TestCleanCaption:
    def test_artefacts_and_framing(self):
        assert clean_caption("There is arafed a a flooded street with cars. ") == "a flooded street with cars"
        assert clean_caption("An aerial view of a river") == "a river"
        assert clean_caption("araffe image of  burning   hills") == "burning hills"

    def test_keeps_plain_caption(self):
        assert clean_caption("a cracked road") == "a cracked road"

    def test_empty(self):
        assert clean_caption("  arafed . ") == ""


class TestCaptionToMetadata:
    def test_template_slots(self):
        text = caption_to_metadata("a flooded street with cars at night", "flood")
        assert text.startswith(f"{RESPONSE_PREFIX} a flooded street with cars at night")
        assert "The scene is set in a city street" in text
        assert "The lighting is darkness with artificial lights." in text
        assert "The mood of the image is tense and somber." in text
        assert text.endswith("Objects in the image: street and cars.")

    def test_derived_time_of_day(self):
        text = caption_to_metadata("smoke over a forest", "wildfire")
        assert "at " not in text.split("The scene is set in")[1].split(".")[0]  # no time invented
        text = caption_to_metadata("smoke over a forest at dusk", "wildfire")
        assert "a mountain forest" in text and "at dusk" in text

    def test_defaults_from_disaster_type(self):
        text = caption_to_metadata("a picture of something", "typhoon")
        assert "The scene is set in a coastal town." in text
        assert "dark storm clouds" in text
        assert "Objects in the image" not in text  # nothing derivable

    def test_disaster_named_once(self):
        assert "during a flood" in caption_to_metadata("a street", "flood")
        assert "during" not in caption_to_metadata("a flood in a street", "flood")
        assert "during an earthquake" in caption_to_metadata("a road", "earthquake")

    def test_deterministic(self):
        a = [caption_to_metadata(c, d) for c, d in CAPTIONS]
        b = [caption_to_metadata(c, d) for c, d in CAPTIONS]
        assert a == b

    def test_bad_inputs(self):
        with pytest.raises(ValueError, match="empty after cleaning"):
            caption_to_metadata("   ", "flood")
        with pytest.raises(UnknownDisasterTypeError, match="'volcano'"):
            caption_to_metadata("lava", "volcano")


class TestCaptionsDataset:
    def test_schema_and_reload(self, tmp_path):
        ds = build_captions_dataset(make_rows())
        assert tuple(ds.column_names) == CAPTION_COLUMNS
        assert all(ds.features[c] == datasets.Value("string") for c in CAPTION_COLUMNS)
        assert len(ds) == len(CAPTIONS)
        # Korean and English names normalised to keys.
        assert ds[1]["disaster_type"] == "flood" and ds[4]["disaster_type"] == "heavy_snow"
        assert ds[0]["licence"] == ""

        path = save_captions_dataset(ds, tmp_path / "captions")
        again = datasets.load_from_disk(str(path))
        assert again.features == ds.features
        assert again.to_list() == ds.to_list()
        assert load_captions_dataset(path).to_list() == ds.to_list()
        assert [p.name for p in tmp_path.iterdir()] == ["captions"]  # no temp dir left

    def test_mappings_accepted(self):
        row = {"image_path": "a.jpg", "caption": "fire", "disaster_type": "산불", "licence": "KOGL-1"}
        ds = build_captions_dataset([row])
        assert ds[0] == {
            "image_path": "a.jpg", "caption": "fire", "disaster_type": "wildfire",
            "source_page": "", "image_url": "", "licence": "KOGL-1",
        }

    def test_bad_rows(self):
        with pytest.raises(ValueError, match=r"row 0 lacks \['caption'\]"):
            build_captions_dataset([{"image_path": "a.jpg", "disaster_type": "flood"}])
        with pytest.raises(ValueError, match="unknown fields"):
            build_captions_dataset([{"image_path": "a.jpg", "caption": "x", "disaster_type": "flood", "url": "u"}])
        with pytest.raises(UnknownDisasterTypeError):
            build_captions_dataset([{"image_path": "a.jpg", "caption": "x", "disaster_type": "volcano"}])


class TestBuildPromptCorpus:
    def test_examples_follow_template(self):
        corpus = build_prompt_corpus(make_rows(), include_seed=False)
        rows = corpus.train.to_list() + corpus.held_out.to_list()
        assert len(rows) == len(CAPTIONS)
        for row in rows:
            assert tuple(row) == CORPUS_COLUMNS
            assert row["prompt"] == format_instruction(row["disaster_type"])
            assert row["text"] == format_example(row["disaster_type"], row["response"])
            assert row["response"].startswith(RESPONSE_PREFIX)
        assert {r["prompt"] for r in rows} >= {"[INST] Flood [/INST]", "[INST] Heavy snow [/INST]"}

    def test_dedupe_and_skip(self):
        rows = make_rows() + make_rows()[:3] + [CaptionRow("e.jpg", " arafed ", "flood")]
        corpus = build_prompt_corpus(rows, include_seed=False)
        assert len(corpus) == len(CAPTIONS)
        assert corpus.duplicates == 3 and corpus.skipped == 1

    def test_split_is_order_independent(self):
        rows = make_rows()
        shuffled = rows[:]
        random.Random(1).shuffle(shuffled)
        a, b = build_prompt_corpus(rows, include_seed=False), build_prompt_corpus(shuffled, include_seed=False)
        assert a.data_version == b.data_version
        assert a.train["example_id"] == b.train["example_id"]
        assert a.held_out["example_id"] == b.held_out["example_id"]

    def test_split_stable_as_corpus_grows(self):
        small = build_prompt_corpus(make_rows(), include_seed=True)
        extra = [CaptionRow(f"n{i}.jpg", f"a flooded road number {i}", "flood") for i in range(30)]
        big = build_prompt_corpus(make_rows() + extra, include_seed=True)
        assert set(small.held_out["example_id"]) <= set(big.held_out["example_id"])
        assert set(small.train["example_id"]) <= set(big.train["example_id"])
        assert big.data_version != small.data_version
        assert 0 < len(big.held_out) < len(big.train)

    @pytest.mark.parametrize("start", range(0, 12, 2))
    def test_two_examples_give_one_held_out(self, start):
        corpus = build_prompt_corpus(make_rows()[start : start + 2], include_seed=False)
        assert len(corpus.train) == 1 and len(corpus.held_out) == 1

    def test_single_example_is_trained_on(self):
        corpus = build_prompt_corpus(make_rows()[:1], held_out_fraction=0.0, include_seed=False)
        assert len(corpus.train) == 1 and len(corpus.held_out) == 0

    def test_fraction(self):
        rows = [CaptionRow(f"{i}.jpg", f"a flooded street number {i}", "flood") for i in range(400)]
        corpus = build_prompt_corpus(rows, held_out_fraction=0.25, include_seed=False)
        assert 60 <= len(corpus.held_out) <= 140  # hash buckets: ~100 expected
        assert set(corpus.train["example_id"]).isdisjoint(corpus.held_out["example_id"])

    def test_seed_covers_every_type(self):
        corpus = build_prompt_corpus([], include_seed=True)
        counts = corpus.counts()
        assert all(counts[k] >= 2 for k in DISASTER_KEYS)
        assert counts["train"] + counts["held_out"] == len(corpus)

    def test_version_tracks_content(self):
        a = build_prompt_corpus(make_rows(), include_seed=False)
        b = build_prompt_corpus(make_rows()[:-1], include_seed=False)
        assert len(a.data_version) == 16 and a.data_version != b.data_version
        assert build_prompt_corpus(make_rows(), include_seed=False).data_version == a.data_version

    def test_guards(self):
        with pytest.raises(ValueError, match="held_out_fraction must be in"):
            build_prompt_corpus(make_rows(), held_out_fraction=1.0, include_seed=False)
        with pytest.raises(ValueError, match="no examples"):
            build_prompt_corpus([CaptionRow("a.jpg", "arafed", "flood")], include_seed=False)


class TestSaveLoadCorpus:
    def test_round_trip(self, tmp_path):
        corpus = build_prompt_corpus(make_rows(), include_seed=True)
        path = save_corpus(corpus, tmp_path / "corpus")
        again = load_corpus(path)
        assert isinstance(again, PromptCorpus)
        assert again.data_version == corpus.data_version
        assert again.train.to_list() == corpus.train.to_list()
        assert again.held_out.to_list() == corpus.held_out.to_list()
        assert isinstance(datasets.load_from_disk(str(path)), datasets.DatasetDict)
        meta = json.loads((path / "corpus_meta.json").read_text())
        assert meta["counts"]["train"] == len(corpus.train)

    def test_overwrite_is_atomic_and_clean(self, tmp_path):
        path = save_corpus(build_prompt_corpus(make_rows(), include_seed=False), tmp_path / "corpus")
        newer = build_prompt_corpus(make_rows()[:5], include_seed=False)
        save_corpus(newer, path)
        assert load_corpus(path).data_version == newer.data_version
        assert [p.name for p in tmp_path.iterdir()] == ["corpus"]

    def test_tampered_or_missing(self, tmp_path):
        path = save_corpus(build_prompt_corpus(make_rows(), include_seed=False), tmp_path / "corpus")
        meta = json.loads((path / "corpus_meta.json").read_text())
        meta["data_version"] = "0" * 16
        (path / "corpus_meta.json").write_text(json.dumps(meta))
        with pytest.raises(ValueError, match="0000000000000000"):
            load_corpus(path)
        (path / "corpus_meta.json").unlink()
        with pytest.raises(FileNotFoundError, match="corpus_meta.json"):
            load_corpus(path)


def test_empty_captions_dataset_keeps_schema(tmp_path):
    ds = build_captions_dataset([])
    assert len(ds) == 0 and tuple(ds.column_names) == CAPTION_COLUMNS
    assert load_captions_dataset(save_captions_dataset(ds, tmp_path / "c")).column_names == list(CAPTION_COLUMNS)


def test_corpus_with_empty_held_out_round_trips(tmp_path):
    corpus = build_prompt_corpus(make_rows()[:1], held_out_fraction=0.0, include_seed=False)
    again = load_corpus(save_corpus(corpus, tmp_path / "c"))
    assert len(again.train) == 1 and len(again.held_out) == 0
    assert again.data_version == corpus.data_version
