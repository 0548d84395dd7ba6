"""The model registry resource: profiles, lazy loading, one load per process per run."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from cinema_dag.defaults import DEFAULT_HOME
from cinema_dag.models.profiles import DEFAULT_PROFILE


class ModelRegistry(dg.ConfigurableResource):
    """Loads every model of the pipeline from one profile.

    Profiles: ``tiny`` (random-init models built from configs, offline, the default), ``fast`` (one
    consumer GPU) and ``paper`` (the paper's models). ``local_paths`` maps a component (``llm``,
    ``text_to_image``, ``captioner``, ``grounding``, ``segmenter``, ``depth``) to a local weights folder;
    without one, real profiles look in the Hugging Face cache and fail at once with the model id when
    the weights are absent (``allow_download`` lets them fetch from the hub where there is network).
    """

    profile: str = DEFAULT_PROFILE
    home: str = Field(default=DEFAULT_HOME, description="Base folder; the cache is <home>/models unless set.")
    cache_dir: str | None = Field(default=None, description="Where tiny models are built; unset: <home>/models.")
    local_paths: dict[str, str] = Field(default_factory=dict)
    allow_download: bool = False
    _loaded: dict[tuple[str, str, str], Any] = PrivateAttr(default_factory=dict)

    @property
    def resolved_cache_dir(self) -> str:
        """The model cache in use: ``cache_dir``, else ``<home>/models``."""
        return self.cache_dir if self.cache_dir else os.path.join(self.home, "models")

    def load(self, component: str, device: Any = "cpu", dtype: Any = None) -> Any:
        """The loaded component (cached for the rest of this run in this process)."""
        from cinema_dag.models import load_component

        key = (component, str(device), str(dtype))
        if key not in self._loaded:
            self._loaded[key] = load_component(
                component,
                profile=self.profile,
                cache_dir=self.resolved_cache_dir,
                device=device,
                dtype=dtype,
                local_paths=self.local_paths,
                allow_download=self.allow_download,
            )
        return self._loaded[key]

    def model_id(self, component: str) -> str:
        from cinema_dag.models import profiles

        return profiles.get_spec(component, self.profile).model_id

    def release(self) -> None:
        """Drop every loaded model (the device resource frees the accelerator's cache)."""
        self._loaded.clear()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.release()
