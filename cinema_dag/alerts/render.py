"""One alert → one accessible cinemagraph, every stage in one call (one process, models loaded once).

The per-type asset chain (``generated_prompts`` → … → ``cinemagraphs``) writes and re-reads every
intermediate artefact and, under the default multiprocess executor, starts one process per step,
each loading its models again. An alert must become a video in seconds, so
:func:`render_alert_video` runs the same core functions back to back in memory:

1. prompt (the metadata LLM, with the alert's keywords and severity),
2. image (Stable Diffusion), 3. motion mask (GroundingDINO → SAM), 4. depth (DPT),
5. cinemagraph (LDI, motion field, 3D symmetric animation along the type's camera path),
   then its loop measured (:func:`cinema_dag.cinemagraph.quality.measure_loop`: seam, unfilled
   pixels, flicker on a still-camera pass of the same loop, sharpness): a visible seam, unfilled
   pixels or flicker refuse the video (:class:`LoopQualityError`) — the thresholds of the
   ``cinemagraphs`` checks,
6. alert card (headline and instruction burned in, :mod:`.card`),
7. speech (espeak-ng, :mod:`.tts`): the loop is repeated to cover the spoken headline, the audio
   muxed into the MP4.

Only the outputs are written (:data:`~cinema_dag.artefacts.VIDEO_FILE`, ``POSTER_FILE``, optional
``SPEECH_FILE``), into ``out_dir`` — a staging folder the caller commits atomically.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cinema_dag.alerts.card import DEFAULT_CARD_WIDTH, add_caption, resize_frames
from cinema_dag.alerts.classify import severity_keyword
from cinema_dag.alerts.tts import DEFAULT_VOICE, mux_audio, synthesize_speech
from cinema_dag.artefacts import POSTER_FILE, SPEECH_FILE, VIDEO_FILE
from cinema_dag.defaults import DEFAULT_BOX_THRESHOLD, DEFAULT_TEXT_THRESHOLD
from cinema_dag.disasters import get_disaster

if TYPE_CHECKING:  # the engine imports torch and OpenCV: only inside the render
    from cinema_dag.cinemagraph.quality import LoopCheck, LoopQuality, LoopThresholds

__all__ = [
    "BLOCKING_LOOP_CHECKS",
    "AlertModels",
    "AlertRenderResult",
    "AlertRenderSettings",
    "LoopQualityError",
    "prompt_keywords",
    "render_alert_video",
]

#: The loop checks (:data:`cinema_dag.cinemagraph.quality.LOOP_CHECKS`) that refuse an alert video, as
#: they block a library video: a seam, unfilled (black) pixels or still content that flickers are
#: defects anyone sees at once; sharpness is measured and reported (the caption band is added after
#: the measure, so it is not part of it).
BLOCKING_LOOP_CHECKS = ("seam", "holes", "flicker")

#: The silent loop while the speech is added (removed once the MP4 with audio is written).
_SILENT_VIDEO = "video_silent.mp4"


@dataclass(frozen=True)
class AlertModels:
    """The loaded components (``cinema_dag.models.load_component``) the render needs."""

    llm: Any
    text_to_image: Any
    grounding: Any
    segmenter: Any
    depth: Any


@dataclass(frozen=True)
class AlertRenderSettings:
    """Knobs of the alert video (defaults defined here, referenced by the asset config).

    Attributes:
        num_frames / fps: the loop (48 frames at 24 fps = a 2 s loop).
        width: card width in pixels (the picture is scaled to it; 480 keeps the caption legible).
        camera: a camera path kind, or ``None`` for the disaster type's default.
        seed: prompt, image and motion seed.
        crf: H.264 quality (23 = x264's default; alert videos travel over mobile networks).
        preset: x264 preset; ``veryfast`` encodes about 3x faster than ``medium`` (latency first).
        caption / speech: the accessible card's burned-in text and spoken headline.
        voice: espeak-ng voice for the speech.
        max_new_tokens: LLM tokens (``None`` = the profile's default).
        box_threshold / text_threshold: GroundingDINO thresholds.
        loop_thresholds: limits of the loop checks; ``None``: the defaults the ``cinemagraphs`` checks
            use (:class:`~cinema_dag.cinemagraph.quality.LoopThresholds`, from :mod:`cinema_dag.defaults`).
    """

    num_frames: int = 48
    fps: float = 24.0
    width: int = DEFAULT_CARD_WIDTH
    camera: str | None = None
    seed: int = 0
    crf: int = 23
    preset: str = "veryfast"
    caption: bool = True
    speech: bool = True
    voice: str = DEFAULT_VOICE
    max_new_tokens: int | None = None
    box_threshold: float = DEFAULT_BOX_THRESHOLD
    text_threshold: float = DEFAULT_TEXT_THRESHOLD
    loop_thresholds: LoopThresholds | None = None


class LoopQualityError(ValueError):
    """The rendered loop failed a blocking check (:data:`BLOCKING_LOOP_CHECKS`): no video is written.

    Attributes:
        quality: every measure of the loop.
        checks: every check's verdict.
    """

    def __init__(self, quality: LoopQuality, checks: dict[str, LoopCheck]):
        failed = [c for c in BLOCKING_LOOP_CHECKS if checks[c].passed is False]
        details = "; ".join(f"{c}: observed {checks[c].observed}, expected {checks[c].expected}" for c in failed)
        super().__init__(f"the alert loop failed the {', '.join(failed)} check(s): {details}")
        self.quality, self.checks, self.failed = quality, checks, tuple(failed)


@dataclass
class AlertRenderResult:
    """What :func:`render_alert_video` made. ``frames`` is one loop of the card (for previews);
    ``prompt_keywords`` what the prompt generator was given (the alert's keywords and severity
    phrase); ``quality`` / ``checks`` the loop's measures and verdicts (before the card)."""

    video: Path
    poster: Path
    frames: np.ndarray
    prompt: dict[str, Any]
    camera: str
    loops: int
    speech_seconds: float | None
    mask_coverage: float
    quality: LoopQuality
    checks: dict[str, LoopCheck]
    prompt_keywords: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def prompt_keywords(keywords: Sequence[str], severity: str | None, disaster_type: str) -> list[str]:
    """The alert's keywords with its severity phrase ("severe flood") added when missing."""
    words = [k for k in keywords if k and k.strip()]
    phrase = severity_keyword(severity, disaster_type)
    if phrase and phrase.lower() not in {w.lower() for w in words}:
        words.append(phrase)
    return words


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 3)


def render_alert_video(
    models: AlertModels,
    disaster_type: str,
    out_dir: Path,
    *,
    keywords: Sequence[str] = (),
    severity: str | None = None,
    headline: str = "",
    instruction: str | None = None,
    settings: AlertRenderSettings = AlertRenderSettings(),
    device: Any = "cpu",
    adapter_path: str | Path | None = None,
) -> AlertRenderResult:
    """Render the alert cinemagraph into ``out_dir``.

    Args:
        models: loaded components.
        disaster_type: a partition key (``"flood"``).
        out_dir: an existing (staging) folder.
        keywords: the alert's keywords (:func:`cinema_dag.alerts.classify.alert_keywords`).
        severity: CAP severity; its phrase joins the keywords.
        headline / instruction: the caption and the spoken text (the headline is spoken).
        settings: see :class:`AlertRenderSettings`.
        device: torch device of the render.
        adapter_path: the prompt generator's LoRA adapter folder (the paper's metadata generator);
            None: the base model.

    Raises:
        ValueError: caption or speech asked for without a headline.
        LoopQualityError: the loop has a seam, unfilled pixels or flicker (nothing is encoded).
    """
    # 1. Check inputs
    from cinema_dag.cinemagraph import (
        default_camera_kind,
        make_cinemagraph,
        write_mp4,
        write_poster,
    )
    from cinema_dag.cinemagraph.quality import LoopThresholds, check_loop, measure_render
    from cinema_dag.text.prompts import generate_prompts
    from cinema_dag.vision.depth import estimate_depth
    from cinema_dag.vision.generate import generate_images
    from cinema_dag.vision.segment import segment_motion

    disaster = get_disaster(disaster_type)
    if (settings.caption or settings.speech) and not headline.strip():
        raise ValueError("the caption and the speech need a `headline`; got an empty one")
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}
    words = prompt_keywords(keywords, severity, disaster.key)

    # 2. Prompt → image → mask → depth
    with _timed(timings, "prompt"):
        prompt = generate_prompts(models.llm, disaster.key, keywords=words, num_prompts=1, seed=settings.seed,
                                  max_new_tokens=settings.max_new_tokens, adapter_path=adapter_path)[0]
    sd = dict(models.text_to_image.defaults)
    with _timed(timings, "image"):
        image = generate_images(models.text_to_image, [prompt.prompt], [prompt.negative_prompt], seed=settings.seed,
                                height=sd["height"], width=sd["width"], num_inference_steps=sd["num_inference_steps"],
                                guidance_scale=sd["guidance_scale"], scheduler=sd.get("scheduler"))[0]
    with _timed(timings, "mask"):
        mask = segment_motion(models.grounding, models.segmenter, [image], list(disaster.motion_prompts),
                              box_threshold=settings.box_threshold, text_threshold=settings.text_threshold)[0]
    with _timed(timings, "depth"):
        disparity = estimate_depth(models.depth, [image])[0]

    # 3. Cinemagraph, measured
    camera = settings.camera or default_camera_kind(disaster.key)
    with _timed(timings, "cinemagraph"):
        rendered = make_cinemagraph(np.asarray(image), disparity, mask.mask, disaster.key, seed=settings.seed,
                                    num_frames=settings.num_frames, camera=camera, device=device)
    with _timed(timings, "measure"):
        quality = measure_render(rendered.renderer, rendered.frames, rendered.stats, rendered.ldi.colors[0],
                                 rendered.flow)
        checks = check_loop(quality, settings.loop_thresholds or LoopThresholds())
    if any(checks[c].passed is False for c in BLOCKING_LOOP_CHECKS):
        raise LoopQualityError(quality, checks)

    # 4. The card
    with _timed(timings, "card"):
        frames = (add_caption(rendered.frames, headline, instruction, width=settings.width) if settings.caption
                  else resize_frames(rendered.frames, settings.width))

    # 5. Speech decides how many loops the video holds; encode, mux, poster
    speech_seconds, loops = None, 1
    video = out_dir / VIDEO_FILE
    if settings.speech:
        with _timed(timings, "speech"):
            speech_seconds = synthesize_speech(headline, out_dir / SPEECH_FILE, voice=settings.voice)
        loop_seconds = settings.num_frames / settings.fps
        loops = max(1, math.ceil((speech_seconds + 0.25) / loop_seconds))
    with _timed(timings, "encode"):
        encode: dict[str, Any] = {"fps": settings.fps, "crf": settings.crf, "preset": settings.preset}
        if settings.speech:  # one loop encoded, repeated by stream copy while the speech is added
            silent = write_mp4(frames, out_dir / _SILENT_VIDEO, **encode)
            mux_audio(silent, out_dir / SPEECH_FILE, video, loops=loops)
            silent.unlink()
        else:
            write_mp4(frames, video, **encode)
        poster = write_poster(frames[0], out_dir / POSTER_FILE)
    return AlertRenderResult(
        video=video, poster=poster, frames=frames, prompt=prompt.to_dict(), camera=camera, loops=loops,
        speech_seconds=speech_seconds, mask_coverage=float(mask.coverage), quality=quality, checks=checks,
        prompt_keywords=words, timings=timings,
    )
