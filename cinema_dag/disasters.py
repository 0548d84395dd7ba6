"""The seven disaster types: names, Korean vocabulary, and what moves in their pictures.

One table drives partitions, prompt keywords, alert classification, scraping keywords and the
motion model, so a type is never spelled two ways. Keys are snake_case (Dagster partition keys).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DISASTER_TYPES",
    "DISASTER_KEYS",
    "DisasterType",
    "UnknownDisasterTypeError",
    "get_disaster",
    "classify_text",
]


class UnknownDisasterTypeError(ValueError):
    """Raised when a name is not one of the seven disaster types."""


@dataclass(frozen=True)
class DisasterType:
    """One disaster type.

    Attributes:
        key: snake_case partition key, e.g. ``"heavy_snow"``.
        english: English name used in prompts (``"heavy snow"``).
        korean: the main Korean name (``"대설"``).
        synonyms: further Korean and English words that name this type in alerts and on web pages.
        motion_prompts: GroundingDINO phrases for the regions that move in a picture of it.
        motion: the kind of motion the engine gives those regions (see ``cinema_dag.cinemagraph``).
        scene_keywords: words for the prompt generator and the scraper (what such a scene shows).
    """

    key: str
    english: str
    korean: str
    synonyms: tuple[str, ...]
    motion_prompts: tuple[str, ...]
    motion: str
    scene_keywords: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every word that names this type, Korean and English, main name first."""
        return (self.korean, self.english, *self.synonyms)


DISASTER_TYPES: dict[str, DisasterType] = {
    d.key: d
    for d in (
        DisasterType(
            key="flood",
            english="flood",
            korean="홍수",
            synonyms=("호우", "집중호우", "극한호우", "폭우", "침수", "하천범람", "범람", "heavy rain", "inundation"),
            motion_prompts=("water", "river", "flood water"),
            motion="flow",
            scene_keywords=("flooded street", "muddy river", "submerged cars", "overflowing stream"),
        ),
        DisasterType(
            key="landslide",
            english="landslide",
            korean="산사태",
            # Not "사태" alone: it means "situation" far more often ("비상사태", "코로나 사태").
            synonyms=("토사유출", "산사태위기경보", "mudslide", "debris flow", "landslip"),
            motion_prompts=("mud", "debris", "muddy water"),
            motion="slide",
            scene_keywords=("collapsed hillside", "mud and rocks", "broken trees", "buried road"),
        ),
        DisasterType(
            key="drought",
            english="drought",
            korean="가뭄",
            synonyms=("제한급수", "기상가뭄", "물부족", "dry spell"),
            motion_prompts=("dust", "heat haze", "dry ground"),
            motion="shimmer",
            scene_keywords=("cracked dry earth", "dried reservoir", "withered crops", "dusty field"),
        ),
        DisasterType(
            key="wildfire",
            english="wildfire",
            korean="산불",
            synonyms=("산림화재", "산불위기경보", "forest fire", "bushfire"),
            motion_prompts=("fire", "smoke", "flame"),
            motion="rise",
            scene_keywords=("burning pine forest", "thick smoke", "orange flames", "scorched hills"),
        ),
        DisasterType(
            key="heavy_snow",
            english="heavy snow",
            korean="대설",
            synonyms=("폭설", "습설", "대설주의보", "대설경보", "snowstorm", "blizzard", "snowfall", "winter storm"),
            motion_prompts=("snow", "falling snow", "sky"),
            motion="fall",
            scene_keywords=("snow-covered road", "collapsed greenhouse", "buried cars", "falling snow"),
        ),
        DisasterType(
            key="typhoon",
            english="typhoon",
            korean="태풍",
            # Not "강풍" (strong wind) or "풍랑" (high seas): their own KMA advisories, classed as
            # other hazards (research notes §1.4); a typhoon message says "태풍" anyway.
            synonyms=("태풍경보", "태풍주의보", "hurricane", "tropical storm", "tropical cyclone"),
            motion_prompts=("waves", "sea", "rain", "clouds"),
            motion="storm",
            scene_keywords=("huge waves", "bent trees", "storm clouds", "flooded harbour"),
        ),
        DisasterType(
            key="earthquake",
            english="earthquake",
            korean="지진",
            # Not "규모" (magnitude) alone: "대규모" (large-scale) is everywhere; KMA texts say "지진" too.
            synonyms=("지진발생", "여진", "quake", "seismic"),
            motion_prompts=("dust", "smoke"),
            motion="shake",
            scene_keywords=("collapsed building", "cracked road", "rubble", "fallen debris"),
        ),
    )
}

DISASTER_KEYS: tuple[str, ...] = tuple(DISASTER_TYPES)


def get_disaster(name: str) -> DisasterType:
    """Look up a disaster type by key, English or Korean name, or synonym.

    Raises:
        UnknownDisasterTypeError: naming the value and listing the valid keys.
    """
    wanted = name.strip().lower().replace("-", "_")
    if wanted in DISASTER_TYPES:
        return DISASTER_TYPES[wanted]
    for disaster in DISASTER_TYPES.values():
        if any(wanted == n.lower().replace("-", "_") for n in disaster.names):
            return disaster
        if wanted == disaster.english.replace(" ", "_"):
            return disaster
    raise UnknownDisasterTypeError(
        f"Unknown disaster type {name!r}; valid types are: {', '.join(DISASTER_KEYS)}"
    )


def classify_text(text: str) -> DisasterType | None:
    """The disaster type a free text names, or ``None``.

    The earliest mention wins, so "호우경보, 산사태 … 대피" is a flood (heavy rain) alert; ties at the
    same position go to the longer word ("지진해일" is not matched as "지진" only by accident).
    """
    lowered = text.lower()
    best: tuple[int, int, DisasterType] | None = None
    for disaster in DISASTER_TYPES.values():
        for word in disaster.names:
            pos = lowered.find(word.lower())
            if pos < 0:
                continue
            candidate = (pos, -len(word), disaster)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    return None if best is None else best[2]
