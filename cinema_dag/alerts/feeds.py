"""CAP index feeds (Atom or RSS) → the URLs of the alerts they list.

Alert hubs publish an Atom (or RSS 2.0) feed whose entries link to CAP documents (OASIS CAP-feeds
note; the NWS feed). Each entry gives one :class:`FeedEntry`: its id, the alert's URL (the link
whose type names CAP, else the ``alternate`` link, else an ``http(s)`` id) and its update time.
Relative links are resolved against the feed's URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from cinema_dag.alerts.cap import DEFAULT_MAX_BYTES, parse_xml
from cinema_dag.alerts.model import AlertParseError

__all__ = ["ATOM", "FeedEntry", "feed_entries", "is_feed", "parse_feed"]

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    """One feed entry: ``id`` (stable), ``url`` (the CAP document) and ``updated`` (as written)."""

    id: str
    url: str
    updated: str = ""


def is_feed(root: Element) -> bool:
    return root.tag in (f"{{{ATOM}}}feed", "rss")


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _atom_url(entry: Element) -> str:
    links = entry.findall(f"{{{ATOM}}}link")
    for link in links:
        if "cap" in (link.get("type") or "").lower():
            return link.get("href", "")
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href", "")
    entry_id = _text(entry.find(f"{{{ATOM}}}id"))
    return entry_id if entry_id.startswith(("http://", "https://")) else ""


def feed_entries(root: Element, base_url: str = "") -> list[FeedEntry]:
    """The entries of a parsed Atom or RSS feed (entries without a usable URL are left out)."""
    entries = []
    if root.tag == f"{{{ATOM}}}feed":
        for entry in root.findall(f"{{{ATOM}}}entry"):
            url = _atom_url(entry)
            if url:
                url = urljoin(base_url, url)
                entries.append(FeedEntry(id=_text(entry.find(f"{{{ATOM}}}id")) or url, url=url,
                                         updated=_text(entry.find(f"{{{ATOM}}}updated"))))
    elif root.tag == "rss":
        for item in root.iter("item"):
            url = _text(item.find("link"))
            enclosure = item.find("enclosure")
            if not url and enclosure is not None:
                url = enclosure.get("url", "")
            if url:
                url = urljoin(base_url, url)
                entries.append(FeedEntry(id=_text(item.find("guid")) or url, url=url,
                                         updated=_text(item.find("pubDate"))))
    else:
        raise AlertParseError(f"root element {root.tag!r} is neither an Atom <feed> nor an RSS <rss>")
    return entries


def parse_feed(data: bytes, *, base_url: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> list[FeedEntry]:
    """Size-check, safely parse and list a feed's alert links (see :func:`feed_entries`)."""
    return feed_entries(parse_xml(data, max_bytes=max_bytes, what=base_url or "feed"), base_url)
