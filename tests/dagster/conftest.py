import dagster as dg
import pytest

# `resources` and `instance` are in tests/conftest.py (the fault tests use them too).


def _metadata(result: dg.ExecuteInProcessResult, node: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(node)[0].metadata.items()}


@pytest.fixture
def metadata():
    """``metadata(result, node)``: the first materialization's metadata values of a node."""
    return _metadata
