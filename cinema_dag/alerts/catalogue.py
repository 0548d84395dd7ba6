"""The cinemagraph catalogue: one lineage row per video (library videos and alert videos).

A row says where a video came from — the alert (if any), the prompt and negative prompt, the image
seed and render seed, the camera path, the model ids of every stage, the LoRA adapter version, the
code version, when it was made, and the SHA-1 of the file — so any video can be traced and
reproduced. Rows are plain dicts in a JSON file (``catalogue.json``), in a fixed field order.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cinema_dag.alerts.capout import sha1_file
from cinema_dag.artefacts import CinemagraphFiles

__all__ = ["CATALOGUE_FIELDS", "CatalogueRow", "LIBRARY_MODEL_COMPONENTS", "UNKNOWN", "code_version", "library_rows",
           "video_row"]


@dataclass(frozen=True)
class CatalogueRow:
    """Attributes:
        video: the file's URI or path; ``kind``: ``"library"`` (per-type backfill) or ``"alert"``.
        model_ids: component → model id (``llm``, ``text_to_image``, ``grounding``, ``segmenter``, ``depth``).
        sha1 / size_bytes: of the video file.
        cancelled_by: for an alert video, the identifier of the CAP ``Cancel`` that withdrew its
            alert (the video stays; a distributor should stop sending it); else ``None``.
    """

    video: str
    kind: str
    disaster_type: str
    alert_id: str | None
    prompt: str
    negative_prompt: str
    seed: int | None
    render_seed: int | None
    camera: str
    model_ids: dict[str, str] = field(default_factory=dict)
    adapter_version: str | None = None
    code_version: str = ""
    created_at: str = ""
    sha1: str = ""
    size_bytes: int = 0
    cancelled_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CATALOGUE_FIELDS = tuple(CatalogueRow.__dataclass_fields__)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``cinema-dag <version>`` plus the git commit (``+g<sha>``, ``-dirty`` when modified) when
    the code runs from a git checkout."""
    try:
        version = metadata.version("cinema-dag")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=10"],
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+g{sha.stdout.strip()}" if sha.returncode == 0 and sha.stdout.strip() else version


def video_row(path: Path, *, uri: str | None = None, **fields: Any) -> CatalogueRow:
    """A row for the video at ``path`` (its SHA-1 and size measured now)."""
    return CatalogueRow(video=uri or str(path), sha1=sha1_file(path), size_bytes=path.stat().st_size,
                        code_version=fields.pop("code_version", None) or code_version(), **fields)


#: What a library entry written before its lineage was recorded says instead.
UNKNOWN = "unknown"
#: The components a library video's ``model_ids`` name (stages up to the picture and its depth).
LIBRARY_MODEL_COMPONENTS = ("llm", "text_to_image", "grounding", "segmenter", "depth")


def library_rows(
    disaster_type: str,
    folder: Path,
    library: list[dict[str, Any]],
    images: list[dict[str, Any]],
    *,
    created_at: str,
    uri_of=None,
) -> list[CatalogueRow]:
    """Rows for one partition's library (``cinemagraphs/<type>/library.json``).

    The code version, model ids and adapter version are the ones the ``cinemagraphs`` asset wrote
    into each entry when it rendered the video; an entry from before it did says ``unknown`` -- the
    code, models and adapter of today (or of the latest upstream run) may not be what made an older
    video.

    Args:
        folder: the partition's folder (videos ``<name>.mp4``, :class:`~cinema_dag.artefacts.CinemagraphFiles`).
        library: ``library.json`` entries (``name``, ``image``, ``camera``, ``seed``, and since they
            are recorded ``code_version``, ``model_ids`` and ``adapter_version``).
        images: ``disaster_images/<type>/images.json`` ``images`` (``prompt``, ``negative_prompt``, ``seed``).
        uri_of: ``name -> uri`` for the video (default: the local path).
    """
    rows = []
    for video in library:
        path = CinemagraphFiles(folder, video["name"]).video
        image = images[video["image"]] if 0 <= video["image"] < len(images) else {}
        recorded = video.get("model_ids")
        rows.append(video_row(
            path, uri=uri_of(path.name) if uri_of else None, kind="library", disaster_type=disaster_type,
            alert_id=None, prompt=image.get("prompt", ""), negative_prompt=image.get("negative_prompt", ""),
            seed=image.get("seed"), render_seed=video.get("seed"), camera=video.get("camera", ""),
            model_ids=dict(recorded) if recorded else dict.fromkeys(LIBRARY_MODEL_COMPONENTS, UNKNOWN),
            adapter_version=video.get("adapter_version", UNKNOWN), created_at=created_at,
            code_version=video.get("code_version") or UNKNOWN,
        ))
    return rows
