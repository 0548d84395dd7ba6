"""``python -m cinema_dag.alerts``: one JSON line per alert; exit 2 only for unreadable/unparseable input."""

import json
import subprocess
import sys
from pathlib import Path

from tests.alerts.conftest import HERE, SHARED

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*targets):
    done = subprocess.run([sys.executable, "-m", "cinema_dag.alerts", *map(str, targets)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_every_shared_fixture():
    code, rows = run_cli(*sorted((SHARED / "cap").glob("*.xml")), *sorted((SHARED / "mois").glob("*.json")))
    assert code == 2  # the entity-expansion file and the bad-key page could not be parsed
    by_source = {}
    for row in rows:
        by_source.setdefault(Path(row["source"].split("#")[0]).name, []).append(row)
    assert by_source["heavy_rain_bilingual.xml"][0]["disaster_type"] == "flood"
    assert by_source["heavy_rain_bilingual.xml"][0]["severity"] == "Severe"
    assert by_source["heavy_rain_bilingual.xml"][0]["area"] == "서울특별시 노원구 공릉2동"
    assert by_source["wildfire_geocode.xml"][0]["disaster_type"] == "wildfire"
    quake = by_source["earthquake_update.xml"][0]
    assert quake["disaster_type"] == "earthquake" and quake["msg_type"] == "Update"
    assert quake["references"] == ["fixture@example.invalid,KR-TEST-20250625-0559.1,2025-06-25T06:03:02+09:00"]
    cancel = by_source["cancel.xml"][0]
    assert cancel["msg_type"] == "Cancel" and cancel["disaster_type"] is None and "Cancel of" in cancel["reason"]
    assert "DOCTYPE" in by_source["bad_entity_expansion.xml"][0]["reason"]
    assert "missing category" in by_source["bad_missing_info_fields.xml"][0]["reason"]
    mixed = {r["identifier"]: r for r in by_source["mixed_rows.json"]}
    assert [mixed[f"KR-SAFETYDATA-30000{i}"]["disaster_type"] for i in (1, 2, 3, 4)] == \
        ["landslide", "flood", "wildfire", None]
    assert "교통" in mixed["KR-SAFETYDATA-300004"]["reason"]
    assert "error 30" in by_source["error_bad_key.json"][0]["reason"]
    for row in rows:
        assert {"identifier", "source", "msg_type", "references", "disaster_type", "reason", "keywords",
                "severity", "area"} <= set(row)


def test_exit_zero_when_everything_parses_even_unclassified():
    code, rows = run_cli(SHARED / "mois" / "mixed_rows.json", HERE / "fixtures" / "bad_invalid_values.xml")
    assert code == 0 and len(rows) == 5
    assert rows[-1]["refused"] and "BOGUS" in rows[-1]["reason"]


def test_missing_file_exits_nonzero():
    code, rows = run_cli("/nonexistent/alert.xml")
    assert code == 2 and "cannot read" in rows[0]["reason"]
