"""What is new: from raw deliveries to render requests, exactly once per alert (no Dagster here).

:class:`WatchState` is the sensor's cursor: each source's own state plus the alerts already
seen (identifier → disaster type and keyword fingerprint), bounded to the most recent
:data:`MAX_SEEN`. :func:`watch` polls the sources and decides, for every alert:

* new and classifiable → one :class:`RenderRequest` (``run_key`` = the identifier);
* already seen (a duplicate delivery) → nothing;
* ``Cancel`` → recorded (the referenced alerts are marked cancelled); nothing already rendered
  is stopped or deleted;
* ``Update`` of a seen alert with the same type and keywords → recorded, no new video; with
  changed keywords (or an unseen original) → rendered under the Update's identifier;
* unclassifiable, invalid, refused, ``Draft``/``System`` status, ``Ack``/``Error`` → recorded with
  the reason, nothing started.

Every decision is an :class:`AlertEvent` the caller logs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cinema_dag.alerts.classify import Classification, classify_alert
from cinema_dag.alerts.documents import read_document
from cinema_dag.alerts.model import Alert, Reference, Refusal, SourceError
from cinema_dag.alerts.sources import AlertSource, Delivery

__all__ = [
    "MAX_SEEN",
    "RENDER_STATUSES",
    "AlertEvent",
    "RenderRequest",
    "WatchState",
    "assess",
    "keyword_fingerprint",
    "process_deliveries",
    "watch",
]

MAX_SEEN = 5000
#: Statuses that get a video (Test and Exercise too: the CAP out keeps the status, so a
#: distributor does not show them to the public). Draft and System messages are not for action.
RENDER_STATUSES = ("Actual", "Exercise", "Test")
CURSOR_VERSION = 1


@dataclass(frozen=True)
class RenderRequest:
    """One alert to render: the sensor turns it into a RunRequest for ``disaster_type``."""

    alert: Alert
    disaster_type: str
    keywords: tuple[str, ...]
    reason: str

    @property
    def run_key(self) -> str:
        return self.alert.identifier


@dataclass(frozen=True)
class AlertEvent:
    """A decision about one input. ``action``: render, duplicate, cancel, unchanged_update,
    unclassified, ignored, refused or error (a source or document that could not be read).

    For a ``cancel``, ``references`` are the cancelled messages and ``cancelled_types`` the
    disaster type each was rendered as (``None`` where this cursor never saw it: the caller may
    know it from elsewhere, e.g. another sensor's run).
    """

    action: str
    source: str
    reason: str
    identifier: str | None = None
    disaster_type: str | None = None
    references: tuple[Reference, ...] = ()
    cancelled_types: tuple[str | None, ...] = ()

    @property
    def starts_run(self) -> bool:
        return self.action == "render"


def keyword_fingerprint(disaster_type: str, keywords: Iterable[str]) -> str:
    """A short hash of the type and the keywords (order and case do not matter)."""
    text = json.dumps([disaster_type, sorted({k.lower() for k in keywords})], ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass
class WatchState:
    """The sensor cursor: per-source state and the alerts seen (insertion-ordered, bounded)."""

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_cursor(self) -> str:
        return json.dumps({"v": CURSOR_VERSION, "sources": self.sources, "seen": self.seen},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_cursor(cls, cursor: str | None) -> WatchState:
        """The state a cursor encodes; an empty or unreadable cursor starts afresh (run keys still
        stop a second run of an alert Dagster already launched)."""
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
        except json.JSONDecodeError:
            return cls()
        if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
            return cls()
        return cls(sources=dict(data.get("sources", {})), seen=dict(data.get("seen", {})))

    def remember(self, identifier: str, **info: Any) -> None:
        self.seen.pop(identifier, None)
        self.seen[identifier] = info
        while len(self.seen) > MAX_SEEN:
            self.seen.pop(next(iter(self.seen)))


def assess(alert: Alert) -> tuple[Classification, str | None]:
    """What any alert means on its own (no history): its classification, and why it gets no video
    (``None`` when it would be rendered)."""
    classification = classify_alert(alert)
    if alert.msg_type == "Cancel":
        refs = ", ".join(r.identifier for r in alert.references) or "no referenced alert"
        return classification, f"Cancel of {refs}: recorded; nothing already rendered is stopped"
    if alert.msg_type in ("Ack", "Error"):
        return classification, f"msgType {alert.msg_type} is not an alert to render"
    if alert.status not in RENDER_STATUSES:
        return classification, f"status {alert.status} is not rendered (only {', '.join(RENDER_STATUSES)})"
    if classification.disaster_type is None:
        return classification, classification.reason
    return classification, None


def _decide(alert: Alert, state: WatchState) -> tuple[AlertEvent, RenderRequest | None]:
    ident, src = alert.identifier, alert.source
    if ident in state.seen:
        return AlertEvent("duplicate", src, f"{ident} already seen: no second run", ident), None
    classification, refusal = assess(alert)
    kind = classification.disaster_type
    if alert.msg_type == "Cancel":
        types = []
        for ref in alert.references:
            earlier = state.seen.get(ref.identifier)
            if earlier is not None:
                earlier["cancelled"] = True
            types.append(earlier.get("type") if earlier else None)
        state.remember(ident, msg_type="Cancel")
        return AlertEvent("cancel", src, refusal or "", ident, kind, alert.references, tuple(types)), None
    if refusal is not None:
        state.remember(ident, msg_type=alert.msg_type, type=kind)
        action = "unclassified" if kind is None and alert.msg_type not in ("Ack", "Error") else "ignored"
        return AlertEvent(action, src, refusal, ident, kind), None
    assert kind is not None  # assess() refuses an alert it could not classify
    fingerprint = keyword_fingerprint(kind, classification.keywords)
    if alert.msg_type == "Update":
        for ref in alert.references:
            earlier = state.seen.get(ref.identifier)
            if earlier and earlier.get("fingerprint") == fingerprint:
                state.remember(ident, msg_type="Update", type=kind, fingerprint=fingerprint)
                return AlertEvent("unchanged_update", src, f"Update of {ref.identifier} with the same type and "
                                  "keywords: the existing video stands", ident, kind), None
        why = "Update with changed keywords" if any(r.identifier in state.seen for r in alert.references) \
            else "Update of an alert not seen before"
    else:
        why = "new alert"
    state.remember(ident, msg_type=alert.msg_type, type=kind, fingerprint=fingerprint)
    request = RenderRequest(alert, kind, classification.keywords, f"{why}; {classification.reason}")
    return AlertEvent("render", src, request.reason, ident, kind), request


def process_deliveries(
    deliveries: Iterable[Delivery], state: WatchState
) -> tuple[list[RenderRequest], list[AlertEvent]]:
    """Parse every delivery and decide each alert in it (updates ``state`` in place)."""
    requests: list[RenderRequest] = []
    events: list[AlertEvent] = []
    for delivery in deliveries:
        if delivery.data is None:
            events.append(AlertEvent("error", delivery.source, delivery.error or "unreadable"))
            continue
        document = read_document(delivery.data, source=delivery.source)
        if document.kind == "feed":
            events.append(AlertEvent("error", delivery.source, "a feed where an alert was expected: "
                                     "configure it as a feed URL instead"))
        for item in document.alerts:
            if isinstance(item, Refusal):
                events.append(AlertEvent("refused", item.source, item.reason, item.identifier))
                continue
            event, request = _decide(item, state)
            events.append(event)
            if request is not None:
                requests.append(request)
    return requests, events


def watch(sources: Iterable[AlertSource], state: WatchState) -> tuple[list[RenderRequest], list[AlertEvent]]:
    """Poll each source once and decide what is new. A failing source is reported as an error
    event and keeps its old state (it is tried again at the next poll); the others go on."""
    requests: list[RenderRequest] = []
    events: list[AlertEvent] = []
    for source in sources:
        try:
            deliveries, source_state = source.poll(state.sources.get(source.name, {}))
        except SourceError as err:
            events.append(AlertEvent("error", source.name, str(err)))
            continue
        new_requests, new_events = process_deliveries(deliveries, state)
        state.sources[source.name] = source_state
        requests.extend(new_requests)
        events.extend(new_events)
    return requests, events
