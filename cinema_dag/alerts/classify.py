"""Which of the seven disaster types an alert is about, and the keywords its picture gets.

Evidence is read in a fixed order, Korean info block first: ``eventCode`` values (the OASIS Event
Terms List code ``OET-081`` = flood, and system codes such as ``KR-DST``, where a MOIS record's
``DST_SE_NM`` lives), then ``event``, ``headline``, ``description`` and ``instruction``; each is
matched with :func:`cinema_dag.disasters.classify_text` (Korean and English names and synonyms).
The first field that names a type decides. So a MOIS record typed ``기타`` ("other") whose text says
"홍수주의보" is a flood, and a traffic notice that names no hazard gets ``None`` with a reason —
it is recorded and starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from cinema_dag.alerts.model import Alert, Info
from cinema_dag.disasters import DISASTER_KEYS, DISASTER_TYPES, classify_text

__all__ = ["OET_CODES", "SEVERITY_WORDS", "Classification", "alert_keywords", "classify_alert", "severity_keyword"]

#: OASIS Event Terms List codes confirmed in the research notes (others were not verified).
OET_CODES = {"OET-081": "flood"}

#: Event-code names that carry no hazard (skipped).
_NON_HAZARD_CODES = {"KR-EMRG-STEP"}

#: CAP severity → an English intensity word for the prompt ("severe flood").
SEVERITY_WORDS = {"Extreme": "extreme", "Severe": "severe", "Moderate": "moderate", "Minor": "minor"}


@dataclass(frozen=True)
class Classification:
    """Attributes:
        disaster_type: a partition key (``"flood"``) or ``None``.
        reason: which field decided (``"event '호우'"``) or why nothing matched.
        keywords: see :func:`alert_keywords` (empty when unclassified).
    """

    disaster_type: str | None
    reason: str
    keywords: tuple[str, ...] = ()


def _ordered_infos(alert: Alert) -> list[Info]:
    first = alert.text_info
    return ([first] if first else []) + [i for i in alert.infos if i is not first]


def _evidence(info: Info) -> list[tuple[str, str]]:
    pairs = [(f"eventCode {code.name}", code.value) for code in info.event_codes
             if code.name not in _NON_HAZARD_CODES and code.value]
    return pairs + info.texts()


def severity_keyword(severity: str | None, disaster_type: str) -> str | None:
    """``"severe flood"`` for a Severe flood alert; ``None`` for Unknown/absent severity."""
    word = SEVERITY_WORDS.get(severity or "")
    return f"{word} {DISASTER_TYPES[disaster_type].english}" if word else None


def alert_keywords(alert: Alert, disaster_type: str) -> tuple[str, ...]:
    """The words for the prompt generator: each info's ``event``, the type's names that the texts
    use (Korean and English, e.g. "극한호우"), then the severity phrase ("severe flood").

    Deterministic and de-duplicated (case-insensitively), so an Update with the same content has
    the same keywords — that is how the sensor decides whether an Update needs a new video.
    """
    disaster = DISASTER_TYPES[disaster_type]
    words: list[str] = []
    for info in _ordered_infos(alert):
        words.append(info.event)
        text = " ".join(t for _, t in info.texts()).lower()
        words.extend(name for name in disaster.names if name.lower() in text)
    severity = severity_keyword(alert.severity, disaster_type)
    if severity:
        words.append(severity)
    seen: set[str] = set()
    unique = []
    for word in (w.strip() for w in words if w and w.strip()):
        if word.lower() not in seen and word.lower() not in ("기타", "other"):
            seen.add(word.lower())
            unique.append(word)
    return tuple(unique)


def classify_alert(alert: Alert) -> Classification:
    """The disaster type of ``alert`` from its event codes, event and texts (see module docstring)."""
    infos = _ordered_infos(alert)
    if not infos:
        return Classification(None, f"msgType {alert.msg_type} without info blocks: no event to classify")
    for info in infos:
        for field, value in _evidence(info):
            code_type = OET_CODES.get(value.strip().upper()) if field.startswith("eventCode") else None
            disaster = DISASTER_TYPES[code_type] if code_type else classify_text(value)
            if disaster is not None:
                shown = value if len(value) <= 40 else value[:39] + "…"
                return Classification(disaster.key, f"{field} {shown!r} names {disaster.key}",
                                      alert_keywords(alert, disaster.key))
    events = ", ".join(sorted({repr(i.event) for i in infos}))
    return Classification(None, f"no disaster type: event {events} and the texts name none of "
                                f"{', '.join(DISASTER_KEYS)}")
