"""Korean disaster text messages (MOIS, ``DSSP-IF-00247``) → the CAP-shaped alert model.

A page of the public API is JSON (or XML) with ``header{resultCode, resultMsg, errorMsg}`` and
``body`` rows ``SN, CRT_DT, MSG_CN, RCPTN_RGN_NM, EMRG_STEP_NM, DST_SE_NM`` (research notes §1.3).
A ``resultCode`` other than ``"00"`` is an error page (``"30"``: key not registered, ``"31"``:
expired …) and raises :class:`~cinema_dag.alerts.model.MoisApiError` with the code and a hint.

Mapping a row to CAP follows the research notes' suggestion (§1.6 — not a published profile):
``identifier = KR-SAFETYDATA-<SN>``, ``sent`` = ``CRT_DT`` in KST, ``EMRG_STEP_NM`` → urgency and
severity, ``DST_SE_NM`` → ``event`` and ``eventCode KR-DST``, ``MSG_CN`` → description, its first
clause → headline, its action clauses (대피, 바랍니다 …) → instruction, the ``[기관]`` tag →
senderName, and each receiving region → one area.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from cinema_dag.alerts.cap import DEFAULT_MAX_BYTES, check_size, parse_xml
from cinema_dag.alerts.model import (
    Alert,
    AlertParseError,
    Area,
    Info,
    MoisApiError,
    Refusal,
    ValuePair,
)
from cinema_dag.disasters import classify_text

__all__ = [
    "MOIS_FIELDS",
    "MOIS_ID_PREFIX",
    "MOIS_SENDER",
    "STEP_SEVERITY",
    "headline_of",
    "instruction_of",
    "is_mois_xml",
    "mois_page_alerts",
    "mois_record_to_alert",
    "mois_xml_page",
    "parse_mois_page",
]

#: The record fields an alert needs (the API's spelling).
MOIS_FIELDS = ("SN", "CRT_DT", "MSG_CN", "RCPTN_RGN_NM", "EMRG_STEP_NM", "DST_SE_NM")
MOIS_SENDER = "urn:cinema-dag:kr-safetydata:DSSP-IF-00247"
MOIS_ID_PREFIX = "KR-SAFETYDATA-"
KST = "+09:00"

#: ``EMRG_STEP_NM`` → (urgency, severity).
STEP_SEVERITY = {
    "위급재난": ("Immediate", "Extreme"),
    "긴급재난": ("Immediate", "Severe"),
    "안전안내": ("Expected", "Moderate"),
}

#: CAP category per disaster type (research notes §1.4, a suggestion).
CATEGORY = {"flood": "Met", "landslide": "Geo", "drought": "Env", "wildfire": "Fire", "heavy_snow": "Met",
            "typhoon": "Met", "earthquake": "Geo"}

_SENDER_TAG = re.compile(r"\[([^\[\]]{1,30})\]")
_CLAUSE = re.compile(r"(?<=[.!?])\s+|/|\n+")  # not "2.2": a full stop ends a clause only before a space
_ACTION = ("대피", "바랍니다", "바람", "주세요", "하십시오", "하시기", "자제", "금지", "유의", "주의")
_OBSERVED = ("발생", "발령", "확산", "관측")


def _rows(page: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(page, dict):
        raise AlertParseError(f"{source}: a disaster-message page must be an object; got {type(page).__name__}")
    header = page.get("header") or page.get("response", {}).get("header")
    if not isinstance(header, dict) or "resultCode" not in header:
        raise AlertParseError(f"{source}: no header.resultCode: not a disaster-message API page")
    code = str(header["resultCode"]).strip()
    if code != "00":
        raise MoisApiError(code, str(header.get("resultMsg") or ""), header.get("errorMsg"))
    body = page.get("body")
    if body is None:
        return []
    if isinstance(body, dict):  # {"items": [...]} / {"item": {...}} variants
        body = body.get("items", body.get("item", []))
        if isinstance(body, dict):
            body = body.get("item", [body])
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        raise AlertParseError(f"{source}: body must be a list of records; got {type(body).__name__}")
    return body


def is_mois_xml(root: Element) -> bool:
    """Whether a parsed XML document looks like an API page (a ``<header>`` with ``<resultCode>``)."""
    return any(e.tag.rpartition("}")[2] == "resultCode" for e in root.iter())


def mois_xml_page(root: Element, source: str = "") -> dict[str, Any]:
    """An XML page as the JSON shape: ``<response><header>…</header><body><item>…</item>…</body>``."""

    def local(tag: str) -> str:
        return tag.rpartition("}")[2]

    def flat(element) -> dict[str, Any]:
        return {local(c.tag): (c.text or "").strip() for c in element}

    header = next((e for e in root.iter() if local(e.tag) == "header"), None)
    body = next((e for e in root.iter() if local(e.tag) == "body"), None)
    if header is None:
        raise AlertParseError(f"{source}: XML without <header>: not a disaster-message API page")
    rows = []
    if body is not None:
        rows = [flat(row) for row in body.iter() if any(local(c.tag) == "SN" for c in row)]
    return {"header": flat(header), "body": rows}


def mois_page_alerts(page: dict[str, Any], source: str = "") -> list[Alert | Refusal]:
    """A decoded page (JSON shape) → an alert per record, a :class:`Refusal` per bad record."""
    results: list[Alert | Refusal] = []
    for i, row in enumerate(_rows(page, source)):
        where = f"{source}#{row.get('SN', i)}" if isinstance(row, dict) else f"{source}#{i}"
        try:
            results.append(mois_record_to_alert(row, source=where))
        except AlertParseError as err:
            sn = row.get("SN") if isinstance(row, dict) else None
            results.append(Refusal(source=where, reason=str(err),
                                   identifier=f"{MOIS_ID_PREFIX}{sn}" if sn not in (None, "") else None))
    return results


def parse_mois_page(data: bytes, *, source: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> list[Alert | Refusal]:
    """One API page → an alert per record (a :class:`Refusal` for a record missing fields).

    Raises:
        MoisApiError: the page is an API error (bad or expired key …), naming the code.
        AlertParseError: neither a JSON nor an XML page of the API.
        AlertTooLargeError: over ``max_bytes`` (checked before parsing).
    """
    data = check_size(data, max_bytes, source or "disaster-message page")
    text = data.lstrip()
    if text.startswith(b"<"):
        page = mois_xml_page(parse_xml(data, max_bytes=max_bytes, what=source or "disaster-message page"), source)
    else:
        try:
            page = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise AlertParseError(f"{source}: not JSON or XML: {err}") from None
    return mois_page_alerts(page, source)


def _sent(crt_dt: str) -> str:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(crt_dt.strip(), fmt).strftime("%Y-%m-%dT%H:%M:%S") + KST
        except ValueError:
            continue
    raise AlertParseError(f"CRT_DT {crt_dt!r} is not a date-time like '2025/06/25 06:03:02'")


def _clauses(message: str) -> list[str]:
    text = _SENDER_TAG.sub(" ", message)
    return [c.strip(" ,") for c in _CLAUSE.split(text) if c and c.strip(" ,")]


def headline_of(message: str, max_chars: int = 60) -> str:
    """The message's first clause without ``[기관]`` tags, at most ``max_chars`` characters.

    Example:
        >>> headline_of("왕숙천(진관교) 홍수주의보, 저지대 주민들께서는 … 유의바랍니다")
        '왕숙천(진관교) 홍수주의보'
    """
    clauses = _clauses(message)
    first = clauses[0] if clauses else message.strip()
    first = re.split(r"[,，]", first, maxsplit=1)[0].strip()
    return first if len(first) <= max_chars else first[: max_chars - 1].rstrip() + "…"


def instruction_of(message: str) -> str | None:
    """The clauses that tell people what to do (대피, 바랍니다, 자제, 금지 …), or ``None``.

    The headline piece (:func:`headline_of`: the first clause up to its first comma) is left out,
    since the caption shows it just above: "왕숙천(진관교) 홍수주의보, 저지대 주민들께서는 … 유의바랍니다"
    gives "저지대 주민들께서는 … 유의바랍니다".
    """
    clauses = _clauses(message)
    picks = []
    for k, clause in enumerate(clauses):
        if not any(word in clause for word in _ACTION):
            continue
        pieces = [p.strip() for p in re.split(r"[,，]\s*", clause) if p.strip()]
        if k == 0 and len(pieces) > 1 and not any(word in pieces[0] for word in _ACTION):
            clause = ", ".join(pieces[1:])  # the first piece is the headline: the caption shows it already
        picks.append(clause)
    return " ".join(picks) or None


def mois_record_to_alert(row: dict[str, Any], *, source: str = "") -> Alert:
    """One API record → :class:`Alert` (``format="mois"``, the row kept in ``mois_record``).

    Raises:
        AlertParseError: naming the missing fields or the bad date.
    """
    if not isinstance(row, dict):
        raise AlertParseError(f"record must be an object; got {type(row).__name__}")
    missing = [name for name in MOIS_FIELDS if row.get(name) in (None, "")]
    if missing:
        raise AlertParseError(f"record is missing {', '.join(missing)}")
    message = str(row["MSG_CN"]).strip()
    kind = str(row["DST_SE_NM"]).strip()
    step = str(row["EMRG_STEP_NM"]).strip()
    urgency, severity = STEP_SEVERITY.get(step, ("Unknown", "Unknown"))
    named = classify_text(kind) or classify_text(message)  # only for the CAP category
    tags = _SENDER_TAG.findall(message)
    regions = [r.strip() for r in str(row["RCPTN_RGN_NM"]).split(",") if r.strip()]
    info = Info(
        language="ko-KR",
        categories=(CATEGORY.get(named.key, "Other") if named else "Other",),
        event=kind,  # as the API gives it, even "기타": classification reads the text too
        urgency=urgency,
        severity=severity,
        certainty="Observed" if any(w in message for w in _OBSERVED) else "Likely",
        event_codes=(ValuePair("KR-DST", kind), ValuePair("KR-EMRG-STEP", step)),
        sender_name=tags[0] if tags else None,
        headline=headline_of(message),
        description=message,
        instruction=instruction_of(message),
        areas=tuple(Area(description=region) for region in regions),
    )
    return Alert(
        identifier=f"{MOIS_ID_PREFIX}{row['SN']}",
        sender=MOIS_SENDER,
        sent=_sent(str(row["CRT_DT"])),
        status="Actual",
        msg_type="Alert",
        scope="Public",
        format="mois",
        source=source,
        infos=(info,),
        mois_record={k: row[k] for k in row},
    )
