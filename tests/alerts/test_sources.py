"""Bounded fetching and the three sources, against a loopback HTTP server."""

import http.server
import json
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from cinema_dag.alerts.model import SourceError
from cinema_dag.alerts.sources import (
    FolderSource,
    HttpSource,
    MoisSource,
    fetch,
    redact,
)
from tests.alerts.conftest import HERE, SHARED
from tests.alerts.loopback import headers, raw_server, reset, serve

FILES = {
    "/cap/index.atom": ((HERE / "fixtures" / "atom_index.xml").read_bytes(), "application/atom+xml"),
    "/cap/heavy_rain_bilingual.xml": (
        (SHARED / "cap" / "heavy_rain_bilingual.xml").read_bytes(),
        "application/cap+xml",
    ),
    "/cap/wildfire_geocode.xml": ((SHARED / "cap" / "wildfire_geocode.xml").read_bytes(), "application/xml"),
    "/page.html": (b"<html></html>", "text/html"),
    "/cap/broken.atom": (
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:x:1</id><link href="missing.xml"/></entry></feed>'),
        "application/atom+xml",
    ),
    "/big.xml": (b"<a>" + b"x" * 5000 + b"</a>", "application/xml"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self):
        Handler.requests.append(self.path)
        path = self.path.split("?")[0]
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://example.invalid/cap/x.xml")
            self.end_headers()
            return
        if path == "/mois":
            query = dict(p.split("=", 1) for p in self.path.split("?", 1)[1].split("&"))
            if query["serviceKey"] != "good-key":
                body = (SHARED / "mois" / "error_bad_key.json").read_bytes()
            else:
                page = json.loads((SHARED / "mois" / "mixed_rows.json").read_text())
                rows = page["body"]
                start = (int(query["pageNo"]) - 1) * int(query["numOfRows"])
                page["body"] = rows[start:start + int(query["numOfRows"])]
                body = json.dumps(page).encode()
            self._send(body, "application/json")
            return
        if path not in FILES:
            self.send_error(404)
            return
        body, kind = FILES[path]
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self._send(body, kind, etag='"v1"')

    def _send(self, body, kind, etag=None):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


HOSTS = ("127.0.0.1",)


def test_fetch_bounds(server):
    assert fetch(f"{server}/cap/wildfire_geocode.xml", allowed_hosts=HOSTS).data.startswith(b"<?xml")
    with pytest.raises(SourceError, match="not an http"):
        fetch(f"{server}/cap/wildfire_geocode.xml", allowed_hosts=("example.org",))
    with pytest.raises(SourceError, match="not an http"):
        fetch("file:///etc/passwd", allowed_hosts=HOSTS)
    with pytest.raises(SourceError, match="Content-Length 5007 is over the 1000-byte cap"):
        fetch(f"{server}/big.xml", allowed_hosts=HOSTS, max_bytes=1000)
    with pytest.raises(SourceError, match="content type 'text/html'"):
        fetch(f"{server}/page.html", allowed_hosts=HOSTS)
    with pytest.raises(SourceError, match="host not allowed"):
        fetch(f"{server}/redirect", allowed_hosts=HOSTS)
    with pytest.raises(SourceError, match="HTTP 404"):
        fetch(f"{server}/missing.xml", allowed_hosts=HOSTS)


def test_redact_hides_keys():
    assert redact("https://h/api?serviceKey=SECRET&pageNo=1") == "https://h/api?serviceKey=***&pageNo=1"


def test_feed_source_fetches_each_entry_once(server):
    source = HttpSource(f"{server}/cap/index.atom")
    deliveries, state = source.poll({})
    assert [Path(d.source).name for d in deliveries] == ["heavy_rain_bilingual.xml", "wildfire_geocode.xml"]
    assert state["etag"] == '"v1"' and state["entries"] == ["urn:test:entry:1", "urn:test:entry:2"]
    again, _ = source.poll(state)  # 304 Not Modified
    assert again == []
    again, _ = source.poll({**state, "etag": None})  # body unchanged: same hash
    assert again == []


def test_folder_source(tmp_path):
    (tmp_path / "a.xml").write_bytes(b"<x/>")
    (tmp_path / ".hidden.xml").write_bytes(b"<x/>")
    (tmp_path / "notes.txt").write_text("not an alert")
    source = FolderSource(tmp_path, settle_seconds=0)
    deliveries, state = source.poll({})
    assert [Path(d.source).name for d in deliveries] == ["a.xml"]
    assert source.poll(state)[0] == []
    (tmp_path / "a.xml").write_bytes(b"<changed/>")
    assert [d.data for d in source.poll(state)[0]] == [b"<changed/>"]
    with pytest.raises(SourceError, match="does not exist"):
        FolderSource(tmp_path / "nope").poll({})


def test_mois_source_key_from_env_never_in_output(server, monkeypatch):
    source = MoisSource(url=f"{server}/mois", key_env="TEST_MOIS_KEY", rows=2, today=lambda: "20250101")
    monkeypatch.delenv("TEST_MOIS_KEY", raising=False)
    with pytest.raises(SourceError, match="set the environment variable TEST_MOIS_KEY"):
        source.poll({})
    monkeypatch.setenv("TEST_MOIS_KEY", "good-key")
    deliveries, state = source.poll({})
    assert len(deliveries) == 2 and state == {"day": "20250101", "total": 4}  # 4 records, 2 per page
    assert all("good-key" not in d.source and "serviceKey=***" in d.source for d in deliveries)
    again, state2 = source.poll(state)  # the page holding record 5: nothing new
    assert len(again) == 1 and json.loads(again[0].data)["body"] == [] and state2["total"] == 4
    monkeypatch.setenv("TEST_MOIS_KEY", "bad-key")
    [error_page], _ = source.poll({})
    assert json.loads(error_page.data)["header"]["resultCode"] == "30"


def test_feed_entry_that_fails_is_retried(server):
    source = HttpSource(f"{server}/cap/broken.atom")
    [failed], state = source.poll({})
    assert failed.data is None and "HTTP 404" in failed.error
    assert state["entries"] == [] and state["sha1"] is None
    [again], _ = source.poll({**state, "etag": None})
    assert again.data is None  # tried again, not forgotten


# -- misbehaving servers: every failure is a SourceError, within the time bound -------------------

CAP = (SHARED / "cap" / "wildfire_geocode.xml").read_bytes()


def test_connection_reset_mid_body_is_a_source_error():
    def respond(sock):
        sock.sendall(headers(len(CAP)) + CAP[:100])
        time.sleep(0.05)
        reset(sock)

    with raw_server(respond) as server, pytest.raises(SourceError, match=r"/cap\.xml: \w+"):
        fetch(f"{server.url}/cap.xml", allowed_hosts=HOSTS, timeout=5)


def test_body_shorter_than_content_length_is_refused():
    def respond(sock):
        sock.sendall(headers(len(CAP)) + CAP[:200])  # then a clean close (FIN)

    with raw_server(respond) as server, pytest.raises(SourceError, match=r"body is 200 bytes but Content-Length"):
        fetch(f"{server.url}/cap.xml", allowed_hosts=HOSTS, timeout=5)


@pytest.mark.parametrize(("dripped", "expected"), [
    ("body", r"body not complete within 0\.5 s"),
    ("headers", r"no complete answer within 0\.5 s"),  # status line and headers: inside urllib
])
def test_a_dripping_server_cannot_hold_a_fetch_past_its_timeout(dripped, expected):
    head = headers(len(CAP))

    def respond(sock):  # a byte every 0.2 s: each read is well inside the timeout, the whole is not
        if dripped == "body":
            sock.sendall(head)
        for byte in (CAP if dripped == "body" else head * 20):
            sock.sendall(bytes([byte]))
            time.sleep(0.2)

    timeout = 0.5
    with raw_server(respond) as server:
        start = time.monotonic()
        with pytest.raises(SourceError, match=expected):
            fetch(f"{server.url}/cap.xml", allowed_hosts=HOSTS, timeout=timeout)
        assert time.monotonic() - start < 5 * timeout  # dripped whole, it would take minutes


def test_a_flaky_feed_entry_does_not_fail_the_poll():
    feed = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:x:reset</id><link href="/reset.xml"/>'
            b'</entry><entry><id>urn:x:good</id><link href="/good.xml"/></entry></feed>')

    def respond(sock):
        path = served.requests[-1]
        body = feed if path == "/index.atom" else CAP
        if path == "/reset.xml":
            sock.sendall(headers(len(CAP)) + CAP[:50])
            time.sleep(0.05)
            reset(sock)
            return
        sock.sendall(headers(len(body)) + body)

    with raw_server(respond) as served:
        deliveries, state = HttpSource(f"{served.url}/index.atom", timeout=5).poll({})
    errors = {Path(d.source).name: d.error for d in deliveries}
    assert errors["good.xml"] is None and "reset.xml" in errors and errors["reset.xml"]
    assert state["entries"] == ["urn:x:good"]  # the reset entry is tried again at the next poll


def test_mois_finishes_the_old_day_at_midnight(monkeypatch):
    template = json.loads((SHARED / "mois" / "mixed_rows.json").read_text())
    rows = {"20250101": [], "20250102": []}

    def record(sn, day):
        return {**template["body"][2], "SN": sn, "CRT_DT": f"{day[:4]}/{day[4:6]}/{day[6:]} 23:59:00"}

    def page(path):
        query = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&"))
        day_rows, size = rows[query["crtDt"]], int(query["numOfRows"])
        start = (int(query["pageNo"]) - 1) * size
        body = {**template, "totalCount": len(day_rows), "body": day_rows[start:start + size]}
        return json.dumps(body).encode(), "application/json"

    monkeypatch.setenv("TEST_MOIS_KEY", "good-key")
    today = ["20250101"]
    rows["20250101"] = [record(sn, "20250101") for sn in (1, 2, 3)]
    with serve({"/mois": page}) as server:
        source = MoisSource(url=f"{server.url}/mois", key_env="TEST_MOIS_KEY", rows=2, today=lambda: today[0])

        def polled(state):
            deliveries, state = source.poll(state)
            return [row["SN"] for d in deliveries for row in json.loads(d.data)["body"]], state

        sns, state = polled({})
        assert sns == [1, 2, 3] and state == {"day": "20250101", "total": 3}
        rows["20250101"].append(record(4, "20250101"))  # created 23:59, reaches the API after midnight
        rows["20250102"] = [record(5, "20250102")]
        today[0] = "20250102"
        sns, state = polled(state)
    assert 4 in sns and 5 in sns  # the late record of the old day, then the new day's
    assert state == {"day": "20250102", "total": 1}


def test_mois_reads_every_day_since_its_cursor_within_the_catch_up_window(monkeypatch):
    template = json.loads((SHARED / "mois" / "mixed_rows.json").read_text())
    days = ["20241229", "20241230", "20241231", "20250101", "20250102"]
    rows = {day: [{**template["body"][2], "SN": i, "CRT_DT": f"{day[:4]}/{day[4:6]}/{day[6:]} 12:00:00"}]
            for i, day in enumerate(days)}

    def page(path):
        query = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&"))
        day_rows = rows[query["crtDt"]]
        return json.dumps({**template, "totalCount": len(day_rows), "body": day_rows}).encode(), "application/json"

    monkeypatch.setenv("TEST_MOIS_KEY", "good-key")
    with serve({"/mois": page}) as server:
        def polled(state, catch_up_days=2):
            source = MoisSource(url=f"{server.url}/mois", key_env="TEST_MOIS_KEY", rows=10,
                                catch_up_days=catch_up_days, today=lambda: "20250102")
            deliveries, state = source.poll(state)
            return [row["SN"] for d in deliveries for row in json.loads(d.data)["body"]], state

        # Down since the 30th (one record read): the rest of the 30th, the 31st, the 1st, today.
        sns, state = polled({"day": "20241230", "total": 0}, catch_up_days=3)
        assert sns == [1, 2, 3, 4] and state == {"day": "20250102", "total": 1}
        # Down longer than the window: days before today - 2 are skipped, none is lost inside it.
        sns, state = polled({"day": "20241229", "total": 0})
        assert sns == [2, 3, 4] and state == {"day": "20250102", "total": 1}
