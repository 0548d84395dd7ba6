"""A type's evaluation record: the previous adapter's numbers, arms that may be reused, its rows."""

import pytest

from cinema_dag.evaluation import (
    METRIC_BASIS,
    METRIC_KEYS,
    fingerprint,
    missing_rows,
    not_comparable,
    previous_adapter,
    record_rows,
    reusable_arms,
)

SETTINGS = {"profile": "tiny", "text_to_image": "t2i", "llm": "llm", "num_images": 2, "seed": 0,
            "generation": {"height": 64}, "pair_size": 64, "max_pairs": 10, "kid_subset_size": 10, "kid_subsets": 2}
SCORERS = {"fid_extractor": "inception", "clip_model": "clip", "lpips": "unavailable: x"}


def cells(value):
    return {k: value for k in METRIC_KEYS}


def arm(value, n_reference=3):
    return {"cells": cells(value), "n_generated": 2, "n_reference": n_reference, "details": {}}


def record(version, value, previous=None, settings=SETTINGS, with_adapter=True, scorers=SCORERS, photos="abc"):
    arms = {"keyword": arm(1.0), "base": arm(2.0)}
    if with_adapter:
        arms["adapter"] = arm(value)
    return {"disaster": "flood", "evaluated_at": "t", "adapter_version": version, "settings": dict(settings),
            "scorers": dict(scorers), "reference": {"fingerprint": photos}, "arms": arms, "previous": previous,
            "skipped": {} if with_adapter else {"adapter": "no adapter passed its check"}}


def previous_of(version="v1", value=3.0, **changes):
    """The previous adapter's numbers as the next run sees them, from a record made with ``changes``."""
    return previous_adapter(record(version, value, **changes), "v2", changes.get("settings", SETTINGS))


class TestPreviousAdapter:
    def test_a_new_version_takes_the_stored_adapter_numbers(self):
        previous = previous_adapter(record("v1", 3.0), "v2", SETTINGS)
        # With what made the numbers: the next run compares a metric only where that is unchanged.
        assert previous == {"adapter_version": "v1", "cells": cells(3.0), "evaluated_at": "t", "n_reference": 3,
                            "settings": SETTINGS, "scorers": SCORERS, "reference_fingerprint": "abc"}

    def test_a_rerun_of_the_same_version_carries_the_previous_over(self):
        stored = record("v2", 4.0, previous={"adapter_version": "v1", "cells": cells(3.0)})
        assert previous_adapter(stored, "v2", SETTINGS)["adapter_version"] == "v1"
        assert previous_adapter(record("v2", 4.0), "v2", SETTINGS) is None

    def test_other_settings_or_no_record_give_none(self):
        assert previous_adapter(None, "v2", SETTINGS) is None
        assert previous_adapter(record("v1", 3.0), "v2", SETTINGS | {"num_images": 8}) is None
        # Another base LLM: the adapter sits on other weights, nothing of it compares.
        assert previous_adapter(record("v1", 3.0), "v2", SETTINGS | {"llm": "other-llm"}) is None
        # A different pair cap changes only the pair metrics' estimates (see TestComparability).
        assert previous_adapter(record("v1", 3.0), "v2", SETTINGS | {"max_pairs": 99}) is not None

    def test_a_stored_run_without_adapter_passes_its_own_previous_on(self):
        stored = record(None, 0.0, previous={"adapter_version": "v1", "cells": cells(3.0)}, with_adapter=False)
        assert previous_adapter(stored, "v2", SETTINGS)["adapter_version"] == "v1"


class TestComparability:
    """A metric of the adapter is compared with the previous adapter's only when the scorer, the
    reference photos and the settings of its estimate are the same on both sides."""

    def test_everything_the_same_compares_every_metric(self):
        assert not_comparable(record("v2", 4.0), previous_of()) == {}

    @pytest.mark.parametrize(("change", "affected"), [
        ({"scorers": SCORERS | {"fid_extractor": "another inception"}}, {"fid", "kid"}),
        ({"scorers": SCORERS | {"clip_model": "openai/clip-vit-large-patch14"}}, {"clip_score"}),
        ({"scorers": SCORERS | {"lpips": "LPIPS (ImageNet backbone)"}}, {"lpips"}),
        ({"photos": "other photos"}, {"fid", "kid", "lpips", "ssim"}),  # CLIP scores image vs prompt: no photos
        ({"settings": SETTINGS | {"kid_subsets": 5}}, {"kid"}),
        ({"settings": SETTINGS | {"kid_subset_size": 50}}, {"kid"}),
        ({"settings": SETTINGS | {"max_pairs": 99}}, {"lpips", "ssim"}),
        ({"settings": SETTINGS | {"pair_size": 128}}, {"lpips", "ssim"}),
    ])
    def test_a_changed_scorer_photo_set_or_estimate_excludes_exactly_its_metrics(self, change, affected):
        previous = previous_of(**change)
        assert previous is not None
        reasons = not_comparable(record("v2", 4.0), previous)
        assert set(reasons) == affected
        assert all(why.startswith("not comparable: ") for why in reasons.values())

    def test_the_reason_names_what_changed(self):
        previous = previous_of(scorers=SCORERS | {"clip_model": "old clip"})
        assert not_comparable(record("v2", 4.0), previous) == {
            "clip_score": "not comparable: the clip_model changed from 'old clip' to 'clip'"}
        assert "the reference photos changed" in not_comparable(record("v2", 4.0), previous_of(photos="x"))["fid"]

    def test_a_previous_record_that_does_not_say_is_not_compared(self):
        # A record from before scorers and photos were kept: nothing is compared on a guess.
        old = {"adapter_version": "v1", "cells": cells(3.0), "evaluated_at": "t", "n_reference": 3}
        reasons = not_comparable(record("v2", 4.0), old)
        assert set(reasons) == set(METRIC_KEYS)
        assert "does not say which clip_model" in reasons["clip_score"]
        assert "does not identify its reference photos" in reasons["ssim"]

    def test_every_metric_has_a_basis(self):
        assert set(METRIC_BASIS) == set(METRIC_KEYS)

    def test_the_change_row_says_not_comparable_instead_of_a_difference(self):
        previous = previous_of(scorers=SCORERS | {"fid_extractor": "another inception"})
        rows = record_rows(record("v2", 4.0, previous=previous))
        change = rows[-1].cells
        assert change["fid"].startswith("unavailable: not comparable: the fid_extractor changed")
        assert change["kid"].startswith("unavailable: not comparable: ")
        assert change["clip_score"] == change["ssim"] == 1.0  # 4.0 - 3.0 where the numbers compare


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
        rows = record_rows(record("v2", 4.0, previous=previous_of()))
        assert [r.model for r in rows] == ["keyword prompt", "metadata prompts, base LLM",
                                           "metadata prompts + adapter", "change since adapter v1"]
        assert rows[2].note == "adapter v2" and rows[3].cells == cells(1.0) and rows[3].source == "change"

    def test_a_skipped_arm_says_why_in_every_cell(self):
        rows = record_rows(record(None, 0.0, with_adapter=False))
        assert len(rows) == 3
        assert set(rows[2].cells.values()) == {"unavailable: no adapter passed its check"}
        # Not a measured row: the source column says the arm was skipped.
        assert rows[2].source == "skipped" and [r.source for r in rows[:2]] == ["measured", "measured"]

    def test_an_arm_missing_without_a_reason_is_missing_not_measured(self):
        stored = record(None, 0.0, with_adapter=False)
        stored["skipped"] = {}
        rows = record_rows(stored)
        assert rows[2].source == "missing" and set(rows[2].cells.values()) == {"unavailable: not evaluated"}

    def test_a_type_without_a_record_is_one_row_that_says_so(self):
        (row,) = missing_rows("drought")
        assert row.disaster == "drought" and set(row.cells.values()) == {"unavailable: not evaluated"}
        assert "materialize evaluation" in row.note and row.source == "missing"
