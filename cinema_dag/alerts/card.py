"""The accessible alert card: the headline and instruction burned in below the moving picture.

People who read alerts poorly — older people, children, people with low vision — get the words
with the picture: the frames are scaled to the card width (480 px by default) and a solid black
band is added underneath with the headline in bold yellow and the instruction in white (contrast
above 15:1 on black), wrapped to the width, in a Hangul font (NanumGothic from Debian's
``fonts-nanum``, installed by ``scripts/setup.sh``). Text sizes scale with the width: 1/16 of it
for the headline and 1/22 for the instruction (30 and 22 px at 480 px), never below 18 px.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "DEFAULT_CARD_WIDTH",
    "FONT_CANDIDATES",
    "CardStyle",
    "HangulFontMissingError",
    "add_caption",
    "caption_band",
    "find_hangul_font",
    "resize_frames",
    "wrap_text",
]

DEFAULT_CARD_WIDTH = 480
#: Fonts tried first (Debian ``fonts-nanum``), then ``fc-list :lang=ko``.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumBarunGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


class HangulFontMissingError(RuntimeError):
    """No font with Hangul glyphs is installed."""


@dataclass(frozen=True)
class CardStyle:
    """Colours and proportions of the caption band (defaults: yellow/white on black)."""

    background: tuple[int, int, int] = (0, 0, 0)
    headline_color: tuple[int, int, int] = (255, 221, 0)
    text_color: tuple[int, int, int] = (255, 255, 255)
    headline_scale: float = 1 / 16
    text_scale: float = 1 / 22
    min_font_px: int = 18
    max_headline_lines: int = 2
    max_text_lines: int = 4
    line_spacing: float = 1.25


@lru_cache(maxsize=1)
def find_hangul_font() -> Path:
    """A TrueType font with Hangul glyphs.

    Raises:
        HangulFontMissingError: naming the Debian package to install.
    """
    for candidate in FONT_CANDIDATES:
        if os.path.isfile(candidate):
            return Path(candidate)
    if shutil.which("fc-list"):
        listing = subprocess.run(["fc-list", ":lang=ko", "file"], capture_output=True, text=True, timeout=10,
                                 check=False).stdout
        files = sorted(line.split(":")[0].strip() for line in listing.splitlines() if line.strip())
        if files:
            return Path(files[0])
    raise HangulFontMissingError("no Hangul font found for the alert caption: install Debian's fonts-nanum "
                                 "(scripts/setup.sh does), or turn the caption off in the alert config")


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Lines of ``text`` that fit ``max_width`` pixels: break at spaces, and inside a word only when
    the word alone is too wide (Korean words can be long)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:  # a word wider than the line: break it by characters
            if font.getlength(current + char) > max_width and current:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines


def _clip(lines: list[str], max_lines: int) -> list[str]:
    if len(lines) <= max_lines:
        return lines
    return [*lines[: max_lines - 1], lines[max_lines - 1].rstrip() + "…"]


def caption_band(width: int, headline: str, instruction: str | None = None, *, style: CardStyle = CardStyle(),
                 font_path: os.PathLike[str] | str | None = None) -> np.ndarray:
    """The caption band: ``uint8 (H, width, 3)``, ``H`` even, headline over instruction.

    Raises:
        ValueError: for a width under 64 px or an empty headline.
    """
    if width < 64:
        raise ValueError(f"`width` must be at least 64 px for a legible caption; got {width}")
    if not headline or not headline.strip():
        raise ValueError("`headline` is empty: nothing to caption")
    font_path = str(font_path or find_hangul_font())
    head_px = max(style.min_font_px, round(width * style.headline_scale))
    text_px = max(style.min_font_px, round(width * style.text_scale))
    head_font = ImageFont.truetype(font_path, head_px)
    text_font = ImageFont.truetype(font_path, text_px)
    margin = max(8, head_px // 2)
    inner = width - 2 * margin
    blocks = [(line, head_font, style.headline_color, head_px)
              for line in _clip(wrap_text(headline.strip(), head_font, inner), style.max_headline_lines)]
    if instruction and instruction.strip():
        blocks += [(line, text_font, style.text_color, text_px)
                   for line in _clip(wrap_text(instruction.strip(), text_font, inner), style.max_text_lines)]
    height = 2 * margin + sum(round(px * style.line_spacing) for *_, px in blocks)
    height += height % 2
    band = Image.new("RGB", (width, height), style.background)
    draw = ImageDraw.Draw(band)
    y = margin
    for line, font, color, px in blocks:
        draw.text((margin, y), line, font=font, fill=color)
        y += round(px * style.line_spacing)
    return np.asarray(band)


def resize_frames(frames: np.ndarray, width: int) -> np.ndarray:
    """``(N, H, W, 3)`` frames scaled to ``width`` (Lanczos), even height following the aspect ratio."""
    if frames.shape[2] == width and frames.shape[1] % 2 == 0:
        return frames
    height = max(2, round(frames.shape[1] * width / frames.shape[2] / 2) * 2)
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.LANCZOS)) for f in frames])


def add_caption(frames: np.ndarray, headline: str, instruction: str | None = None, *,
                width: int = DEFAULT_CARD_WIDTH, style: CardStyle = CardStyle(),
                font_path: os.PathLike[str] | str | None = None) -> np.ndarray:
    """The alert card: frames scaled to ``width`` with the caption band below each.

    Args:
        frames: ``uint8 (N, H, W, 3)``.
        headline: the alert's headline (bold, yellow).
        instruction: what to do (white, below); optional.
        width: card width in pixels (default 480).

    Returns:
        ``uint8 (N, H' + B, width, 3)`` with ``H'`` the scaled picture height and ``B`` the band's.
    """
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"`frames` must be uint8 (N, H, W, 3); got {getattr(frames, 'shape', type(frames).__name__)}")
    picture = resize_frames(frames, width)
    band = caption_band(width, headline, instruction, style=style, font_path=font_path)
    return np.concatenate([picture, np.broadcast_to(band, (len(picture), *band.shape))], axis=1)
