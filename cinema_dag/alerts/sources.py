"""Where alerts come from: a folder of files, an HTTP CAP/Atom URL, the disaster-message API.

Each source has ``poll(state) -> (deliveries, new_state)``: the raw documents that are new since
``state`` (a small JSON-ready dict the caller keeps, e.g. in a sensor cursor), never parsed here.
Every download is bounded (:func:`fetch`): http(s) only, allowed hosts only (redirects too), a
timeout, a size cap checked on ``Content-Length`` and again while reading, and an allowed
content type. The API key comes from an environment variable at poll time and is replaced by
``***`` in every URL that reaches a message or a log.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import math
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cinema_dag.alerts.cap import DEFAULT_MAX_BYTES
from cinema_dag.alerts.documents import read_document
from cinema_dag.alerts.model import SourceError

__all__ = [
    "ALERT_CONTENT_TYPES",
    "ALERT_SUFFIXES",
    "DEFAULT_MOIS_KEY_ENV",
    "DEFAULT_MOIS_URL",
    "DEFAULT_SETTLE_SECONDS",
    "DEFAULT_TIMEOUT",
    "AlertSource",
    "Delivery",
    "FetchResult",
    "FolderSource",
    "HttpSource",
    "MoisSource",
    "fetch",
    "host_allowed",
    "redact",
]

ALERT_SUFFIXES = (".xml", ".cap", ".json")
ALERT_CONTENT_TYPES = (
    "application/cap+xml", "application/xml", "text/xml", "application/atom+xml", "application/rss+xml",
    "application/json", "text/json", "text/plain",
)
DEFAULT_TIMEOUT = 10.0
DEFAULT_MOIS_URL = "https://www.safetydata.go.kr/V2/api/DSSP-IF-00247"
DEFAULT_MOIS_KEY_ENV = "CINEMA_DAG_MOIS_API_KEY"
#: After an outage the disaster-message source reads back at most this many days before today: a
#: message older than that describes a hazard that is over, and rendering it now would mislead.
DEFAULT_MOIS_CATCH_UP_DAYS = 2
_SECRET_PARAMS = {"servicekey", "apikey", "api_key", "key", "token"}
KST = timezone(timedelta(hours=9))
#: Inbox files modified this recently (seconds) wait for the next poll: a copy may be in progress.
DEFAULT_SETTLE_SECONDS = 0.2


@dataclass(frozen=True)
class Delivery:
    """One raw document from a source: ``data`` is ``None`` when it could not be read (``error``)."""

    source: str
    data: bytes | None
    error: str | None = None


class AlertSource(Protocol):
    name: str

    def poll(self, state: dict[str, Any]) -> tuple[list[Delivery], dict[str, Any]]: ...


# -- bounded HTTP ---------------------------------------------------------------------------------


def redact(url: str) -> str:
    """``url`` with secret query values (``serviceKey`` …) replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def host_allowed(url: str, allowed_hosts: tuple[str, ...] | list[str]) -> bool:
    """Whether ``url`` is http(s) on an allowed host (exact, or a subdomain of one)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and any(
        host == h.lower() or host.endswith("." + h.lower()) for h in allowed_hosts)


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    data: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


class _Watchdog:
    """Shuts down the sockets of one fetch when its deadline passes.

    Socket timeouts bound each operation, not the sum: a server that sends its headers (or the
    headers of each redirect) a byte at a time could otherwise hold a poll for hours. Every
    connection the fetch opens is armed when it connects; a blocked read then ends at the deadline
    and the fetch reports the timeout.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._timers: list[threading.Timer] = []

    def connection(self, base: type[http.client.HTTPConnection]):
        """A factory of ``base`` connections (what ``do_open`` calls) armed on connect."""

        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            connection = base(host, **kwargs)
            connect = connection.connect

            def armed_connect() -> None:
                connect()
                self._arm(connection.sock)

            connection.connect = armed_connect  # type: ignore[method-assign]
            return connection

        return make

    def _arm(self, sock: socket.socket) -> None:
        timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), _shut_down, (sock,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def disarm(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: the fetch is over
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTP(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req):
        return self.do_open(self.watchdog.connection(http.client.HTTPConnection), req)


class _WatchedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def https_open(self, req):
        # The default context, as HTTPSHandler() without one: system CAs, hostnames checked.
        return self.do_open(self.watchdog.connection(http.client.HTTPSConnection), req,
                            context=ssl.create_default_context())


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allowed_hosts):
        self.allowed_hosts = allowed_hosts

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not host_allowed(newurl, self.allowed_hosts):
            raise SourceError(f"redirect from {redact(req.full_url)} to {redact(newurl)}: host not allowed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(
    url: str,
    *,
    allowed_hosts: tuple[str, ...] | list[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    content_types: tuple[str, ...] = ALERT_CONTENT_TYPES,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET ``url`` within bounds; a 304 (``If-None-Match``/``If-Modified-Since``) gives empty data.

    ``timeout`` bounds each socket operation (connect, each read) and the whole fetch: at the
    deadline the connections are shut down (:class:`_Watchdog`), and the body is read in chunks
    against the same deadline, so a server that drips its headers or body a byte now and then
    cannot hold a poll for longer than about ``timeout`` plus one connect.

    Raises:
        SourceError: host or scheme not allowed, HTTP error, timeout, too large, wrong content
            type, connection reset or closed early, a body shorter than its ``Content-Length`` —
            with the URL redacted.
    """
    shown = redact(url)
    if not host_allowed(url, allowed_hosts):
        raise SourceError(f"{shown}: not an http(s) URL on an allowed host ({', '.join(allowed_hosts) or 'none'})")
    headers = {"Accept": ", ".join(content_types), "User-Agent": "cinema-dag-alerts"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    watchdog = _Watchdog(time.monotonic() + timeout)
    opener = urllib.request.build_opener(_CheckedRedirects(tuple(allowed_hosts)), _WatchedHTTP(watchdog),
                                         _WatchedHTTPS(watchdog))
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type and content_type not in content_types:
                raise SourceError(f"{shown}: content type {content_type!r} is not one of {', '.join(content_types)}")
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.strip().isdigit() else None
            if expected is not None and expected > max_bytes:
                raise SourceError(f"{shown}: Content-Length {length} is over the {max_bytes}-byte cap")
            data = _read_body(response, shown, max_bytes, watchdog, timeout)
            if expected is not None and len(data) != expected:
                raise SourceError(f"{shown}: body is {len(data)} bytes but Content-Length said {expected}: "
                                  "the connection closed early")
            return FetchResult(url, response.status, data, content_type, response.headers.get("ETag"),
                               response.headers.get("Last-Modified"))
    except urllib.error.HTTPError as err:
        if err.code == 304:
            return FetchResult(url, 304, b"", "", etag, last_modified)
        raise SourceError(f"{shown}: HTTP {err.code} {err.reason}") from None
    except (OSError, http.client.HTTPException) as err:  # timeout, reset, closed early, malformed response
        if watchdog.expired() or isinstance(err, TimeoutError):
            raise SourceError(f"{shown}: no complete answer within {timeout:g} s") from None
        if isinstance(err, urllib.error.URLError):
            raise SourceError(f"{shown}: {redact(str(err.reason))}") from None
        raise SourceError(f"{shown}: {type(err).__name__}: {redact(str(err)) or 'connection failed'}") from None
    finally:
        watchdog.disarm()


#: Bytes asked for per read of a body (a read returns what has arrived, up to this).
_CHUNK = 64 * 1024


def _read_body(response, shown: str, max_bytes: int, watchdog: _Watchdog, timeout: float) -> bytes:
    """The body, read chunk by chunk (``read1``: one receive each, so the deadline is checked between
    the arrivals of a slow body) until the end, the size cap or the deadline (where the watchdog
    shuts the socket, a read ends early: that is a timeout, not the end of the body)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if watchdog.expired():
            raise SourceError(f"{shown}: body not complete within {timeout:g} s ({size} bytes so far)")
        chunk = response.read1(_CHUNK)
        if not chunk:
            if watchdog.expired():
                continue  # reported above
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(f"{shown}: body is over the {max_bytes}-byte cap")
        chunks.append(chunk)


# -- sources --------------------------------------------------------------------------------------


class FolderSource:
    """Alert files dropped into a folder (``*.xml``, ``*.cap``, ``*.json``; hidden files ignored).

    A file is new when its (size, mtime) signature is not in the state; the state keeps only
    files still present, so it stays as small as the folder. Files modified in the last
    ``settle_seconds`` wait for the next poll (a copy may still be in progress; writers should
    write elsewhere and rename into the folder).
    """

    def __init__(self, folder: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_files: int = 100, settle_seconds: float = DEFAULT_SETTLE_SECONDS):
        self.folder = Path(folder)
        self.name = f"folder:{self.folder}"
        self.max_bytes, self.max_files, self.settle_seconds = max_bytes, max_files, settle_seconds

    def __repr__(self) -> str:
        return f"FolderSource({str(self.folder)!r})"

    def poll(self, state: dict[str, Any]) -> tuple[list[Delivery], dict[str, Any]]:
        if not self.folder.is_dir():
            raise SourceError(f"alert folder {str(self.folder)!r} does not exist")
        known: dict[str, str] = dict(state.get("files", {}))
        now = time.time()
        present = {}
        deliveries: list[Delivery] = []
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() not in ALERT_SUFFIXES or not path.is_file():
                continue
            stat = path.stat()
            signature = f"{stat.st_size}:{stat.st_mtime_ns}"
            if known.get(path.name) == signature:
                present[path.name] = signature
                continue
            if now - stat.st_mtime < self.settle_seconds or len(deliveries) >= self.max_files:
                continue  # next poll
            present[path.name] = signature
            if stat.st_size > self.max_bytes:
                deliveries.append(Delivery(str(path), None, f"{path} is {stat.st_size} bytes, over the "
                                                            f"{self.max_bytes}-byte cap: refused unread"))
                continue
            try:
                deliveries.append(Delivery(str(path), path.read_bytes()))
            except OSError as err:
                deliveries.append(Delivery(str(path), None, f"cannot read {path}: {err}"))
        return deliveries, {"files": present}


class HttpSource:
    """A URL serving one CAP alert or an Atom/RSS index of alerts (each entry fetched once).

    ``allowed_hosts`` defaults to the URL's own host; entries on other hosts are refused unless
    listed. State: the feed's ETag/Last-Modified (conditional GET), a hash of its last body, and
    the entry ids already fetched (only those still in the feed are kept).
    """

    def __init__(self, url: str, *, allowed_hosts: tuple[str, ...] | list[str] = (), max_bytes: int = DEFAULT_MAX_BYTES,
                 timeout: float = DEFAULT_TIMEOUT, max_entries: int = 20):
        self.url = url
        self.name = f"http:{redact(url)}"
        self.allowed_hosts = tuple(allowed_hosts) or ((urlsplit(url).hostname or ""),)
        self.max_bytes, self.timeout, self.max_entries = max_bytes, timeout, max_entries

    def __repr__(self) -> str:
        return f"HttpSource({redact(self.url)!r}, allowed_hosts={self.allowed_hosts!r})"

    def _get(self, url: str, **conditional) -> FetchResult:
        return fetch(
            url, allowed_hosts=self.allowed_hosts, max_bytes=self.max_bytes, timeout=self.timeout, **conditional
        )

    def poll(self, state: dict[str, Any]) -> tuple[list[Delivery], dict[str, Any]]:
        result = self._get(self.url, etag=state.get("etag"), last_modified=state.get("last_modified"))
        if result.status == 304:
            return [], state
        digest = hashlib.sha1(result.data).hexdigest()
        new_state = {"etag": result.etag, "last_modified": result.last_modified, "sha1": digest,
                     "entries": list(state.get("entries", []))}
        if digest == state.get("sha1"):
            return [], new_state
        document = read_document(result.data, source=redact(self.url), max_bytes=self.max_bytes)
        if document.kind != "feed":
            return [Delivery(redact(self.url), result.data)], new_state
        seen = set(state.get("entries", []))
        deliveries: list[Delivery] = []
        fetched = []
        for entry in document.entries:
            if entry.id in seen:
                fetched.append(entry.id)
                continue
            if len(deliveries) >= self.max_entries:
                continue  # left for the next poll (the feed hash is cleared below so it is read again)
            try:
                deliveries.append(Delivery(redact(entry.url), self._get(entry.url).data))
            except SourceError as err:
                deliveries.append(Delivery(redact(entry.url), None, str(err)))
                continue  # not marked fetched: tried again at the next poll
            fetched.append(entry.id)
        if len(fetched) < len(document.entries):
            new_state["sha1"] = None  # entries left for the next poll
        new_state["entries"] = fetched
        return deliveries, new_state


def _shift_day(day: str, days: int) -> str:
    """``YYYYMMDD`` moved by ``days`` calendar days (the API's ``crtDt`` form, which sorts as text).

    Example:
        >>> _shift_day("20241231", 1), _shift_day("20240301", -1)
        ('20250101', '20240229')
    """
    return (datetime.strptime(day, "%Y%m%d") + timedelta(days=days)).strftime("%Y%m%d")


class MoisSource:
    """The disaster-message API (``DSSP-IF-00247``): each day's (KST) records, only the new pages.

    The key is read from the environment variable ``key_env`` at each poll (never stored, never
    logged). Records come in ascending order, so the state keeps the day and the number of its
    records already read; a poll fetches the page holding record ``total + 1`` through the last page
    (at most ``max_pages``). When the day has changed since the last poll, the old day is read to its
    end first — a record created just before midnight may reach the API after it — then every day
    after it in turn, up to today; after a longer outage, days more than ``catch_up_days`` before
    today are skipped (their hazards are over). Error pages (bad key …) are delivered as they are, so
    the reader reports the API's code.
    """

    def __init__(self, *, url: str = DEFAULT_MOIS_URL, key_env: str = DEFAULT_MOIS_KEY_ENV, region: str | None = None,
                 rows: int = 100, max_pages: int = 5, allowed_hosts: tuple[str, ...] | list[str] = (),
                 max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = DEFAULT_TIMEOUT,
                 catch_up_days: int = DEFAULT_MOIS_CATCH_UP_DAYS, today=None):
        self.url, self.key_env, self.region = url, key_env, region
        self.name = f"mois:{url}"
        self.rows, self.max_pages, self.catch_up_days = rows, max_pages, catch_up_days
        self.allowed_hosts = tuple(allowed_hosts) or ((urlsplit(url).hostname or ""),)
        self.max_bytes, self.timeout = max_bytes, timeout
        self._today = today or (lambda: datetime.now(KST).strftime("%Y%m%d"))

    def __repr__(self) -> str:
        return f"MoisSource({self.url!r}, key_env={self.key_env!r}, region={self.region!r})"

    def _page_url(self, key: str, day: str, page: int) -> str:
        query = {"serviceKey": key, "pageNo": page, "numOfRows": self.rows, "returnType": "json", "crtDt": day}
        if self.region:
            query["rgnNm"] = self.region
        return f"{self.url}?{urlencode(query)}"

    def poll(self, state: dict[str, Any]) -> tuple[list[Delivery], dict[str, Any]]:
        key = os.environ.get(self.key_env, "").strip()
        if not key:
            raise SourceError(f"the disaster-message API key is missing: set the environment variable {self.key_env}")
        today = self._today()
        earliest = _shift_day(today, -self.catch_up_days)
        day, done = (state["day"], int(state.get("total", 0))) if state.get("day") else (today, 0)
        if day < earliest:
            day, done = earliest, 0
        deliveries: list[Delivery] = []
        while True:
            done, complete = self._read_day(key, day, done, deliveries)
            if day >= today or not complete:
                return deliveries, {"day": day, "total": done}
            day, done = _shift_day(day, 1), 0  # the earlier day is read to its end: on to the next

    def _read_day(self, key: str, day: str, done: int, deliveries: list[Delivery]) -> tuple[int, bool]:
        """Read ``day``'s pages from record ``done + 1`` on into ``deliveries`` (one per request, at
        most ``max_pages`` in all); returns the records read through and whether the last page was
        reached. A failed request or an error page stops early (the next poll starts there again)."""
        page = done // self.rows + 1
        last_page = page
        while page <= last_page:
            if len(deliveries) >= self.max_pages:
                return done, False
            url = self._page_url(key, day, page)
            try:
                data = fetch(url, allowed_hosts=self.allowed_hosts, max_bytes=self.max_bytes, timeout=self.timeout).data
            except SourceError as err:
                deliveries.append(Delivery(redact(url), None, str(err)))
                return done, False
            deliveries.append(Delivery(redact(url), data))
            try:
                total = int(json.loads(data.decode("utf-8")).get("totalCount") or 0)
            except (ValueError, AttributeError, UnicodeDecodeError):
                return done, False  # an error page or not JSON: the reader reports it
            last_page = max(1, math.ceil(total / self.rows))
            done = min(total, page * self.rows)
            page += 1
        return done, True
