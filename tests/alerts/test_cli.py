"""``python -m cinema_dag.alerts``: one JSON line per alert; exit 2 only for unreadable/unparseable input."""

import json
import subprocess
import sys
from pathlib import Path

from tests.alerts.conftest import HERE, SHARED
from tests.alerts.loopback import serve

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


# -- URLs: feeds followed one level deep, hosts allowed ------------------------------------------

CAP_ROUTES = {
    "/cap/heavy_rain_bilingual.xml": ((SHARED / "cap" / "heavy_rain_bilingual.xml").read_bytes(),
                                      "application/cap+xml"),
    "/cap/wildfire_geocode.xml": ((SHARED / "cap" / "wildfire_geocode.xml").read_bytes(), "application/xml"),
    "/cap/index.atom": ((HERE / "fixtures" / "atom_index.xml").read_bytes(), "application/atom+xml"),
}


def atom_feed(*hrefs: str) -> bytes:
    entries = "".join(f"<entry><id>urn:test:{i}</id><link href=\"{href}\"/></entry>" for i, href in enumerate(hrefs))
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:test:feed</id>{entries}</feed>'.encode()


def test_self_referencing_feed_is_refused_after_one_level():
    routes = {"/feed.atom": (atom_feed("/feed.atom"), "application/atom+xml")}
    with serve(routes) as server:
        code, rows = run_cli(f"{server.url}/feed.atom")
        assert server.requests == ["/feed.atom", "/feed.atom"]  # the feed, then its one entry: no third
    assert code == 2  # the entry could not be read as an alert
    [row] = rows
    assert row["refused"] and "a feed inside a feed is not followed" in row["reason"]


def test_atom_and_rss_feeds_over_http():
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>CAP</title>'
           b"<item><guid>rain</guid><link>/cap/heavy_rain_bilingual.xml</link></item>"
           b'<item><guid>fire</guid><enclosure url="/cap/wildfire_geocode.xml" type="application/cap+xml" '
           b'length="1"/></item></channel></rss>')
    with serve({**CAP_ROUTES, "/index.rss": (rss, "application/rss+xml")}) as server:
        for feed in ("/cap/index.atom", "/index.rss"):
            code, rows = run_cli(f"{server.url}{feed}")
            assert code == 0, rows
            assert [(r["identifier"], r["disaster_type"]) for r in rows] == [
                ("KR-TEST-20250717-0001", "flood"), ("KR-TEST-20250324-0042", "wildfire")]
            assert rows[0]["source"] == f"{server.url}/cap/heavy_rain_bilingual.xml"
        code, [row] = run_cli(f"{server.url}/cap/wildfire_geocode.xml")  # a single alert URL
        assert code == 0 and row["disaster_type"] == "wildfire"


def test_allow_host_extends_the_hosts_a_feed_may_list():
    with serve(CAP_ROUTES) as server:
        elsewhere = server.url.replace("127.0.0.1", "localhost") + "/cap/wildfire_geocode.xml"
        routes_feed = atom_feed(elsewhere)
        with serve({"/feed.atom": (routes_feed, "application/atom+xml")}) as feed_server:
            feed = f"{feed_server.url}/feed.atom"
            code, [row] = run_cli(feed)  # default: only the feed's own host
            assert code == 2 and "not an http(s) URL on an allowed host (127.0.0.1)" in row["reason"]
            assert server.requests == []
            code, [row] = run_cli(feed, "--allow-host", "127.0.0.1", "--allow-host", "localhost")
            assert code == 0 and row["identifier"] == "KR-TEST-20250324-0042"
            assert server.requests == ["/cap/wildfire_geocode.xml"]
