"""CAP 1.2 and 1.1 alert documents → :class:`~cinema_dag.alerts.model.Alert`.

Security first: the size cap is checked on the raw bytes **before** any parsing, and the XML is
parsed with ``defusedxml`` with DOCTYPEs forbidden, so an entity-expansion ("billion laughs") or
external-entity payload is refused at its ``<!DOCTYPE`` — nothing is ever expanded. CAP never
needs a DOCTYPE.

Validation names every problem at once (all missing required elements, every invalid enumeration
value, bad date-times and geometry), so a person fixing a feed sees the whole list.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as SafeET

from cinema_dag.alerts.model import (
    Alert,
    AlertParseError,
    AlertRefusedError,
    AlertTooLargeError,
    AlertValidationError,
    Area,
    Circle,
    Info,
    Polygon,
    Reference,
    Resource,
    ValuePair,
)

__all__ = [
    "CAP_12",
    "CAP_DATETIME",
    "CAP_NAMESPACES",
    "DEFAULT_MAX_BYTES",
    "cap_version",
    "check_size",
    "parse_cap",
    "parse_references",
    "parse_xml",
]

CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_NAMESPACES = {CAP_12: "1.2", "urn:oasis:names:tc:emergency:cap:1.1": "1.1"}

#: Largest alert document accepted (bytes). Real CAP messages are a few kB; the cap keeps a
#: hostile or broken feed from costing memory before anything is parsed.
DEFAULT_MAX_BYTES = 1_000_000

#: CAP date-time: ``YYYY-MM-DDThh:mm:ss±hh:mm`` (CAP 1.2 forbids ``Z``; UTC is ``-00:00``).
CAP_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")

STATUS = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
              "CBRNE", "Other")
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
_CERTAINTIES_11 = (*CERTAINTIES, "Very Likely")  # CAP 1.0 value some 1.1 senders still use

ALERT_REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
INFO_REQUIRED = ("category", "event", "urgency", "severity", "certainty")


def check_size(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "alert document") -> bytes:
    """Return ``data`` if it is at most ``max_bytes`` long, else raise :class:`AlertTooLargeError`."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"`data` must be bytes; got {type(data).__name__}")
    if len(data) > max_bytes:
        raise AlertTooLargeError(f"{what} is {len(data)} bytes, over the {max_bytes}-byte cap: refused unparsed")
    return bytes(data)


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "alert document") -> Element:
    """Size-check, then parse with defusedxml (no DOCTYPE, no entities, no external references).

    Raises:
        AlertTooLargeError: over ``max_bytes`` (checked before parsing).
        AlertRefusedError: a DOCTYPE, entity declaration or external reference.
        AlertParseError: not well-formed XML.
    """
    data = check_size(data, max_bytes, what)
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise AlertRefusedError(f"{what} has a DOCTYPE (entity declarations): refused without expanding it") from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as err:
        raise AlertRefusedError(f"{what} declares entities or external references ({err}): refused") from None
    except SafeET.ParseError as err:
        raise AlertParseError(f"{what} is not well-formed XML: {err}") from None


def cap_version(root: Element) -> str | None:
    """``"1.2"`` / ``"1.1"`` for a CAP ``<alert>`` root, else ``None``."""
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    return CAP_NAMESPACES.get(namespace) if local == "alert" else None


def parse_references(text: str) -> tuple[list[Reference], list[str]]:
    """``references`` text → (references, problems). Each entry is ``sender,identifier,sent``."""
    refs, problems = [], []
    for entry in text.split():
        parts = entry.split(",")
        if len(parts) != 3 or not all(parts):
            problems.append(f"references entry {entry!r} is not 'sender,identifier,sent'")
            continue
        refs.append(Reference(*parts))
    return refs, problems


class _Reader:
    """Reads one CAP document's elements, collecting problems instead of stopping at the first."""

    def __init__(self, namespace: str, version: str):
        self.ns, self.version = namespace, version
        self.problems: list[str] = []
        self.missing: list[str] = []

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def text(self, parent: Element, name: str) -> str | None:
        child = parent.find(self.q(name))
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    def texts(self, parent: Element, name: str) -> list[str]:
        return [c.text.strip() for c in parent.findall(self.q(name)) if c.text and c.text.strip()]

    def required(self, parent: Element, name: str, where: str) -> str:
        value = self.text(parent, name)
        if value is None:
            path = f"{where}/{name}" if where else name
            self.missing.append(path)
            self.problems.append(f"{where or 'alert'}: missing {name}")
            return ""
        return value

    def enum(self, value: str | None, allowed: tuple[str, ...], name: str, where: str) -> None:
        if value and value not in allowed:
            self.problems.append(f"{where or 'alert'}: {name} {value!r} is not one of {', '.join(allowed)}")

    def datetime(self, value: str | None, name: str, where: str) -> None:
        if value and not CAP_DATETIME.match(value) and not (self.version == "1.1" and _is_utc_z(value)):
            self.problems.append(f"{where or 'alert'}: {name} {value!r} is not a CAP date-time "
                                 "(YYYY-MM-DDThh:mm:ss±hh:mm, no 'Z')")

    def pairs(self, parent: Element, name: str, where: str) -> list[ValuePair]:
        out = []
        for i, element in enumerate(parent.findall(self.q(name)), 1):
            value_name, value = self.text(element, "valueName"), self.text(element, "value")
            if value_name is None:
                self.missing.append(f"{where}/{name}[{i}]/valueName")
                self.problems.append(f"{where}: {name}[{i}] has no valueName")
                continue
            out.append(ValuePair(value_name, value or ""))
        return out

    def number(self, value: str | None, name: str, where: str) -> float | None:
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            self.problems.append(f"{where}: {name} {value!r} is not a number")
            return None


def _is_utc_z(value: str) -> bool:
    return bool(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", value))


def _latlon(text: str) -> tuple[float, float]:
    lat_text, lon_text = text.split(",")
    lat, lon = float(lat_text), float(lon_text)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("outside WGS-84 range")
    return lat, lon


def _polygon(text: str) -> Polygon:
    points = tuple(_latlon(p) for p in text.split())
    if len(points) < 4:
        raise ValueError(f"has {len(points)} points, needs at least 4")
    if points[0] != points[-1]:
        raise ValueError("is not closed (first point differs from last)")
    return Polygon(points)


def _circle(text: str) -> Circle:
    centre, radius = text.split()
    lat, lon = _latlon(centre)
    radius_km = float(radius)
    if radius_km < 0:
        raise ValueError("has a negative radius")
    return Circle(lat, lon, radius_km)


def _area(r: _Reader, element: Element, where: str) -> Area:
    description = r.required(element, "areaDesc", where)
    polygons, circles = [], []
    for i, text in enumerate(r.texts(element, "polygon"), 1):
        try:
            polygons.append(_polygon(text))
        except ValueError as err:
            r.problems.append(f"{where}: polygon[{i}] {err}")
    for i, text in enumerate(r.texts(element, "circle"), 1):
        try:
            circles.append(_circle(text))
        except ValueError as err:
            r.problems.append(f"{where}: circle[{i}] {text!r} is not 'lat,lon radius' ({err})")
    return Area(
        description=description,
        polygons=tuple(polygons),
        circles=tuple(circles),
        geocodes=tuple(r.pairs(element, "geocode", where)),
        altitude=r.number(r.text(element, "altitude"), "altitude", where),
        ceiling=r.number(r.text(element, "ceiling"), "ceiling", where),
    )


def _resource(r: _Reader, element: Element, where: str) -> Resource:
    description = r.required(element, "resourceDesc", where)
    mime_type = r.text(element, "mimeType")
    if mime_type is None and r.version == "1.2":  # optional in CAP 1.1
        r.missing.append(f"{where}/mimeType")
        r.problems.append(f"{where}: missing mimeType")
    size = r.text(element, "size")
    if size is not None and not size.isdigit():
        r.problems.append(f"{where}: size {size!r} is not a whole number of bytes")
        size = None
    return Resource(description=description, mime_type=mime_type or "", size=int(size) if size else None,
                    uri=r.text(element, "uri"), digest=r.text(element, "digest"))


def _info(r: _Reader, element: Element, where: str) -> Info:
    categories = r.texts(element, "category")
    if not categories:
        r.missing.append(f"{where}/category")
        r.problems.append(f"{where}: missing category")
    for category in categories:
        r.enum(category, CATEGORIES, "category", where)
    event = r.required(element, "event", where)
    urgency = r.required(element, "urgency", where)
    severity = r.required(element, "severity", where)
    certainty = r.required(element, "certainty", where)
    r.enum(urgency, URGENCIES, "urgency", where)
    r.enum(severity, SEVERITIES, "severity", where)
    r.enum(certainty, CERTAINTIES if r.version == "1.2" else _CERTAINTIES_11, "certainty", where)
    response_types = r.texts(element, "responseType")
    for response in response_types:
        r.enum(response, RESPONSE_TYPES, "responseType", where)
    times = {name: r.text(element, name) for name in ("effective", "onset", "expires")}
    for name, value in times.items():
        r.datetime(value, name, where)
    return Info(
        language=r.text(element, "language") or "en-US",
        categories=tuple(categories),
        event=event,
        response_types=tuple(response_types),
        urgency=urgency,
        severity=severity,
        certainty=certainty,
        audience=r.text(element, "audience"),
        event_codes=tuple(r.pairs(element, "eventCode", where)),
        **times,
        sender_name=r.text(element, "senderName"),
        headline=r.text(element, "headline"),
        description=r.text(element, "description"),
        instruction=r.text(element, "instruction"),
        web=r.text(element, "web"),
        contact=r.text(element, "contact"),
        parameters=tuple(r.pairs(element, "parameter", where)),
        resources=tuple(_resource(r, e, f"{where}/resource[{i}]")
                        for i, e in enumerate(element.findall(r.q("resource")), 1)),
        areas=tuple(_area(r, e, f"{where}/area[{i}]") for i, e in enumerate(element.findall(r.q("area")), 1)),
    )


def alert_from_element(root: Element, *, source: str = "") -> Alert:
    """A parsed CAP ``<alert>`` element → :class:`Alert` (validated)."""
    version = cap_version(root)
    if version is None:
        raise AlertParseError(f"{source or 'document'}: root element {root.tag!r} is not a CAP 1.2/1.1 <alert>")
    namespace = root.tag[1:].partition("}")[0]
    r = _Reader(namespace, version)
    values = {name: r.required(root, name, "") for name in ALERT_REQUIRED}
    r.enum(values["status"], STATUS, "status", "")
    r.enum(values["msgType"], MSG_TYPES, "msgType", "")
    r.enum(values["scope"], SCOPES, "scope", "")
    r.datetime(values["sent"], "sent", "")
    restriction, addresses = r.text(root, "restriction"), r.text(root, "addresses")
    if values["scope"] == "Restricted" and restriction is None:
        r.problems.append("alert: scope Restricted needs a restriction")
    if values["scope"] == "Private" and addresses is None:
        r.problems.append("alert: scope Private needs addresses")
    references, problems = parse_references(r.text(root, "references") or "")
    r.problems.extend(problems)
    infos = tuple(_info(r, e, f"info[{i}]") for i, e in enumerate(root.findall(r.q("info")), 1))
    if r.problems:
        raise AlertValidationError(values["identifier"] or None, r.problems, r.missing)
    return Alert(
        identifier=values["identifier"],
        sender=values["sender"],
        sent=values["sent"],
        status=values["status"],
        msg_type=values["msgType"],
        scope=values["scope"],
        format=f"cap-{version}",
        source=source,
        restriction=restriction,
        addresses=addresses,
        codes=tuple(r.texts(root, "code")),
        note=r.text(root, "note"),
        references=tuple(references),
        incidents=r.text(root, "incidents"),
        infos=infos,
    )


def parse_cap(data: bytes, *, source: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Alert:
    """Parse and validate one CAP 1.2/1.1 document.

    Args:
        data: the document's bytes.
        source: where it came from (used in messages and kept on the alert).
        max_bytes: size cap, checked before parsing. Default :data:`DEFAULT_MAX_BYTES`.

    Raises:
        AlertTooLargeError, AlertRefusedError, AlertParseError: see :func:`parse_xml`.
        AlertValidationError: naming every missing required element and invalid value.

    Example:
        >>> alert = parse_cap('''<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
        ...   <identifier>KR-1</identifier><sender>kma</sender><sent>2025-07-17T09:33:00+09:00</sent>
        ...   <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
        ...   <info><language>ko-KR</language><category>Met</category><event>호우</event>
        ...   <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
        ...   <area><areaDesc>서울</areaDesc></area></info></alert>'''.encode())
        >>> alert.identifier, alert.text_info.event, alert.area_description
        ('KR-1', '호우', '서울')
    """
    return alert_from_element(parse_xml(data, max_bytes=max_bytes, what=source or "alert document"), source=source)
