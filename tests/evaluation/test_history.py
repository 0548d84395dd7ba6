"""A type's evaluation record: the previous adapter's numbers, arms that may be reused, its rows."""

from cinema_dag.evaluation import METRIC_KEYS, fingerprint, missing_rows, previous_adapter, record_rows, reusable_arms

SETTINGS = {"profile": "tiny", "text_to_image": "t2i", "llm": "llm", "num_images": 2, "seed": 0,
            "generation": {"height": 64}, "pair_size": 64, "max_pairs": 10, "kid_subset_size": 10, "kid_subsets": 2}
SCORERS = {"fid_extractor": "inception", "clip_model": "clip", "lpips": "unavailable: x"}


def cells(value):
    return {k: value for k in METRIC_KEYS}


def arm(value, n_reference=3):
    return {"cells": cells(value), "n_generated": 2, "n_reference": n_reference, "details": {}}


def record(version, value, previous=None, settings=SETTINGS, with_adapter=True):
    arms = {"keyword": arm(1.0), "base": arm(2.0)}
    if with_adapter:
        arms["adapter"] = arm(value)
    return {"disaster": "flood", "evaluated_at": "t", "adapter_version": version, "settings": dict(settings),
            "scorers": SCORERS, "reference": {"fingerprint": "abc"}, "arms": arms, "previous": previous,
            "skipped": {} if with_adapter else {"adapter": "no adapter passed its check"}}


class TestPreviousAdapter:
    def test_a_new_version_takes_the_stored_adapter_numbers(self):
        previous = previous_adapter(record("v1", 3.0), "v2", SETTINGS)
        assert previous == {"adapter_version": "v1", "cells": cells(3.0), "evaluated_at": "t", "n_reference": 3}

    def test_a_rerun_of_the_same_version_carries_the_previous_over(self):
        stored = record("v2", 4.0, previous={"adapter_version": "v1", "cells": cells(3.0)})
        assert previous_adapter(stored, "v2", SETTINGS)["adapter_version"] == "v1"
        assert previous_adapter(record("v2", 4.0), "v2", SETTINGS) is None

    def test_other_settings_or_no_record_give_none(self):
        assert previous_adapter(None, "v2", SETTINGS) is None
        assert previous_adapter(record("v1", 3.0), "v2", SETTINGS | {"num_images": 8}) is None
        # Only COMPARABLE_SETTINGS matter for comparing adapters; a different pair cap does not.
        assert previous_adapter(record("v1", 3.0), "v2", SETTINGS | {"max_pairs": 99}) is not None

    def test_a_stored_run_without_adapter_passes_its_own_previous_on(self):
        stored = record(None, 0.0, previous={"adapter_version": "v1", "cells": cells(3.0)}, with_adapter=False)
        assert previous_adapter(stored, "v2", SETTINGS)["adapter_version"] == "v1"


class TestReuse:
    def test_unchanged_settings_scorers_and_photos_reuse_keyword_and_base(self):
        assert reusable_arms(record("v1", 3.0), SETTINGS, "abc", SCORERS) == ["keyword", "base"]

    def test_anything_changed_reuses_nothing(self):
        stored = record("v1", 3.0)
        assert reusable_arms(stored, SETTINGS, "other photos", SCORERS) == []
        assert reusable_arms(stored, SETTINGS | {"seed": 1}, "abc", SCORERS) == []
        assert reusable_arms(stored, SETTINGS, "abc", SCORERS | {"clip_model": "openai"}) == []
        assert reusable_arms(None, SETTINGS, "abc", SCORERS) == []

    def test_fingerprint_follows_names_and_bytes(self, tmp_path):
        a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
        a.write_bytes(b"1")
        b.write_bytes(b"2")
        first = fingerprint([a, b])
        assert first == fingerprint([a, b]) != fingerprint([b, a])
        b.write_bytes(b"3")
        assert fingerprint([a, b]) != first


class TestRows:
    def test_arms_then_the_change_since_the_previous_adapter(self):
        rows = record_rows(record("v2", 4.0, previous={"adapter_version": "v1", "cells": cells(3.0)}))
        assert [r.model for r in rows] == ["keyword prompt", "metadata prompts, base LLM",
                                           "metadata prompts + adapter", "change since adapter v1"]
        assert rows[2].note == "adapter v2" and rows[3].cells == cells(1.0) and rows[3].source == "change"

    def test_a_skipped_arm_says_why_in_every_cell(self):
        rows = record_rows(record(None, 0.0, with_adapter=False))
        assert len(rows) == 3
        assert set(rows[2].cells.values()) == {"unavailable: no adapter passed its check"}

    def test_a_type_without_a_record_is_one_row_that_says_so(self):
        (row,) = missing_rows("drought")
        assert row.disaster == "drought" and set(row.cells.values()) == {"unavailable: not evaluated"}
        assert "materialize evaluation" in row.note and row.source == "missing"
