"""Disaster alerts in, alert cinemagraphs out — the core, without Dagster.

* :mod:`.model` — one alert model for CAP 1.2/1.1 and Korean disaster-message (MOIS) records.
* :mod:`.cap`, :mod:`.mois`, :mod:`.feeds`, :mod:`.documents` — parsers (defusedxml, size caps).
* :mod:`.classify` — the disaster type and prompt keywords of an alert.
* :mod:`.sources`, :mod:`.watch` — bounded fetching, and what is new (the sensor's logic and cursor).
* :mod:`.card`, :mod:`.tts`, :mod:`.render` — the accessible alert cinemagraph (caption, speech).
* :mod:`.capout` — the CAP 1.2 document that carries the video, validated against the OASIS schema.
* :mod:`.catalogue` — one lineage row per video.

``python -m cinema_dag.alerts FILE_OR_URL...`` checks alert files and feeds (see :mod:`.__main__`).
"""

from cinema_dag.alerts.cap import DEFAULT_MAX_BYTES, parse_cap
from cinema_dag.alerts.classify import Classification, classify_alert
from cinema_dag.alerts.documents import Document, read_document
from cinema_dag.alerts.feeds import FeedEntry, parse_feed
from cinema_dag.alerts.model import (
    Alert,
    AlertError,
    AlertParseError,
    AlertRefusedError,
    AlertTooLargeError,
    AlertValidationError,
    Area,
    Circle,
    Info,
    MoisApiError,
    Polygon,
    Reference,
    Refusal,
    Resource,
    SourceError,
    ValuePair,
)
from cinema_dag.alerts.mois import parse_mois_page
from cinema_dag.alerts.sources import FolderSource, HttpSource, MoisSource, fetch
from cinema_dag.alerts.watch import AlertEvent, RenderRequest, WatchState, watch

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Alert",
    "AlertError",
    "AlertEvent",
    "AlertParseError",
    "AlertRefusedError",
    "AlertTooLargeError",
    "AlertValidationError",
    "Area",
    "Circle",
    "Classification",
    "Document",
    "FeedEntry",
    "FolderSource",
    "HttpSource",
    "Info",
    "MoisApiError",
    "MoisSource",
    "Polygon",
    "Reference",
    "Refusal",
    "RenderRequest",
    "Resource",
    "SourceError",
    "ValuePair",
    "WatchState",
    "classify_alert",
    "fetch",
    "parse_cap",
    "parse_feed",
    "parse_mois_page",
    "read_document",
    "watch",
]
