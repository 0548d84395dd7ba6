"""Cells, the paper's numbers, changes and regressions, and the table as Markdown, CSV, Parquet."""

import csv
import math
from typing import ClassVar

import pyarrow.parquet as pq
import pytest

from cinema_dag.disasters import DISASTER_KEYS
from cinema_dag.evaluation import (
    METRIC_KEYS,
    PAPER_TABLE1,
    SOURCE_CHANGE,
    SOURCE_PAPER,
    TableRow,
    change_cells,
    format_cell,
    is_number,
    paper_metrics,
    paper_rows,
    regressions,
    to_markdown,
    unavailable,
    write_csv,
    write_parquet,
)


def cells(**values):
    base = {k: unavailable("not measured") for k in METRIC_KEYS}
    return base | values


class TestCells:
    def test_numbers_and_reasons(self):
        assert is_number(1.5) and not is_number(math.nan) and not is_number(True) and not is_number("1.0")
        assert unavailable("no weights") == "unavailable: no weights" == unavailable("unavailable: no weights")
        with pytest.raises(ValueError, match="reason"):
            unavailable("  ")
        assert format_cell(0.123456) == "0.1235" and format_cell(2.5, signed=True) == "+2.5"
        for bad in (None, math.inf, "0.3"):
            with pytest.raises(ValueError, match="finite number"):
                format_cell(bad)

    def test_a_row_refuses_a_cell_that_is_neither(self):
        with pytest.raises(ValueError, match="lacks cells"):
            TableRow("flood", "x", {"fid": 1.0})
        with pytest.raises(ValueError, match="finite number"):
            TableRow("flood", "x", cells(fid=math.nan))


class TestPaper:
    def test_table_1_as_published(self):
        assert set(PAPER_TABLE1) == set(DISASTER_KEYS)
        assert dict(paper_metrics("wildfire", "Ours")) == {
            "fid": 27.692, "clip_score": 0.304199, "lpips": 0.622422, "ssim": 0.463339194}
        assert paper_metrics("heavy_snow", "Stable Diffusion")["ssim"] == 0.555356296
        assert paper_metrics("drought", "DALL-E")["fid"] == 58.9621
        with pytest.raises(KeyError, match="no disaster 'heavy snow'"):
            paper_metrics("heavy snow", "Ours")

    def test_rows_mark_kid_as_not_reported(self):
        rows = paper_rows()
        assert len(rows) == 21 and {r.source for r in rows} == {SOURCE_PAPER}
        assert all(r.cells["kid"] == "unavailable: not in the paper" for r in rows)
        models = [r.model for r in paper_rows(["flood"])]
        assert models == ["DALL-E (paper)", "Stable Diffusion (paper)", "Ours (paper)"]


class TestChanges:
    NOW: ClassVar[dict] = {"fid": 40.0, "kid": 0.02, "clip_score": 0.28, "lpips": "unavailable: no backbone",
                           "ssim": 0.5}
    BEFORE: ClassVar[dict] = {"fid": 42.0, "kid": 0.01, "clip_score": 0.30, "lpips": 0.6, "ssim": 0.5}

    def test_change_is_now_minus_before(self):
        change = change_cells(self.NOW, self.BEFORE)
        assert change["fid"] == pytest.approx(-2.0) and change["clip_score"] == pytest.approx(-0.02)
        assert change["ssim"] == 0.0 and change["lpips"] == "unavailable: no number now"

    def test_regressions_follow_each_metric_direction_and_the_margin(self):
        # FID fell (better), KID doubled (worse), CLIP fell 6.7 % (worse), SSIM equal, LPIPS unknown.
        assert set(regressions(self.NOW, self.BEFORE, margin=0.05)) == {"kid", "clip_score"}
        assert set(regressions(self.NOW, self.BEFORE, margin=0.10)) == {"kid"}
        assert regressions(self.NOW, self.BEFORE, margin=1.5) == {}
        worse = regressions(self.NOW, self.BEFORE, margin=0.0)["kid"]
        assert worse["observed"] == 0.02 and worse["previous"] == 0.01 and worse["worse_by"] == pytest.approx(0.01)
        with pytest.raises(ValueError, match="margin"):
            regressions(self.NOW, self.BEFORE, margin=-1)


class TestWriters:
    @pytest.fixture
    def rows(self):
        return [
            *paper_rows(["flood"]),
            TableRow("flood", "keyword prompt", cells(fid=50.0, kid=0.05, clip_score=0.25, ssim=0.2),
                     n_generated=8, n_reference=200),
            TableRow("flood", "change since adapter v1", cells(fid=-1.5), SOURCE_CHANGE),
        ]

    def test_markdown_has_the_paper_columns_and_every_cell(self, rows):
        md = to_markdown(rows)
        lines = md.splitlines()
        assert lines[0].startswith("| type | model | FID ↓ | KID ↓ | CLIP ↑ | LPIPS ↓ | SSIM ↑ |")
        assert len(lines) == 2 + len(rows)
        assert "| flood | Ours (paper) | 42.81 |" in md and "| 8/200 |" in md and "| -1.5 |" in md
        assert all(line.count("|") == lines[0].count("|") for line in lines)

    def test_csv_and_parquet_round_trip(self, rows, tmp_path):
        write_csv(rows, tmp_path / "t.csv")
        write_parquet(rows, tmp_path / "t.parquet")
        with open(tmp_path / "t.csv", encoding="utf-8") as handle:
            back = list(csv.DictReader(handle))
        assert [r["model"] for r in back] == [r.model for r in rows]
        assert float(back[2]["ssim"]) == pytest.approx(0.495805458) and back[3]["lpips"] == "unavailable: not measured"
        table = pq.read_table(tmp_path / "t.parquet")
        assert table.schema.field("fid").type == "double" and table.num_rows == len(rows)
        data = table.to_pylist()
        assert data[3]["fid"] == 50.0 and data[3]["n_reference"] == 200 and data[3]["lpips"] is None
        assert data[3]["lpips_unavailable"] == "unavailable: not measured" and data[3]["fid_unavailable"] is None
        assert not list(tmp_path.glob(".*"))  # no temp file left behind
