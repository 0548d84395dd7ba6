"""The README's environment variables reach the code location's resources (cinema_dag.resources)."""

import os

import dagster as dg
import pytest

from cinema_dag.assets.prompts import generated_prompts
from cinema_dag.definitions import defs
from cinema_dag.resources import ArtefactStore, ModelRegistry
from cinema_dag.storage import ArtefactStorage

SETTINGS = ("CINEMA_DAG_HOME", "CINEMA_DAG_PROFILE", "CINEMA_DAG_DEVICE", "CINEMA_DAG_TORCH_THREADS",
            "CINEMA_DAG_ALLOW_DOWNLOAD")


@pytest.fixture
def clean_env(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def resolved(resources: dict) -> dict:
    """Field values as a run sees them: Dagster resolves each EnvVar when the resources initialise."""
    with dg.build_resources(resources) as built:
        return {
            "root": built.store.resolved_root,
            "profile": built.models.profile,
            "cache_dir": built.models.resolved_cache_dir,
            "allow_download": built.models.allow_download,
            "device": built.device.device,
            "threads": built.device.threads,
        }


def test_unset_variables_keep_the_defaults(clean_env):
    assert resolved(defs().resources) == {
        "root": os.path.join("data", "artefacts"),
        "profile": "tiny",
        "cache_dir": os.path.join("data", "models"),
        "allow_download": False,
        "device": "auto",
        "threads": 0,
    }


def test_every_variable_is_honoured(clean_env, tmp_path):
    clean_env.setenv("CINEMA_DAG_HOME", str(tmp_path))
    clean_env.setenv("CINEMA_DAG_PROFILE", "fast")
    clean_env.setenv("CINEMA_DAG_DEVICE", "cpu")
    clean_env.setenv("CINEMA_DAG_TORCH_THREADS", "3")
    clean_env.setenv("CINEMA_DAG_ALLOW_DOWNLOAD", "1")
    assert resolved(defs().resources) == {
        "root": str(tmp_path / "artefacts"),
        "profile": "fast",
        "cache_dir": str(tmp_path / "models"),
        "allow_download": True,
        "device": "cpu",
        "threads": 3,
    }


def test_allow_download_needs_exactly_one(clean_env):
    clean_env.setenv("CINEMA_DAG_ALLOW_DOWNLOAD", "0")
    assert resolved(defs().resources)["allow_download"] is False


def test_env_vars_are_read_when_a_run_starts_not_when_definitions_load(clean_env, tmp_path):
    clean_env.setenv("CINEMA_DAG_HOME", str(tmp_path / "first"))
    clean_env.setenv("CINEMA_DAG_PROFILE", "fast")
    clean_env.setenv("CINEMA_DAG_DEVICE", "cuda")
    clean_env.setenv("CINEMA_DAG_TORCH_THREADS", "2")
    resources = defs().resources
    # The UI shows the variable, not its value.
    assert isinstance(resources["models"].profile, dg.EnvVar)
    assert isinstance(resources["store"].home, dg.EnvVar) and isinstance(resources["models"].home, dg.EnvVar)
    assert isinstance(resources["device"].device, dg.EnvVar)
    clean_env.setenv("CINEMA_DAG_HOME", str(tmp_path / "second"))
    clean_env.setenv("CINEMA_DAG_PROFILE", "paper")
    clean_env.setenv("CINEMA_DAG_DEVICE", "cpu")
    clean_env.setenv("CINEMA_DAG_TORCH_THREADS", "1")
    now = resolved(resources)
    assert (now["root"], now["cache_dir"]) == (str(tmp_path / "second" / "artefacts"),
                                               str(tmp_path / "second" / "models"))
    assert (now["profile"], now["device"], now["threads"]) == ("paper", "cpu", 1)


def test_a_run_writes_under_the_home_set_when_it_starts(clean_env, tmp_path, instance):
    """The store of a real run follows CINEMA_DAG_HOME as it is when the run starts."""
    clean_env.setenv("CINEMA_DAG_HOME", str(tmp_path / "at_load"))
    resources = defs().resources

    @dg.asset
    def written(store: ArtefactStore) -> None:
        with store.stage("written", "flood") as out:
            (out / "x.txt").write_text("x")

    clean_env.setenv("CINEMA_DAG_HOME", str(tmp_path / "at_run"))
    assert dg.materialize([written], resources={"store": resources["store"]}, instance=instance).success
    assert ArtefactStorage(tmp_path / "at_run" / "artefacts").is_complete("written", "flood")
    assert not (tmp_path / "at_load").exists()


def test_explicit_root_and_cache_dir_override_the_home(tmp_path):
    with dg.build_resources({"store": ArtefactStore(home="h", root=str(tmp_path / "r")),
                             "models": ModelRegistry(home="h", cache_dir=str(tmp_path / "c"))}) as built:
        assert (built.store.resolved_root, built.models.resolved_cache_dir) == (str(tmp_path / "r"),
                                                                                  str(tmp_path / "c"))


def test_a_bad_thread_count_names_the_variable(clean_env):
    clean_env.setenv("CINEMA_DAG_TORCH_THREADS", "many")
    resources = defs().resources
    with pytest.raises(Exception, match="CINEMA_DAG_TORCH_THREADS"):
        resolved(resources)


def test_profile_variable_reaches_an_asset_run(clean_env, tmp_path):
    """README: ``CINEMA_DAG_PROFILE=paper`` without weights fails the asset with the paper's model id."""
    clean_env.setenv("CINEMA_DAG_HOME", str(tmp_path / "home"))
    clean_env.setenv("CINEMA_DAG_PROFILE", "paper")
    clean_env.setenv("HF_HUB_OFFLINE", "1")
    clean_env.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))
    clean_env.setenv("HF_HUB_CACHE", str(tmp_path / "empty_hf_home" / "hub"))
    clean_env.delenv("CINEMA_DAG_WEIGHTS_LLM", raising=False)
    with dg.instance_for_test() as instance:
        result = dg.materialize([generated_prompts], partition_key="flood", resources=defs().resources,
                                instance=instance, raise_on_error=False)
    assert not result.success
    error = result.failure_data_for_node("generated_prompts").error
    message = error.cause.message if error.cause else error.message
    assert "meta-llama/Llama-2-7b-hf" in message
