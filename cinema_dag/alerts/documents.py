"""One entry point for any alert document: CAP alert, CAP index feed, or disaster-message page.

:func:`read_document` sniffs the bytes (``<`` → XML, else JSON), parses once, and returns what the
document holds — alerts (and refusals for bad records) or, for a feed, the links to fetch next.
Every failure becomes a :class:`~cinema_dag.alerts.model.Refusal` with a one-line reason; callers
(the CLI, the sensor) never see a traceback for bad input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cinema_dag.alerts.cap import (
    DEFAULT_MAX_BYTES,
    alert_from_element,
    cap_version,
    check_size,
    parse_xml,
)
from cinema_dag.alerts.feeds import FeedEntry, feed_entries, is_feed
from cinema_dag.alerts.model import (
    Alert,
    AlertError,
    AlertParseError,
    AlertValidationError,
    Refusal,
)
from cinema_dag.alerts.mois import is_mois_xml, mois_page_alerts, mois_xml_page

__all__ = ["Document", "read_document"]


@dataclass
class Document:
    """What one document held.

    Attributes:
        kind: ``"cap"``, ``"feed"``, ``"mois"`` or ``"unreadable"``.
        alerts: the alerts and per-alert refusals, in document order.
        entries: for a feed, the alert links it lists.
    """

    kind: str
    alerts: list[Alert | Refusal] = field(default_factory=list)
    entries: list[FeedEntry] = field(default_factory=list)


def read_document(data: bytes, *, source: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Parse any supported alert document; never raises for bad input.

    A refusal is ``fatal`` (the CLI's non-zero exit) when nothing could be parsed: over the size
    cap, refused XML (DOCTYPE/entities), not XML/JSON, an unknown root, or an API error page. A CAP
    alert that parses but fails validation is refused non-fatally, with every problem named.
    """
    try:
        check_size(data, max_bytes, source or "alert document")
        if data.lstrip()[:1] == b"<":
            root = parse_xml(data, max_bytes=max_bytes, what=source or "alert document")
            if cap_version(root):
                try:
                    return Document("cap", [alert_from_element(root, source=source)])
                except AlertValidationError as err:
                    return Document("cap", [Refusal(source, str(err), identifier=err.identifier)])
            if is_feed(root):
                return Document("feed", entries=feed_entries(root, base_url=source))
            if is_mois_xml(root):
                return Document("mois", mois_page_alerts(mois_xml_page(root, source), source))
            raise AlertParseError(f"{source or 'document'}: root element {root.tag!r} is not a CAP <alert>, "
                                  "an Atom/RSS feed, or a disaster-message API page")
        try:
            page = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise AlertParseError(f"{source or 'document'}: neither XML nor JSON ({err})") from None
        return Document("mois", mois_page_alerts(page, source))
    except AlertError as err:
        return Document("unreadable", [Refusal(source, str(err), fatal=True)])
