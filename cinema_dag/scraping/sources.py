"""Where to look for Korean disaster photographs, per disaster type.

The defaults name public Korean government sources (research notes §2.2): the Korea Forest Service
press releases (wildfire, landslide), the MOIS press releases (typhoon, flood, heavy snow, drought,
earthquake), the national disaster-safety portal's action guides, and the KOGL (공공누리) portal,
whose image search can be filtered to public-licence works. The URLs are entry points to crawl, not
promises about what a page holds today: the crawl fetches and obeys each site's ``robots.txt`` at
run time, and records the licence each page states. They are never contacted by the tests.

korea.kr policy-news photos are left out on purpose: their footer declares the photos third-party
copyrighted, and news-agency archives mark theirs "재판매 및 DB 금지".
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from cinema_dag.disasters import DISASTER_KEYS, get_disaster

__all__ = [
    "Source",
    "DEFAULT_SOURCES",
    "default_sources",
    "default_start_urls",
    "default_allowed_domains",
    "keywords_for",
]


@dataclass(frozen=True)
class Source:
    """One place to start a crawl.

    Attributes:
        name: a short human name (``"산림청 보도자료"``).
        url: the start URL.
        allowed_domains: hosts the crawl may follow pages on (subdomains included, as in Scrapy).
        note: what to expect there (licence caveats).
    """

    name: str
    url: str
    allowed_domains: tuple[str, ...]
    note: str = ""


def _kogl_search(korean: str) -> Source:
    # The KOGL portal indexes public-licence works; the image division can be filtered by type.
    return Source(
        name=f"공공누리 이미지 검색: {korean}",
        url=f"https://www.kogl.or.kr/recommend/recommendDivList.do?division=img&searchKeyword={quote(korean)}",
        allowed_domains=("kogl.or.kr",),
        note="each work states its KOGL type; only Type 0/1 allow modification and commercial use",
    )


_FOREST_PRESS = Source(
    name="산림청 보도자료",
    url="https://www.forest.go.kr/kfsweb/cop/bbs/selectBoardList.do?bbsId=BBSMSTR_1036&mn=NKFS_04_02_01",
    allowed_domains=("forest.go.kr",),
    note="press photos credited 산림청 제공; check the KOGL mark per post",
)
_MOIS_PRESS = Source(
    name="행정안전부 보도자료",
    url="https://www.mois.go.kr/frt/bbs/type010/commonSelectBoardList.do?bbsId=BBSMSTR_000000000008",
    allowed_domains=("mois.go.kr",),
    note="response photos attached to press releases; check the KOGL mark per item",
)
_SAFEKOREA_GUIDES = Source(
    name="국민재난안전포털 국민행동요령",
    url="https://www.safekorea.go.kr/idsiSFK/neo/sfk/cs/contents/prevent/prevent02.html?menuSeq=126",
    allowed_domains=("safekorea.go.kr",),
    note="action-guide illustrations; some old portal addresses now redirect to its successor",
)

DEFAULT_SOURCES: dict[str, tuple[Source, ...]] = {
    "flood": (_MOIS_PRESS, _SAFEKOREA_GUIDES, _kogl_search("홍수")),
    "landslide": (_FOREST_PRESS, _SAFEKOREA_GUIDES, _kogl_search("산사태")),
    "drought": (_MOIS_PRESS, _kogl_search("가뭄")),
    "wildfire": (_FOREST_PRESS, _kogl_search("산불")),
    "heavy_snow": (_MOIS_PRESS, _SAFEKOREA_GUIDES, _kogl_search("대설")),
    "typhoon": (_MOIS_PRESS, _SAFEKOREA_GUIDES, _kogl_search("태풍")),
    "earthquake": (_MOIS_PRESS, _SAFEKOREA_GUIDES, _kogl_search("지진")),
}
if set(DEFAULT_SOURCES) != set(DISASTER_KEYS):  # pragma: no cover - guards a table edit
    raise RuntimeError(f"DEFAULT_SOURCES keys {sorted(DEFAULT_SOURCES)} != {sorted(DISASTER_KEYS)}")


def default_sources(disaster: str) -> tuple[Source, ...]:
    """The default sources of one disaster type (key, Korean or English name)."""
    return DEFAULT_SOURCES[get_disaster(disaster).key]


def default_start_urls(disaster: str) -> list[str]:
    """The start URLs of the default sources of one disaster type."""
    return [s.url for s in default_sources(disaster)]


def default_allowed_domains(disaster: str) -> list[str]:
    """The hosts the default sources of one disaster type may be crawled on, without repeats."""
    return sorted({d for s in default_sources(disaster) for d in s.allowed_domains})


def keywords_for(disaster: str) -> tuple[str, ...]:
    """Korean and English words that mark a page or image as being about this disaster type.

    Every name of the type (``names``: Korean name, English name, synonyms) then its
    ``scene_keywords``, without repeats, order kept.
    """
    d = get_disaster(disaster)
    return tuple(dict.fromkeys((*d.names, *d.scene_keywords)))
