"""What :func:`cinema_dag.models.load_component` returns: small dataclasses per component.

Each holds the live objects (model, tokenizer/processor or pipeline) plus where they came from, so
stage functions and asset metadata can report ``model_id`` and ``source_path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LoadedComponent",
    "LoadedLLM",
    "LoadedTextToImage",
    "LoadedCaptioner",
    "LoadedGrounding",
    "LoadedSegmenter",
    "LoadedDepth",
    "LoadedClip",
]


@dataclass(kw_only=True, eq=False)
class LoadedComponent:
    """Fields every loaded component has.

    Attributes:
        component: ``"llm"``, ``"text_to_image"``, ...
        profile: the profile it was loaded for.
        model_id: hub id, or ``"cinema-dag/tiny-<component>"`` for random tiny weights.
        source_path: the local folder the weights were loaded from.
        device: ``torch.device`` the model sits on.
        dtype: ``torch.dtype`` of its weights.
        defaults: the profile's run defaults for this component (read-only mapping).
    """

    component: str
    profile: str
    model_id: str
    source_path: Path
    device: Any
    dtype: Any
    defaults: Mapping[str, Any]

    def describe(self) -> dict[str, str]:
        """Plain strings for logs and asset metadata."""
        return {
            "component": self.component,
            "profile": self.profile,
            "model_id": self.model_id,
            "source_path": str(self.source_path),
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
        }


@dataclass(kw_only=True, eq=False)
class LoadedLLM(LoadedComponent):
    """A causal LM (``AutoModelForCausalLM``) and its tokenizer (with a pad token set)."""

    model: Any
    tokenizer: Any


@dataclass(kw_only=True, eq=False)
class LoadedTextToImage(LoadedComponent):
    """A diffusers ``StableDiffusionPipeline`` (no safety checker; progress bar off)."""

    pipeline: Any


@dataclass(kw_only=True, eq=False)
class LoadedCaptioner(LoadedComponent):
    """``BlipForConditionalGeneration`` and its ``BlipProcessor``."""

    model: Any
    processor: Any


@dataclass(kw_only=True, eq=False)
class LoadedGrounding(LoadedComponent):
    """``GroundingDinoForObjectDetection`` and its ``GroundingDinoProcessor``."""

    model: Any
    processor: Any


@dataclass(kw_only=True, eq=False)
class LoadedSegmenter(LoadedComponent):
    """``SamModel`` and its ``SamProcessor``."""

    model: Any
    processor: Any


@dataclass(kw_only=True, eq=False)
class LoadedDepth(LoadedComponent):
    """A depth model (``AutoModelForDepthEstimation``, DPT) and its image processor."""

    model: Any
    processor: Any


@dataclass(kw_only=True, eq=False)
class LoadedClip(LoadedComponent):
    """``CLIPModel`` and its ``CLIPProcessor`` (image processor + tokenizer), for CLIP scores."""

    model: Any
    processor: Any
