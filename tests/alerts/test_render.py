"""render_alert_video on the tiny models: the prompt carries the alert's words, the loop is measured
and a defective loop is refused, and the caption and the speech are each switchable."""

import dataclasses

import numpy as np
import pytest

from cinema_dag.alerts.render import (
    AlertModels,
    AlertRenderSettings,
    LoopQualityError,
    render_alert_video,
)
from cinema_dag.alerts.tts import probe_audio
from cinema_dag.artefacts import VIDEO_FILE
from cinema_dag.cinemagraph import read_mp4
from tests.alerts.test_card_tts import HEADLINE, INSTRUCTION, ocr

KEYWORDS = ["호우", "극한호우", "heavy rain"]


@pytest.fixture(scope="module")
def models(tiny_cache):
    from cinema_dag.models import load_component

    return AlertModels(**{c: load_component(c, cache_dir=tiny_cache)
                          for c in ("llm", "text_to_image", "grounding", "segmenter", "depth")})


def render(models, out, **settings):
    return render_alert_video(models, "flood", out, keywords=KEYWORDS, severity="Severe", headline=HEADLINE,
                              instruction=INSTRUCTION, settings=AlertRenderSettings(num_frames=12, fps=12, **settings))


def test_prompt_carries_the_alert_keywords_and_severity(models, tmp_path):
    result = render(models, tmp_path, caption=False, speech=False)
    assert result.prompt_keywords == [*KEYWORDS, "severe flood"]  # all of them reach the prompt generator
    # The image prompt keeps the ASCII ones (SD's CLIP tokenizer has no Hangul words).
    assert "heavy rain" in result.prompt["prompt"] and "severe flood" in result.prompt["prompt"]


def test_loop_measured_on_a_still_camera(models, tmp_path):
    result = render(models, tmp_path, camera="none", caption=False, speech=False)
    q = result.quality
    assert q.seam_error == 0.0 and q.unfilled_after_fill == 0.0  # frame N is frame 0; every pixel filled
    assert q.flicker is not None and "flicker" not in q.notes  # measured: the camera stands still
    assert result.checks["seam"].passed and result.checks["holes"].passed
    assert set(result.timings) >= {"cinemagraph", "measure"}


@pytest.mark.parametrize("defect, check", [({"seam_error": 0.5}, "seam"), ({"unfilled_after_fill": 0.01}, "holes")])
def test_a_seam_or_unfilled_pixels_refuse_the_video(models, tmp_path, monkeypatch, defect, check):
    """The tiny scenes render flawless loops, so the defect is put into the measure; the thresholds
    are the cinemagraphs checks' defaults (cinema_dag.defaults)."""
    from cinema_dag.cinemagraph import quality

    measured = quality.measure_loop
    monkeypatch.setattr(quality, "measure_loop", lambda *a, **k: dataclasses.replace(measured(*a, **k), **defect))
    with pytest.raises(LoopQualityError, match=f"failed the {check} check") as err:
        render(models, tmp_path, caption=False, speech=False)
    assert err.value.failed == (check,) and err.value.checks[check].passed is False
    assert not (tmp_path / VIDEO_FILE).exists()  # refused before encoding


def test_loop_thresholds_come_from_the_settings(models, tmp_path):
    from cinema_dag.cinemagraph.quality import LoopThresholds

    strict = LoopThresholds(max_wrap_step_ratio=0.0)  # no loop can meet it
    with pytest.raises(LoopQualityError, match="seam"):
        render(models, tmp_path, caption=False, speech=False, loop_thresholds=strict)


def test_caption_off_speech_off(models, tmp_path):
    result = render(models, tmp_path, caption=False, speech=False)
    frames = read_mp4(result.video)
    picture_height = round(models.text_to_image.defaults["height"] * 480 / models.text_to_image.defaults["width"])
    assert frames.shape[1:3] == (picture_height + picture_height % 2, 480)  # no caption band below
    assert probe_audio(result.video) is None and result.speech_seconds is None and result.loops == 1
    assert len(frames) == 12


def test_caption_on_speech_off(models, tmp_path):
    result = render(models, tmp_path, caption=True, speech=False)
    frames = read_mp4(result.video)
    picture_height = round(models.text_to_image.defaults["height"] * 480 / models.text_to_image.defaults["width"])
    assert frames.shape[1] > picture_height  # the band
    text = ocr(frames[len(frames) // 2, picture_height:])
    assert "극한호우" in text and "대피하십시오" in text, text
    assert probe_audio(result.video) is None  # no audio stream
    assert np.array_equal(result.frames.shape[1:3], frames.shape[1:3])
