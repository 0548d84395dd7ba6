"""One alert model for CAP 1.2 / 1.1 documents and Korean disaster-message (MOIS) records.

The dataclasses follow CAP's structure — one :class:`Alert` with zero or more :class:`Info` blocks
(one per language), each with :class:`Resource` and :class:`Area` entries — so a MOIS record is
adapted into the same shape (see :mod:`cinema_dag.alerts.mois`) and everything downstream
(classification, the sensor, CAP out) reads one model. Field names are snake_case versions of the
CAP element names; ``to_dict``/``from_dict`` round-trip through JSON (run config, CLI output).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

__all__ = [
    "KOREAN_LANGUAGES",
    "Alert",
    "AlertError",
    "AlertParseError",
    "AlertRefusedError",
    "AlertTooLargeError",
    "AlertValidationError",
    "Area",
    "Circle",
    "Info",
    "MoisApiError",
    "Polygon",
    "Reference",
    "Refusal",
    "Resource",
    "SourceError",
    "ValuePair",
]

#: ``language`` values taken as Korean (RFC 3066 tags are case-insensitive).
KOREAN_LANGUAGES = ("ko", "ko-kr", "kor")


# -- errors --------------------------------------------------------------------------------------


class AlertError(ValueError):
    """Base class: an alert document that cannot become an :class:`Alert`."""


class AlertTooLargeError(AlertError):
    """The document is larger than the size cap (refused before parsing)."""


class AlertRefusedError(AlertError):
    """The document uses XML features refused for security (DOCTYPE, entities, external references)."""


class AlertParseError(AlertError):
    """The bytes are not a well-formed alert document (not XML/JSON, or an unknown root element)."""


class AlertValidationError(AlertError):
    """A well-formed alert that lacks required elements or has invalid values.

    Attributes:
        problems: one line per problem, e.g. ``"info[1]: missing category"``; ``missing`` lists
            only the absent elements (``"info[1]/category"``).
    """

    def __init__(self, identifier: str | None, problems: list[str], missing: list[str]):
        self.identifier = identifier
        self.problems = list(problems)
        self.missing = list(missing)
        who = f"alert {identifier!r}" if identifier else "alert"
        super().__init__(f"{who} is invalid: " + "; ".join(problems))


class SourceError(AlertError):
    """A source could not be read (network, size, content type, host not allowed, missing file)."""


class MoisApiError(SourceError):
    """The disaster-message API answered with an error code instead of records.

    Attributes:
        code: the API's ``resultCode`` (``"30"`` = service key not registered, ``"31"`` = expired …).
        message: ``resultMsg``; ``detail``: ``errorMsg`` (often Korean).
    """

    #: Codes seen in captured responses, with what an operator should do.
    HINTS: ClassVar[dict[str, str]] = {
        "30": "the service key is not registered: check the key in the environment variable",
        "31": "the service key has expired: renew it on the data portal",
        "22": "the daily request limit is exceeded: wait or raise the quota",
        "12": "the API endpoint is not available: check the URL",
    }

    def __init__(self, code: str, message: str, detail: str | None = None):
        self.code, self.message, self.detail = code, message, detail
        hint = self.HINTS.get(code, "see the API's documentation for this code")
        extra = f" ({detail})" if detail else ""
        super().__init__(f"disaster-message API error {code}: {message}{extra} — {hint}")


# -- model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValuePair:
    """A CAP ``valueName``/``value`` pair (eventCode, parameter, geocode)."""

    name: str
    value: str


@dataclass(frozen=True)
class Circle:
    """A CAP circle: WGS-84 centre and radius in kilometres (0 for a point, e.g. an epicentre)."""

    lat: float
    lon: float
    radius_km: float

    def to_cap(self) -> str:
        return f"{self.lat:g},{self.lon:g} {self.radius_km:g}"


@dataclass(frozen=True)
class Polygon:
    """A closed CAP polygon: ``(lat, lon)`` points, first equal to last, at least four."""

    points: tuple[tuple[float, float], ...]

    def to_cap(self) -> str:
        return " ".join(f"{lat:g},{lon:g}" for lat, lon in self.points)


@dataclass(frozen=True)
class Area:
    description: str
    polygons: tuple[Polygon, ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[ValuePair, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True)
class Resource:
    description: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Info:
    """One CAP ``info`` block (one language)."""

    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str = "en-US"  # CAP's default when <language> is absent
    response_types: tuple[str, ...] = ()
    audience: str | None = None
    event_codes: tuple[ValuePair, ...] = ()
    effective: str | None = None
    onset: str | None = None
    expires: str | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[ValuePair, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()

    @property
    def is_korean(self) -> bool:
        return self.language.strip().lower() in KOREAN_LANGUAGES

    def texts(self) -> list[tuple[str, str]]:
        """``(field, text)`` for the free-text fields, in the order classification reads them."""
        pairs = [("event", self.event), ("headline", self.headline), ("description", self.description),
                 ("instruction", self.instruction)]
        return [(name, text) for name, text in pairs if text]


@dataclass(frozen=True)
class Reference:
    """An earlier message named in ``references``: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: str

    def to_cap(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class Alert:
    """An alert message, from CAP or adapted from a MOIS record.

    Attributes:
        format: ``"cap-1.2"``, ``"cap-1.1"`` or ``"mois"``.
        source: where it came from (file path, URL, ``URL#SN``).
        mois_record: the original MOIS row (fields as the API spells them), for MOIS alerts.
    """

    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    scope: str
    format: str
    source: str = ""
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[Reference, ...] = ()
    incidents: str | None = None
    infos: tuple[Info, ...] = ()
    mois_record: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def text_info(self) -> Info | None:
        """The info block to read text from: the first Korean one, else the first one."""
        for info in self.infos:
            if info.is_korean:
                return info
        return self.infos[0] if self.infos else None

    @property
    def severity(self) -> str | None:
        info = self.text_info
        return info.severity if info else None

    @property
    def area_description(self) -> str:
        """Every area of the text info, ``"; "``-joined (what the UI and the caption show)."""
        info = self.text_info
        return "; ".join(a.description for a in info.areas) if info else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        """Rebuild an alert from :meth:`to_dict` output (e.g. after a JSON round trip)."""
        def info(d: dict[str, Any]) -> Info:
            return Info(**{
                **d,
                "categories": tuple(d.get("categories", ())),
                "response_types": tuple(d.get("response_types", ())),
                "event_codes": tuple(ValuePair(**p) for p in d.get("event_codes", ())),
                "parameters": tuple(ValuePair(**p) for p in d.get("parameters", ())),
                "resources": tuple(Resource(**r) for r in d.get("resources", ())),
                "areas": tuple(area(a) for a in d.get("areas", ())),
            })

        def area(d: dict[str, Any]) -> Area:
            return Area(
                description=d["description"],
                polygons=tuple(Polygon(tuple(tuple(p) for p in poly["points"])) for poly in d.get("polygons", ())),
                circles=tuple(Circle(**c) for c in d.get("circles", ())),
                geocodes=tuple(ValuePair(**g) for g in d.get("geocodes", ())),
                altitude=d.get("altitude"),
                ceiling=d.get("ceiling"),
            )

        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown Alert fields {sorted(unknown)}")
        return cls(**{
            **data,
            "codes": tuple(data.get("codes", ())),
            "references": tuple(Reference(**r) for r in data.get("references", ())),
            "infos": tuple(info(i) for i in data.get("infos", ())),
        })


@dataclass(frozen=True)
class Refusal:
    """An input that gave no alert, and why (recorded, never raised past the caller).

    Attributes:
        source: the file, URL or ``URL#record``.
        reason: one line naming the problem (missing elements, refused XML, API error …).
        identifier: the alert's identifier when it could be read.
        fatal: ``True`` when the input could not be read or parsed at all (the CLI's exit status).
    """

    source: str
    reason: str
    identifier: str | None = None
    fatal: bool = False
