"""The spoken headline: offline text-to-speech (espeak-ng, Korean voice) muxed into the MP4.

``espeak-ng`` (Debian package, installed by ``scripts/setup.sh``) reads the text from standard
input — never from the command line, so a headline that starts with ``-`` is not an option — and
writes a WAV. :func:`mux_audio` adds it to the video with the ffmpeg binary that imageio-ffmpeg
ships: the video stream is copied, the speech encoded as AAC and padded with silence to the
video's length, so audio and video end together. :func:`probe_audio` decodes the audio track back
(duration, loudness) for checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cinema_dag.atomic import atomic_path

__all__ = [
    "DEFAULT_RATE",
    "DEFAULT_VOICE",
    "MAX_SPEECH_CHARS",
    "AudioInfo",
    "SpeechUnavailableError",
    "mux_audio",
    "probe_audio",
    "synthesize_speech",
    "wav_duration",
]

DEFAULT_VOICE = "ko"
DEFAULT_RATE = 150  # words per minute; espeak-ng's default is 175, slower is clearer
MAX_SPEECH_CHARS = 300
_TIMEOUT = 60


class SpeechUnavailableError(RuntimeError):
    """espeak-ng (or its voice) is not installed."""


@dataclass(frozen=True)
class AudioInfo:
    """The audio track of a file: ``duration_s``, ``rms`` (of 16-bit samples, 0 = silence), ``sample_rate``."""

    duration_s: float
    rms: float
    sample_rate: int


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def synthesize_speech(text: str, wav_path: os.PathLike[str] | str, *, voice: str = DEFAULT_VOICE,
                      rate: int = DEFAULT_RATE) -> float:
    """Speak ``text`` into a WAV file (atomically); returns its duration in seconds.

    Raises:
        ValueError: empty text, or a voice name that is not a plain name.
        SpeechUnavailableError: espeak-ng or the voice is missing.
    """
    text = " ".join(text.split())[:MAX_SPEECH_CHARS]
    if not text:
        raise ValueError("`text` is empty: nothing to speak")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,39}", voice):
        raise ValueError(f"`voice` must be an espeak-ng voice name like 'ko'; got {voice!r}")
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SpeechUnavailableError("espeak-ng is not installed: apt-get install espeak-ng (scripts/setup.sh does), "
                                     "or turn speech off in the alert config")
    wav_path = Path(wav_path)
    with atomic_path(wav_path) as tmp:
        done = subprocess.run([espeak, "-v", voice, "-s", str(int(rate)), "-w", str(tmp), "--stdin"],
                              input=text.encode("utf-8"), capture_output=True, timeout=_TIMEOUT, check=False)
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:
            raise SpeechUnavailableError(f"espeak-ng could not speak with voice {voice!r}: "
                                         f"{done.stderr.decode(errors='replace').strip() or 'no audio written'}")
    return wav_duration(wav_path)


def wav_duration(path: os.PathLike[str] | str) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / float(handle.getframerate())


def mux_audio(video: os.PathLike[str] | str, wav: os.PathLike[str] | str, out: os.PathLike[str] | str,
              *, loops: int = 1, bitrate: str = "96k") -> Path:
    """``out`` = ``video``'s stream played ``loops`` times (copied, not re-encoded) + ``wav`` as AAC,
    padded with silence to the video's end."""
    if not isinstance(loops, int) or loops < 1:
        raise ValueError(f"`loops` must be a positive integer; got {loops!r}")
    out = Path(out)
    with atomic_path(out) as tmp:
        command = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", str(loops - 1),
                   "-i", str(video), "-i", str(wav),
                   "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", bitrate,
                   "-af", "apad", "-shortest", "-movflags", "+faststart", str(tmp)]
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ffmpeg could not add the speech to {video}: "
                               f"{done.stderr.decode(errors='replace').strip()[-500:]}")
    return out


def probe_audio(path: os.PathLike[str] | str, sample_rate: int = 16000) -> AudioInfo | None:
    """Decode the first audio track of ``path`` (mono, ``sample_rate``); ``None`` if it has none."""
    done = subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0",
                           "-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "-"],
                          capture_output=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0:
        if b"matches no streams" in done.stderr or b"Stream map" in done.stderr:
            return None
        raise RuntimeError(f"ffmpeg could not read {path}: {done.stderr.decode(errors='replace').strip()[-300:]}")
    samples = np.frombuffer(done.stdout, dtype=np.int16).astype(np.float64)
    if samples.size == 0:
        return None
    return AudioInfo(duration_s=samples.size / sample_rate, rms=float(np.sqrt(np.mean(samples ** 2))),
                     sample_rate=sample_rate)
