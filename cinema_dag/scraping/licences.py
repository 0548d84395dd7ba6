"""Which licence a web page states: KOGL (공공누리) types, Creative Commons, or "all rights reserved".

Korean public sites show the KOGL type as a mark image (``img_opentype01.png`` …
``new_img_opentype04.png``), as a link to ``kogl.or.kr/info/licenseType1.do`` (or the older
``license_info/by-nc.do``), or as text ("공공누리 제1유형", "제 4유형: 출처표시+상업적이용금지+변경금지").
A page may show several marks (a site-wide footer and the post's own mark), so every one found is
returned and the *most restrictive* is the page's licence: reusing a photo under a looser licence
than the post allows is the mistake that matters.

Identifiers: ``KOGL-0`` … ``KOGL-4``; SPDX-like ``CC-BY-4.0``, ``CC-BY-NC-SA-2.0``, ``CC0-1.0``,
``PDM-1.0``; ``all-rights-reserved`` for explicit prohibitions (news photos "재판매 및 DB 금지",
"AI 학습 이용 금지", "무단 전재 … 금지").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["ALL_RIGHTS_RESERVED", "detect_licences", "most_restrictive"]

ALL_RIGHTS_RESERVED = "all-rights-reserved"

_KOGL_MARK = re.compile(r"img_opentype0?([0-4])\b", re.IGNORECASE)
_KOGL_LINK = re.compile(r"kogl\.or\.kr/info/licen[cs]eType([0-4])\.do", re.IGNORECASE)
_KOGL_OLD_LINK = re.compile(r"kogl\.or\.kr/open/info/license_info/(by(?:-nc)?(?:-nd)?)\.do", re.IGNORECASE)
_KOGL_OLD_TYPES = {"by": 1, "by-nc": 2, "by-nd": 3, "by-nc-nd": 4}
# "공공누리 제1유형", "공공누리 제 4 유형", "KOGL Type 1"; the bare "제1유형" only next to 공공누리/KOGL.
_KOGL_TEXT = re.compile(
    r"(?:공공누리|KOGL)[^0-9가-힣]{0,20}(?:제\s*)?([0-4])\s*유형"
    r"|(?:공공누리|KOGL)\s*Type\s*([0-4])",
    re.IGNORECASE,
)
_CC_LINK = re.compile(r"creativecommons\.org/licenses/(by(?:-(?:nc|nd|sa))*)/(\d\.\d)", re.IGNORECASE)
_CC_ZERO = re.compile(r"creativecommons\.org/publicdomain/zero/(\d\.\d)", re.IGNORECASE)
_CC_MARK = re.compile(r"creativecommons\.org/publicdomain/mark/(\d\.\d)", re.IGNORECASE)
_CC_TEXT = re.compile(r"\bCC[ -]?(BY(?:[ -](?:NC|ND|SA))*)(?:[ -](\d\.\d))?\b")
_CC0_TEXT = re.compile(r"\bCC0(?:[ -](\d\.\d))?\b")
_RESERVED = re.compile(
    r"재판매\s*및\s*DB\s*금지|AI\s*학습[^.。\n]{0,12}금지|무단\s*전재[^.。\n]{0,20}금지|All rights reserved",
    re.IGNORECASE,
)


def _restriction(licence: str) -> int:
    """A rank: higher is more restrictive (conditions on reuse)."""
    if licence == ALL_RIGHTS_RESERVED:
        return 100
    if licence.startswith("KOGL-"):
        return {0: 0, 1: 1, 2: 3, 3: 3, 4: 5}[int(licence[5:])]
    if licence.startswith(("CC0", "PDM")):
        return 0
    parts = licence.split("-")
    # CC-BY = 1, each of NC / ND / SA adds a condition; NC and ND weigh more than SA.
    return 1 + 2 * ("NC" in parts) + 2 * ("ND" in parts) + ("SA" in parts)


def most_restrictive(licences: Iterable[str]) -> str | None:
    """The most restrictive of ``licences`` (ties: the first in sorted order), or ``None`` if empty."""
    found = sorted(set(licences))
    if not found:
        return None
    return max(found, key=_restriction)


def detect_licences(text: str, urls: Iterable[str] = ()) -> list[str]:
    """Every licence that a page's text and its link/image URLs state, sorted, without repeats.

    Args:
        text: the page's visible text plus image ``alt``/``title`` texts.
        urls: ``href`` and ``src`` values of the page (licence links and mark images).

    Returns:
        Licence identifiers, e.g. ``["CC-BY-4.0", "KOGL-1"]``; empty when the page states none.

    Example:
        >>> detect_licences("본 저작물은 공공누리 제1유형 조건에 따라 이용할 수 있습니다")
        ['KOGL-1']
        >>> detect_licences("", ["https://creativecommons.org/licenses/by-sa/4.0/"])
        ['CC-BY-SA-4.0']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    found: set[str] = set()
    for url in urls:
        for m in _KOGL_MARK.finditer(url):
            found.add(f"KOGL-{m.group(1)}")
        for m in _KOGL_LINK.finditer(url):
            found.add(f"KOGL-{m.group(1)}")
        for m in _KOGL_OLD_LINK.finditer(url):
            found.add(f"KOGL-{_KOGL_OLD_TYPES[m.group(1).lower()]}")
        for m in _CC_LINK.finditer(url):
            found.add(f"CC-{m.group(1).upper()}-{m.group(2)}")
        for m in _CC_ZERO.finditer(url):
            found.add(f"CC0-{m.group(1)}")
        for m in _CC_MARK.finditer(url):
            found.add(f"PDM-{m.group(1)}")
    for m in _KOGL_TEXT.finditer(text):
        found.add(f"KOGL-{m.group(1) or m.group(2)}")
    for m in _CC_TEXT.finditer(text):
        name = re.sub(r"[ -]+", "-", m.group(1).upper())
        found.add(f"CC-{name}-{m.group(2)}" if m.group(2) else f"CC-{name}")
    for m in _CC0_TEXT.finditer(text):
        found.add(f"CC0-{m.group(1) or '1.0'}")
    if _RESERVED.search(text):
        found.add(ALL_RIGHTS_RESERVED)
    return sorted(found)
