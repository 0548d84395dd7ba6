import dagster as dg
import pytest

from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


@pytest.fixture
def resources(tmp_path, tiny_cache):
    """Resources of the embedded default, on a fresh store and the session's tiny-model cache."""
    return {
        "store": ArtefactStore(root=str(tmp_path / "artefacts")),
        "models": ModelRegistry(profile="tiny", cache_dir=str(tiny_cache)),
        "device": TorchDevice(device="cpu"),
    }


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _metadata(result: dg.ExecuteInProcessResult, node: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(node)[0].metadata.items()}


@pytest.fixture
def metadata():
    """``metadata(result, node)``: the first materialization's metadata values of a node."""
    return _metadata
