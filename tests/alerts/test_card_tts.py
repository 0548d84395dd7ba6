"""The accessible card: caption readable by OCR in the encoded video, speech in the audio track."""

import numpy as np
import pytesseract
import pytest
from PIL import Image, ImageOps

from cinema_dag.alerts.card import add_caption, caption_band, wrap_text
from cinema_dag.alerts.tts import (
    mux_audio,
    probe_audio,
    synthesize_speech,
    wav_duration,
)
from cinema_dag.cinemagraph import read_mp4, write_mp4

HEADLINE, INSTRUCTION = "극한호우 발생", "지자체 안내에 따라 안전한 곳으로 대피하십시오."


def ocr(image: np.ndarray) -> str:
    """Korean OCR of a caption band (inverted to dark-on-light, which Tesseract reads best).

    pytesseract is a runtime dependency and CI installs Tesseract's Korean data: a missing one is a
    failure, never a skip."""
    gray = ImageOps.invert(Image.fromarray(image).convert("L"))
    return pytesseract.image_to_string(gray, lang="kor", config="--psm 6").replace(" ", "")


def test_wrap_breaks_long_text_to_width():
    from PIL import ImageFont

    from cinema_dag.alerts.card import find_hangul_font

    font = ImageFont.truetype(str(find_hangul_font()), 22)
    lines = wrap_text("가" * 80 + " 대피하십시오", font, 300)
    assert len(lines) >= 4 and all(font.getlength(line) <= 300 for line in lines)


def test_caption_in_encoded_frames_is_readable(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (8, 64, 64, 3), dtype=np.uint8)
    card = add_caption(frames, HEADLINE, INSTRUCTION, width=480)
    assert card.shape[0] == 8 and card.shape[2] == 480 and card.shape[1] % 2 == 0
    path = write_mp4(card, tmp_path / "card.mp4", fps=8, crf=23, preset="veryfast")
    decoded = read_mp4(path)
    band = decoded[3, 480:]
    text = ocr(band)
    assert "극한호우" in text and "대피하십시오" in text, text
    # High contrast: the band's background is black and the text bright.
    assert np.percentile(band, 50) < 20 and band.max() > 230
    assert "극한호우" not in ocr(decoded[3, :480])  # negative control: the picture above has no caption


def test_caption_band_refuses_empty_headline():
    with pytest.raises(ValueError, match="headline"):
        caption_band(480, "  ")


def test_speech_track_duration_and_loudness(tmp_path):
    seconds = synthesize_speech(HEADLINE, tmp_path / "speech.wav")
    assert 0.5 < seconds < 10 and wav_duration(tmp_path / "speech.wav") == seconds
    frames = np.zeros((24, 64, 64, 3), np.uint8)  # a 1 s loop at 24 fps
    video = write_mp4(frames, tmp_path / "silent.mp4", fps=24, preset="ultrafast")
    assert probe_audio(video) is None  # no audio track yet
    loops = int(np.ceil(seconds + 0.25))
    out = mux_audio(video, tmp_path / "speech.wav", tmp_path / "spoken.mp4", loops=loops)
    audio = probe_audio(out)
    assert abs(audio.duration_s - loops) < 0.1  # padded to the looped video's length
    assert audio.rms > 100  # not silent (16-bit samples)
    assert len(read_mp4(out)) == 24 * loops


def test_speech_refuses_option_like_voice(tmp_path):
    with pytest.raises(ValueError, match="voice"):
        synthesize_speech("안녕", tmp_path / "x.wav", voice="--help")
