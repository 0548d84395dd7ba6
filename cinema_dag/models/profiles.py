"""Model profiles: which weights each component of the chain uses, and their run defaults.

Cheap to import (no torch, transformers or diffusers), so the Dagster layer can list profiles and
read defaults at definition-load time.

* ``tiny`` (default): random-init tiny models built from configs; offline, CPU, seconds.
* ``fast`` (one consumer GPU): ``Qwen/Qwen2.5-0.5B-Instruct``, ``stabilityai/sd-turbo``,
  ``Salesforce/blip-image-captioning-base``, ``IDEA-Research/grounding-dino-tiny``,
  ``facebook/sam-vit-base``, ``Intel/dpt-hybrid-midas``.
* ``paper`` (the paper's setup): ``meta-llama/Llama-2-7b-hf``,
  ``stable-diffusion-v1-5/stable-diffusion-v1-5``, ``Salesforce/blip-image-captioning-large``,
  ``IDEA-Research/grounding-dino-base``, ``facebook/sam-vit-huge``, ``Intel/dpt-large``.

``clip`` is not a stage of the chain: it scores prompt-image agreement in the evaluation
(``openai/clip-vit-base-patch32`` for ``fast``, ``openai/clip-vit-large-patch14`` for ``paper``, the
usual CLIP-score model; the tiny one is random and only exercises the code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cinema_dag.models.errors import UnknownComponentError, UnknownProfileError

__all__ = [
    "COMPONENTS",
    "PROFILES",
    "DEFAULT_PROFILE",
    "TINY_MODEL_PREFIX",
    "ComponentSpec",
    "Profile",
    "check_component",
    "get_profile",
    "get_spec",
    "model_id",
    "weights_env_var",
]

#: The components of the generation chain, in chain order, then the evaluation's CLIP.
COMPONENTS: tuple[str, ...] = ("llm", "text_to_image", "captioner", "grounding", "segmenter", "depth", "clip")

DEFAULT_PROFILE = "tiny"

#: ``model_id`` of the tiny components is ``"cinema-dag/tiny-<component>"``: not a hub repository,
#: a name that says in metadata and logs that random weights were used.
TINY_MODEL_PREFIX = "cinema-dag/tiny-"


def check_component(component: str) -> str:
    """Return ``component`` if it is one of :data:`COMPONENTS`, else raise ``UnknownComponentError``."""
    if component not in COMPONENTS:
        raise UnknownComponentError(f"Unknown component {component!r}; components are: {', '.join(COMPONENTS)}")
    return component


@dataclass(frozen=True)
class ComponentSpec:
    """One component of one profile.

    Attributes:
        component: one of :data:`COMPONENTS`.
        model_id: hub id of the weights (real profiles) or ``"cinema-dag/tiny-<component>"``.
        defaults: run settings downstream stages should use with these weights (read-only), e.g.
            ``height``/``width``/``num_inference_steps``/``guidance_scale``/``scheduler`` for
            ``text_to_image``, ``max_new_tokens``/``temperature``/``top_p`` for ``llm``.
    """

    component: str
    model_id: str
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_component(self.component)
        # Read-only so one run cannot change another run's defaults through a shared spec.
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def is_tiny(self) -> bool:
        """Whether these are the randomly initialised offline test weights."""
        return self.model_id.startswith(TINY_MODEL_PREFIX)


@dataclass(frozen=True)
class Profile:
    """A named set of :class:`ComponentSpec`, one per component."""

    name: str
    description: str
    specs: Mapping[str, ComponentSpec]

    def __post_init__(self) -> None:
        missing = [c for c in COMPONENTS if c not in self.specs]
        if missing:
            raise ValueError(f"profile {self.name!r} lacks components {missing}")
        object.__setattr__(self, "specs", MappingProxyType(dict(self.specs)))

    @property
    def is_tiny(self) -> bool:
        """Whether every component is a tiny random model (no weights needed)."""
        return all(spec.is_tiny for spec in self.specs.values())

    def __getitem__(self, component: str) -> ComponentSpec:
        return self.specs[check_component(component)]


def _tiny(component: str, **defaults: Any) -> ComponentSpec:
    return ComponentSpec(component, TINY_MODEL_PREFIX + component.replace("_", "-"), defaults)


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "tiny": Profile(
            name="tiny",
            description="random-init tiny models built from configs; offline, CPU, seconds (tests, demo)",
            specs={
                "llm": _tiny("llm", max_new_tokens=24, temperature=0.9, top_p=0.95),
                # The tiny VAE halves the size (two blocks), so 128x128 images have 64x64 latents:
                # big enough for a cinemagraph one can look at, still a second per image on a CPU.
                "text_to_image": _tiny(
                    "text_to_image",
                    height=128,
                    width=128,
                    num_inference_steps=3,
                    guidance_scale=5.0,
                    scheduler="dpm",
                ),
                "captioner": _tiny("captioner"),
                "grounding": _tiny("grounding"),
                "segmenter": _tiny("segmenter"),
                "depth": _tiny("depth"),
                "clip": _tiny("clip"),
            },
        ),
        "fast": Profile(
            name="fast",
            description="small real models for one consumer GPU",
            specs={
                "llm": ComponentSpec(
                    "llm", "Qwen/Qwen2.5-0.5B-Instruct", {"max_new_tokens": 96, "temperature": 0.8, "top_p": 0.9}
                ),
                # SD-Turbo is distilled for 1-4 steps without classifier-free guidance.
                "text_to_image": ComponentSpec(
                    "text_to_image",
                    "stabilityai/sd-turbo",
                    {
                        "height": 512,
                        "width": 512,
                        "num_inference_steps": 4,
                        "guidance_scale": 0.0,
                        "scheduler": "euler_a",
                    },
                ),
                "captioner": ComponentSpec("captioner", "Salesforce/blip-image-captioning-base"),
                "grounding": ComponentSpec("grounding", "IDEA-Research/grounding-dino-tiny"),
                "segmenter": ComponentSpec("segmenter", "facebook/sam-vit-base"),
                "depth": ComponentSpec("depth", "Intel/dpt-hybrid-midas"),
                "clip": ComponentSpec("clip", "openai/clip-vit-base-patch32"),
            },
        ),
        "paper": Profile(
            name="paper",
            description="the paper's setup (Llama-2-7B, SD 1.5, BLIP large, GroundingDINO + SAM ViT-H, DPT-large)",
            specs={
                "llm": ComponentSpec(
                    "llm", "meta-llama/Llama-2-7b-hf", {"max_new_tokens": 96, "temperature": 0.8, "top_p": 0.9}
                ),
                "text_to_image": ComponentSpec(
                    "text_to_image",
                    "stable-diffusion-v1-5/stable-diffusion-v1-5",
                    {
                        "height": 512,
                        "width": 512,
                        "num_inference_steps": 25,
                        "guidance_scale": 7.5,
                        "scheduler": "dpm",
                    },
                ),
                "captioner": ComponentSpec("captioner", "Salesforce/blip-image-captioning-large"),
                "grounding": ComponentSpec("grounding", "IDEA-Research/grounding-dino-base"),
                "segmenter": ComponentSpec("segmenter", "facebook/sam-vit-huge"),
                "depth": ComponentSpec("depth", "Intel/dpt-large"),
                "clip": ComponentSpec("clip", "openai/clip-vit-large-patch14"),
            },
        ),
    }
)


def get_profile(name: str) -> Profile:
    """The profile called ``name``.

    Raises:
        UnknownProfileError: naming the value and listing the profiles.
    """
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise UnknownProfileError(f"Unknown model profile {name!r}; profiles are: {', '.join(PROFILES)}") from None


def get_spec(component: str, profile: str = DEFAULT_PROFILE) -> ComponentSpec:
    """The :class:`ComponentSpec` of ``component`` in ``profile``."""
    return get_profile(profile)[component]


def model_id(profile: str, component: str) -> str:
    """The model id of ``component`` in ``profile`` (for metadata), e.g. ``model_id("paper", "depth")``."""
    return get_spec(component, profile).model_id


def weights_env_var(component: str) -> str:
    """Name of the env var that overrides a component's weights path, e.g. ``CINEMA_DAG_WEIGHTS_LLM``."""
    return "CINEMA_DAG_WEIGHTS_" + check_component(component).upper()
