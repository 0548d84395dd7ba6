"""Errors of the model registry: one hierarchy, one line each on when it is raised."""

from __future__ import annotations

__all__ = [
    "ModelRegistryError",
    "UnknownProfileError",
    "UnknownComponentError",
    "MissingWeightsError",
]


class ModelRegistryError(RuntimeError):
    """Base class: something about choosing or loading a model went wrong."""


class UnknownProfileError(ModelRegistryError, ValueError):
    """A profile name that is not one of ``PROFILES``."""


class UnknownComponentError(ModelRegistryError, ValueError):
    """A component name that is not one of ``COMPONENTS``."""


class MissingWeightsError(ModelRegistryError, FileNotFoundError):
    """A real profile's weights are neither given locally, nor in the HF cache, nor downloadable.

    Attributes:
        component: the component that was asked for (``"llm"``, ``"depth"``, ...).
        model_id: the hub id the profile names for it.
        profile: the profile name.
    """

    def __init__(self, message: str, *, component: str, model_id: str, profile: str) -> None:
        super().__init__(message)
        self.component = component
        self.model_id = model_id
        self.profile = profile
