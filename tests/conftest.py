"""Shared test settings: offline, deterministic threads, one tiny-model cache per session."""

import os

# Before torch is imported anywhere: on small virtual machines two OpenMP threads can be far slower
# than one for element-wise ops, and tests must never reach a hub.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    """A model cache folder shared by every test of the session (tiny models are built once)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def resources(tmp_path, tiny_cache):
    """Dagster resources of the embedded default, on a fresh store and the session's tiny-model cache."""
    from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice

    return {
        "store": ArtefactStore(root=str(tmp_path / "artefacts")),
        "models": ModelRegistry(profile="tiny", cache_dir=str(tiny_cache)),
        "device": TorchDevice(device="cpu"),
    }


@pytest.fixture
def instance():
    """A throwaway Dagster instance."""
    import dagster as dg

    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A real S3-compatible server (moto in server mode) in its own process on 127.0.0.1.

    Its URL and dummy credentials go into the environment only (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID`` …): the code under test reads nothing else, as in production, and
    subprocesses inherit them.
    """
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    pytest.importorskip("moto.server", reason="moto (dev dependency) is not installed")
    log = open(tmp_path_factory.mktemp("moto") / "moto_server.log", "wb")
    for _attempt in range(5):
        with socket.socket() as sock:  # a free port; the server binds it a moment later
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        if server.poll() is None:
            break
    else:
        pytest.fail(f"moto_server did not start; see {log.name}")
    saved = {k: os.environ.get(k) for k in
             ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    try:
        yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()  # our own child, by its handle
        server.wait(timeout=10)
        log.close()


@pytest.fixture
def s3_root(s3_endpoint):
    """``s3://<fresh bucket>/artefacts`` on the loopback S3 server."""
    import uuid

    import s3fs

    bucket = f"cinema-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(bucket)
    return f"s3://{bucket}/artefacts"
