"""Shared test settings: offline, deterministic threads, one tiny-model cache per session."""

import os

# Before torch is imported anywhere: on small virtual machines two OpenMP threads can be far slower
# than one for element-wise ops, and tests must never reach a hub.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

import pytest


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    """A model cache folder shared by every test of the session (tiny models are built once)."""
    return tmp_path_factory.mktemp("models")
