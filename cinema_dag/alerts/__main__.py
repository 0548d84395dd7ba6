"""``python -m cinema_dag.alerts FILE_OR_URL...``: check alert files and feeds before wiring them in.

Prints one JSON object per alert (one line each): ``identifier``, ``source``, ``format``,
``msg_type``, ``status``, ``references``, ``disaster_type`` (or null), ``reason`` (why it would get
no video, or why it was refused; null when it would be rendered), ``matched`` (what decided the
type), ``keywords``, ``severity``, ``area``, ``headline``. A feed URL is followed to its entries.

Exit status: 0 when every input was read and parsed (even if some alerts are refused or match no
type — that is what this command is for), 2 when an input could not be read or parsed (missing
file, network error, over the size cap, refused XML, not an alert document, an API error page, a
feed listed where an alert was expected: feeds are followed one level deep, never into a feed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cinema_dag.alerts.cap import DEFAULT_MAX_BYTES
from cinema_dag.alerts.documents import read_document
from cinema_dag.alerts.model import Alert, Refusal, SourceError
from cinema_dag.alerts.sources import DEFAULT_TIMEOUT, fetch, redact
from cinema_dag.alerts.watch import assess


def alert_summary(alert: Alert) -> dict[str, Any]:
    """The CLI's JSON object for one alert."""
    classification, refusal = assess(alert)
    info = alert.text_info
    return {
        "identifier": alert.identifier,
        "source": alert.source,
        "format": alert.format,
        "msg_type": alert.msg_type,
        "status": alert.status,
        "references": [r.to_cap() for r in alert.references],
        "disaster_type": classification.disaster_type if alert.msg_type != "Cancel" else None,
        "reason": refusal,
        "matched": classification.reason if classification.disaster_type else None,
        "keywords": list(classification.keywords),
        "severity": alert.severity,
        "area": alert.area_description,
        "headline": info.headline if info else None,
    }


def refusal_summary(refusal: Refusal) -> dict[str, Any]:
    return {"identifier": refusal.identifier, "source": refusal.source, "format": None, "msg_type": None,
            "status": None, "references": [], "disaster_type": None, "reason": refusal.reason,
            "refused": True, "keywords": [], "severity": None, "area": "", "headline": None}


def _read(target: str, args: argparse.Namespace, hosts: list[str]) -> tuple[bytes | None, str | None]:
    try:
        if target.startswith(("http://", "https://")):
            return fetch(target, allowed_hosts=hosts, max_bytes=args.max_bytes, timeout=args.timeout).data, None
        path = Path(target)
        size = path.stat().st_size
        if size > args.max_bytes:
            return None, f"{target} is {size} bytes, over the {args.max_bytes}-byte cap: refused unread"
        return path.read_bytes(), None
    except SourceError as err:
        return None, str(err)
    except OSError as err:
        return None, f"cannot read {target}: {err.strerror or err}"


def summaries(target: str, args: argparse.Namespace, depth: int = 0,
              hosts: list[str] | None = None) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(summary, fatal)`` for every alert in ``target`` (a feed's entries followed once).

    ``hosts``: where ``target`` may be; default ``--allow-host``, else the target's own host — and
    a feed's entries inherit the feed's hosts (as the feed sensor does), so a feed cannot send the
    command to any host it names.
    """
    hosts = hosts or args.allow_host or [urlsplit(target).hostname or ""]
    data, error = _read(target, args, hosts)
    source = redact(target)
    if data is None:
        yield refusal_summary(Refusal(source, error or "unreadable", fatal=True)), True
        return
    document = read_document(data, source=source, max_bytes=args.max_bytes)
    if document.kind == "feed":
        if depth > 0:  # a feed listing a feed (itself, even) would be followed without end
            yield refusal_summary(Refusal(source, "a feed inside a feed is not followed", fatal=True)), True
            return
        for entry in document.entries:
            yield from summaries(entry.url, args, depth + 1, hosts)
        return
    for item in document.alerts:
        if isinstance(item, Refusal):
            yield refusal_summary(item), item.fatal
        else:
            yield alert_summary(item), False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cinema_dag.alerts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", metavar="FILE_OR_URL")
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="size cap per document")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per download")
    parser.add_argument("--allow-host", action="append", default=[],
                        help="hosts a URL (and a feed's entries) may be on; default: the URL's own host")
    args = parser.parse_args(argv)
    failed = False
    for target in args.targets:
        for summary, fatal in summaries(target, args):
            failed |= fatal
            print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
