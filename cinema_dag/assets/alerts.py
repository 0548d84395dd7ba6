"""alert_cinemagraphs: one alert → an accessible cinemagraph, its CAP 1.2 document, its lineage.

Why one asset and not the per-type chain: an alert must become a video in seconds. This asset runs
every stage (prompt → image → mask → depth → cinemagraph → caption → speech) in one step, in
memory, with the models loaded once (the alert job uses the in-process executor), and writes
only the outputs. The per-type chain stays what it is for: building each type's library by
backfill. The Dagster partition is the disaster type; the video is stored under the alert id
(``alert_cinemagraphs/<alert key>/``), so alerts of one type never overwrite each other.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from cinema_dag.alerts.render import AlertRenderSettings
from cinema_dag.assets._common import (
    ADAPTER_ASSET,
    ALERT_ASSET,
    GPU_OP_TAGS,
    GPU_POOL,
    GROUP_ALERTS,
    OWNERS,
    timed,
    timing_metadata,
    usable_adapter,
)
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice

MODEL_COMPONENTS = ("llm", "text_to_image", "grounding", "segmenter", "depth")
_DEFAULTS = AlertRenderSettings()


class AlertConfig(dg.Config):
    """The alert (filled in by the alert sensors) and the video's settings."""

    alert_id: str = Field(description="The alert's identifier (the sensor's run key); names the store folder.")
    keywords: list[str] = Field(default_factory=list, description="Words for the prompt generator (from the alert).")
    severity: str | None = Field(default=None, description="CAP severity: Extreme, Severe, Moderate, Minor, Unknown.")
    headline: str = Field(default="", description="Shown in the caption and spoken.")
    area: str = Field(default="", description="Where the alert applies (shown in the UI).")
    instruction: str | None = Field(default=None, description="What to do (shown below the headline).")
    alert_json: str = Field(default="", description="The whole alert (cinema_dag.alerts.Alert.to_dict as JSON), "
                                                    "for the CAP-out document; empty for a hand-launched run.")
    num_frames: int = Field(default=_DEFAULTS.num_frames, ge=2, le=600, description="Frames in the loop.")
    fps: float = Field(default=_DEFAULTS.fps, gt=0, le=120, description="Frames per second.")
    width: int = Field(default=_DEFAULTS.width, ge=128, le=3840, description="Card width in pixels.")
    camera: str = Field(default="auto", description="Camera path: auto (the type's default), none, circle, "
                                                    "up_down, swing, zoom, shake.")
    seed: int = Field(default=_DEFAULTS.seed, description="Prompt, image and motion seed.")
    crf: int = Field(default=_DEFAULTS.crf, ge=0, le=51, description="H.264 quality.")
    preset: str = Field(default=_DEFAULTS.preset, description="x264 preset (speed vs size).")
    caption: bool = Field(default=_DEFAULTS.caption, description="Burn the headline and instruction in.")
    speech: bool = Field(default=_DEFAULTS.speech, description="Add the spoken headline as the audio track.")
    voice: str = Field(default=_DEFAULTS.voice, description="espeak-ng voice of the speech.")
    cap_out: bool = Field(default=True, description="Write the CAP 1.2 document carrying the video.")
    use_adapter: bool = Field(default=True, description="Prompt with the newest prompt_lora adapter that passed its "
                                                        "held-out check (else the base model).")


def _alert(config: AlertConfig, disaster_type: str):
    """The alert from the run config: the full one when the sensor sent it, else one built from the
    config fields (a hand-launched run; status Test, so a distributor does not broadcast it)."""
    import json

    from cinema_dag.alerts.capout import cap_datetime
    from cinema_dag.alerts.model import Alert, Area, Info
    from cinema_dag.alerts.mois import CATEGORY
    from cinema_dag.disasters import get_disaster

    if config.alert_json:
        return Alert.from_dict(json.loads(config.alert_json))
    info = Info(language="ko-KR", categories=(CATEGORY[disaster_type],), event=get_disaster(disaster_type).korean,
                urgency="Unknown", severity=config.severity or "Unknown", certainty="Unknown",
                headline=config.headline or None, instruction=config.instruction,
                areas=(Area(config.area),) if config.area else ())
    return Alert(identifier=config.alert_id, sender="urn:cinema-dag:manual", sent=cap_datetime(), status="Test",
                 msg_type="Alert", scope="Public", format="cap-1.2", source="run config", infos=(info,))


def _uri(store: ArtefactStore, key: str, name: str) -> str:
    """A URI a distributor can use: ``file://`` for a local store, the store's URL otherwise (for
    object storage that is the partition's prefix: the version prefix is only known after the commit)."""
    from pathlib import Path

    uri = store.uri(ALERT_ASSET, key, name)
    return uri if "://" in uri else Path(uri).resolve().as_uri()


@dg.asset(
    partitions_def=disaster_types,
    deps=[ADAPTER_ASSET],
    group_name=GROUP_ALERTS, owners=OWNERS[GROUP_ALERTS], code_version="1",
    kinds={"pytorch", "video"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def alert_cinemagraphs(context: dg.AssetExecutionContext, config: AlertConfig, store: ArtefactStore,
                       models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """An alert's accessible cinemagraph: the video (caption burned in, spoken headline as audio), its
    poster, the CAP 1.2 document carrying the video and the lineage (file names in
    :mod:`cinema_dag.artefacts`)."""
    from cinema_dag.alerts.capout import cap_datetime, cap_out, sha1_file, write_cap_out
    from cinema_dag.alerts.catalogue import video_row
    from cinema_dag.alerts.keys import alert_store_key
    from cinema_dag.alerts.render import AlertModels, LoopQualityError, render_alert_video
    from cinema_dag.artefacts import CAP_OUT_FILE, LINEAGE_FILE, SPEECH_FILE, VIDEO_FILE, write_json
    from cinema_dag.previews import gif_markdown, png_markdown

    disaster_type = context.partition_key
    key = alert_store_key(config.alert_id)
    alert = _alert(config, disaster_type)
    settings = AlertRenderSettings(
        num_frames=config.num_frames, fps=config.fps, width=config.width,
        camera=None if config.camera == "auto" else config.camera, seed=config.seed, crf=config.crf,
        preset=config.preset, caption=config.caption, speech=config.speech, voice=config.voice,
    )
    timings: dict[str, float] = {}
    adapter_path, adapter_version = usable_adapter(context, store) if config.use_adapter else (None, None)
    torch_device = device.torch_device()
    with timed(context, "load models", timings):
        loaded = AlertModels(**{c: models.load(c, torch_device, device.torch_dtype()) for c in MODEL_COMPONENTS})
    video_uri = _uri(store, key, VIDEO_FILE)
    with store.stage(ALERT_ASSET, key, {"alert_id": config.alert_id, "disaster_type": disaster_type}) as out:
        with timed(context, "render", timings, f"{config.alert_id} as {disaster_type}"):
            try:
                result = render_alert_video(loaded, disaster_type, out, keywords=config.keywords,
                                            severity=config.severity, headline=config.headline,
                                            instruction=config.instruction, settings=settings, device=torch_device,
                                            adapter_path=adapter_path)
            except LoopQualityError as err:  # nothing is published: the staging folder is dropped
                raise dg.Failure(description=f"{config.alert_id}: {err}",
                                 metadata=_loop_metadata(err.quality, err.checks)) from None
        (out / SPEECH_FILE).unlink(missing_ok=True)  # in the MP4 now
        if config.cap_out:
            with timed(context, "cap out", timings):
                write_cap_out(out / CAP_OUT_FILE, cap_out(alert, result.video, video_uri))
        row = video_row(result.video, uri=video_uri, kind="alert", disaster_type=disaster_type,
                        alert_id=config.alert_id, prompt=result.prompt["prompt"],
                        negative_prompt=result.prompt["negative_prompt"], seed=config.seed,
                        render_seed=config.seed, camera=result.camera,
                        model_ids={c: models.model_id(c) for c in MODEL_COMPONENTS}, adapter_version=adapter_version,
                        created_at=cap_datetime())
        write_json(out, LINEAGE_FILE, {**row.to_dict(), "keywords": config.keywords, "severity": config.severity,
                                         "prompt_keywords": result.prompt_keywords,
                                         "headline": config.headline, "area": config.area,
                                         "instruction": config.instruction, "timings": result.timings,
                                         "quality": result.quality.to_dict(),
                                         "checks": {c: v.passed for c, v in result.checks.items()}})
        digest = sha1_file(result.video)
    device.free_memory()
    context.log.info(f"{config.alert_id}: {disaster_type} video {row.size_bytes} bytes, sha1 {digest}")
    return dg.MaterializeResult(metadata={
        "alert_id": config.alert_id,
        "disaster_type": disaster_type,
        "headline": config.headline,
        "area": config.area,
        "instruction": config.instruction or "",
        "severity": config.severity or "",
        "keywords": ", ".join(config.keywords),
        "prompt": result.prompt["prompt"][:300],
        "camera": result.camera,
        "adapter": adapter_version or "none (base model)",
        "caption": config.caption,
        "speech_seconds": result.speech_seconds or 0.0,
        "loops": result.loops,
        **_loop_metadata(result.quality, result.checks),
        "sha1": digest,
        "size_bytes": row.size_bytes,
        # Small on purpose: GIF-encoding 48 full frames costs seconds on the alert's critical path.
        "preview": dg.MetadataValue.md(gif_markdown(result.frames, fps=config.fps, size=160, max_frames=12)),
        "poster": dg.MetadataValue.md(png_markdown(result.frames[0], alt="alert card", size=240)),
        "video": dg.MetadataValue.path(store.uri(ALERT_ASSET, key, VIDEO_FILE)),
        "cap_out": dg.MetadataValue.path(store.uri(ALERT_ASSET, key, CAP_OUT_FILE)) if config.cap_out else "",
        **{f"seconds_{k}": dg.MetadataValue.float(v) for k, v in result.timings.items()},
        **timing_metadata(timings),
    })


def _loop_metadata(quality, checks) -> dict[str, Any]:
    """``loop_<measure>`` per measure of the loop (``n/a`` where not measured, ``inf`` as text) and
    ``loop_checks``: each check's verdict (``None``: not measured, e.g. flicker with a moving camera)."""
    import math

    values: dict[str, Any] = {}
    for name, value in quality.to_dict().items():
        if name == "notes":
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            values[f"loop_{name}"] = dg.MetadataValue.float(float(value))
        else:
            values[f"loop_{name}"] = "n/a" if value is None else str(value)
    values["loop_checks"] = dg.MetadataValue.json({c: v.passed for c, v in checks.items()})
    if quality.notes:
        values["loop_notes"] = dg.MetadataValue.json(quality.notes)
    return values
