"""The model registry: resolve a component's weights for a profile and load them, offline first.

Weights are found in this order:

1. an explicit local folder: ``local_paths={"llm": "/models/llama"}``, or (real profiles only, so a
   developer's environment cannot change what the tests load) the env var
   ``CINEMA_DAG_WEIGHTS_<COMPONENT>``, e.g. ``CINEMA_DAG_WEIGHTS_TEXT_TO_IMAGE``;
2. ``tiny`` profile: the tiny model folder under ``cache_dir`` (built once, see :mod:`.tiny`);
   real profiles: the Hugging Face cache (``HF_HUB_CACHE`` / ``HF_HOME``), looked up without network;
3. only with ``allow_download=True``: the hub.

Otherwise :class:`MissingWeightsError` is raised at once (no network wait). Every load, tiny or
real, is ``from_pretrained(<local folder>, local_files_only=True, use_safetensors=True)``.

Importing this module is cheap: torch, transformers and diffusers are imported inside the loaders.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cinema_dag.models.errors import MissingWeightsError
from cinema_dag.models.loaded import (
    LoadedCaptioner,
    LoadedClip,
    LoadedComponent,
    LoadedDepth,
    LoadedGrounding,
    LoadedLLM,
    LoadedSegmenter,
    LoadedTextToImage,
)
from cinema_dag.models.profiles import DEFAULT_PROFILE, ComponentSpec, check_component, get_spec, weights_env_var

__all__ = [
    "CACHE_ENV_VAR",
    "default_cache_dir",
    "resolve_weights",
    "load_component",
]

#: Env var for the default tiny-model cache folder (read when a call does not give ``cache_dir``).
CACHE_ENV_VAR = "CINEMA_DAG_CACHE"

# What a hub download fetches: configs, tokenizers and safetensors only (never pickles, never the
# single-file checkpoints at the root of SD repositories, never fp16/non-EMA duplicates).
_DOWNLOAD_PATTERNS: dict[str, tuple[list[str], list[str]]] = {
    "transformers": (
        ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken"],
        ["*.bin", "*.pt", "*.pth", "*.ckpt", "*.h5", "*.msgpack", "*.onnx", "onnx/*", "*.gguf"],
    ),
    "diffusers": (
        ["*.json", "*/*.safetensors", "*.txt"],
        ["*.fp16.*", "*non_ema*", "*.bin", "*.ckpt", "safety_checker/*", "*.onnx", "*.msgpack"],
    ),
}


def default_cache_dir() -> Path:
    """``$CINEMA_DAG_CACHE``, else ``~/.cache/cinema-dag/models``."""
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env) if env else Path.home() / ".cache" / "cinema-dag" / "models"


def _hf_hub_cache() -> Path:
    # Read the env now, not huggingface_hub.constants (fixed when that module was first imported),
    # so a process or test that sets HF_HOME / HF_HUB_CACHE later is honoured.
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _how_to_provide(spec: ComponentSpec, profile: str) -> str:
    c, env = spec.component, weights_env_var(spec.component)
    return (
        f"Provide it in one of these ways: (1) a local folder saved with save_pretrained, as "
        f"local_paths={{{c!r}: '/path/to/folder'}} or the env var {env}=/path/to/folder; "
        f"(2) a Hugging Face cache that holds {spec.model_id!r} (fetch it on a machine with network, "
        f"e.g. `hf download {spec.model_id}`, then point HF_HOME at that cache); "
        f"(3) allow_download=True with network access and HF_HUB_OFFLINE unset. "
        f"Profile 'tiny' needs no weights."
    )


def _missing(spec: ComponentSpec, profile: str, why: str) -> MissingWeightsError:
    return MissingWeightsError(
        f"No weights for component {spec.component!r} of profile {profile!r} (model {spec.model_id!r}): "
        f"{why}. {_how_to_provide(spec, profile)}",
        component=spec.component,
        model_id=spec.model_id,
        profile=profile,
    )


def _has_weights(folder: Path) -> bool:
    return any(folder.rglob("*.safetensors"))


def resolve_weights(
    component: str,
    *,
    profile: str = DEFAULT_PROFILE,
    cache_dir: str | os.PathLike[str] | None = None,
    local_paths: Mapping[str, str | os.PathLike[str]] | None = None,
    allow_download: bool = False,
) -> Path:
    """The local folder holding ``component``'s weights for ``profile`` (see the module docstring).

    For ``tiny`` this builds the model under ``cache_dir`` on first use.

    Raises:
        UnknownProfileError / UnknownComponentError: bad names (listing the valid ones).
        MissingWeightsError: a real profile's weights cannot be found (naming component, model id,
            profile and how to provide them), or an explicit local path does not exist.
    """
    check_component(component)
    spec = get_spec(component, profile)

    # 1. explicit local folder
    explicit = (local_paths or {}).get(component)
    source = "local_paths"
    if explicit is None and not spec.is_tiny and os.environ.get(weights_env_var(component)):
        explicit, source = os.environ[weights_env_var(component)], weights_env_var(component)
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_dir():
            raise _missing(spec, profile, f"the folder {str(path)!r} given by {source} does not exist")
        return path

    # 2. tiny: built once into the cache folder
    if spec.is_tiny:
        from cinema_dag.models.tiny import ensure_tiny

        return ensure_tiny(cache_dir if cache_dir is not None else default_cache_dir(), component)

    # 2. real: the HF cache, without touching the network
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    hub_cache = _hf_hub_cache()
    try:
        cached = Path(snapshot_download(spec.model_id, cache_dir=hub_cache, local_files_only=True))
        if _has_weights(cached):
            return cached
        why = f"the Hugging Face cache {str(hub_cache)!r} has {spec.model_id!r} but no .safetensors weights"
    except LocalEntryNotFoundError:
        why = f"it is not in the Hugging Face cache {str(hub_cache)!r}"

    # 3. the hub, only when allowed
    if not allow_download:
        raise _missing(spec, profile, why + " and allow_download is False")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise _missing(spec, profile, why + " and HF_HUB_OFFLINE is set")
    allow, ignore = _DOWNLOAD_PATTERNS["diffusers" if component == "text_to_image" else "transformers"]
    try:
        downloaded = Path(
            snapshot_download(spec.model_id, cache_dir=hub_cache, allow_patterns=allow, ignore_patterns=ignore)
        )
    except OSError as err:  # huggingface_hub's HTTP and offline errors derive from OSError
        raise _missing(spec, profile, f"{why}, and the download failed: {err}") from err
    if not _has_weights(downloaded):
        raise _missing(spec, profile, "the hub repository has no .safetensors weights (only those are loaded)")
    return downloaded


def load_component(
    component: str,
    *,
    profile: str = DEFAULT_PROFILE,
    cache_dir: str | os.PathLike[str] | None = None,
    device: Any = "cpu",
    dtype: Any = None,
    local_paths: Mapping[str, str | os.PathLike[str]] | None = None,
    allow_download: bool = False,
) -> LoadedComponent:
    """Load one component of the chain, in eval mode, on ``device``.

    Args:
        component: one of ``COMPONENTS``: ``llm``, ``text_to_image``, ``captioner``, ``grounding``,
            ``segmenter``, ``depth``, ``clip``.
        profile: ``tiny`` (default), ``fast`` or ``paper``.
        cache_dir: where tiny models are built and kept; default :func:`default_cache_dir`.
        device: ``"cpu"``, ``"cuda"``, ``"mps"``, ``"auto"`` or a ``torch.device``.
        dtype: ``None``/``"auto"`` (float16 on accelerators, float32 on CPU), a name or a ``torch.dtype``.
        local_paths: per-component local folders that override the profile's weights.
        allow_download: allow fetching missing real weights from the hub (off by default).

    Returns:
        The component's ``Loaded*`` dataclass (``LoadedLLM``, ``LoadedTextToImage``, ...).
    """
    import torch

    from cinema_dag.models.device import resolve_device, resolve_dtype

    check_component(component)
    spec = get_spec(component, profile)
    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    torch_dtype = resolve_dtype(dtype, torch_device)
    path = resolve_weights(
        component, profile=profile, cache_dir=cache_dir, local_paths=local_paths, allow_download=allow_download
    )
    common = dict(
        component=component,
        profile=profile,
        model_id=spec.model_id,
        source_path=path,
        device=torch_device,
        dtype=torch_dtype,
        defaults=spec.defaults,
    )
    return _LOADERS[component](path, torch_device, torch_dtype, common)


# --------------------------------------------------------------------------- loaders

_PRETRAINED = {"local_files_only": True}
_WEIGHTS = {"local_files_only": True, "use_safetensors": True}


def _load_llm(path: Path, device: Any, dtype: Any, common: dict[str, Any]) -> LoadedLLM:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, **_PRETRAINED)
    if tokenizer.pad_token is None:
        # Llama-2 has no pad token; batch generation needs one, and EOS is the usual stand-in.
        tokenizer.pad_token = tokenizer.eos_token
    # Decoder-only generation continues after the last token, so pad on the left.
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **_WEIGHTS).to(device).eval()
    return LoadedLLM(model=model, tokenizer=tokenizer, **common)


def _load_text_to_image(path: Path, device: Any, dtype: Any, common: dict[str, Any]) -> LoadedTextToImage:
    from diffusers import StableDiffusionPipeline

    pipeline = StableDiffusionPipeline.from_pretrained(
        path,
        dtype=dtype,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
        **_WEIGHTS,
    ).to(device)
    pipeline.set_progress_bar_config(disable=True)
    return LoadedTextToImage(pipeline=pipeline, **common)


def _model_with_processor(
    model_class: str, processor_class: str, loaded_class: Callable[..., LoadedComponent]
) -> Callable[[Path, Any, Any, dict[str, Any]], LoadedComponent]:
    """A loader for a transformers model + processor pair (captioner, grounding, segmenter, depth).

    Classes are named, not imported, so transformers loads only when a component does.
    """

    def load(path: Path, device: Any, dtype: Any, common: dict[str, Any]) -> LoadedComponent:
        import transformers

        processor = getattr(transformers, processor_class).from_pretrained(path, **_PRETRAINED)
        model = getattr(transformers, model_class).from_pretrained(path, dtype=dtype, **_WEIGHTS)
        return loaded_class(model=model.to(device).eval(), processor=processor, **common)

    return load


_LOADERS: dict[str, Callable[[Path, Any, Any, dict[str, Any]], LoadedComponent]] = {
    "llm": _load_llm,
    "text_to_image": _load_text_to_image,
    "captioner": _model_with_processor("BlipForConditionalGeneration", "BlipProcessor", LoadedCaptioner),
    "grounding": _model_with_processor("GroundingDinoForObjectDetection", "GroundingDinoProcessor", LoadedGrounding),
    "segmenter": _model_with_processor("SamModel", "SamProcessor", LoadedSegmenter),
    "depth": _model_with_processor("AutoModelForDepthEstimation", "AutoImageProcessor", LoadedDepth),
    "clip": _model_with_processor("CLIPModel", "CLIPProcessor", LoadedClip),
}
