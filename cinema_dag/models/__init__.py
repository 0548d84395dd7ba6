"""The model registry: profiles (``tiny``/``fast``/``paper``), tiny offline models, lazy loading.

Importing this package does not import torch, transformers or diffusers: the Dagster layer can read
profile names and defaults at definition-load time; models load only in :func:`load_component`.

Example:
    >>> from cinema_dag.models import get_spec, load_component
    >>> get_spec("llm", profile="tiny").model_id
    'cinema-dag/tiny-llm'
    >>> llm = load_component("llm", profile="tiny", cache_dir="/tmp/models")   # doctest: +SKIP
    >>> llm.model_id                                                           # doctest: +SKIP
    'cinema-dag/tiny-llm'
"""

from cinema_dag.models.device import free_memory, resolve_device, resolve_dtype
from cinema_dag.models.errors import (
    MissingWeightsError,
    ModelRegistryError,
    UnknownComponentError,
    UnknownProfileError,
)
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
from cinema_dag.models.profiles import (
    COMPONENTS,
    DEFAULT_PROFILE,
    PROFILES,
    ComponentSpec,
    Profile,
    get_profile,
    get_spec,
    weights_env_var,
)
from cinema_dag.models.registry import default_cache_dir, load_component, resolve_weights

__all__ = [
    "COMPONENTS",
    "DEFAULT_PROFILE",
    "PROFILES",
    "ComponentSpec",
    "Profile",
    "get_profile",
    "get_spec",
    "weights_env_var",
    "default_cache_dir",
    "resolve_weights",
    "load_component",
    "resolve_device",
    "resolve_dtype",
    "free_memory",
    "ModelRegistryError",
    "UnknownProfileError",
    "UnknownComponentError",
    "MissingWeightsError",
    "LoadedComponent",
    "LoadedLLM",
    "LoadedTextToImage",
    "LoadedCaptioner",
    "LoadedGrounding",
    "LoadedSegmenter",
    "LoadedDepth",
    "LoadedClip",
]
