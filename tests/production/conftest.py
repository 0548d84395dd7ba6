"""Real services on loopback for the production tests: PostgreSQL and Redis, started per session.

Each server is started by the test session itself (a throwaway data folder, a free port on
127.0.0.1) and stopped by its PID at the end, so the tests run the same locally and in CI. Without
the server binaries the tests skip and say which package to install — unless
``CINEMA_DAG_REQUIRE_SERVICES=1`` (set by ``.ci/run``, which installs them), where a missing binary
is a failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from loopback_services import free_port, missing, stop_process, wait_for_port

from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice

PG_USER, PG_PASSWORD, PG_DB = "cinema", "cinema-test-password", "cinema_dag"


def _postgres_bindir() -> Path | None:
    # Debian keeps the server binaries (initdb, pg_ctl) out of PATH, under /usr/lib/postgresql/<v>/bin.
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on 127.0.0.1 with password authentication and an empty database.

    Yields the ``DAGSTER_PG_*`` variables that ``deploy/dagster.yaml`` reads.
    """
    bindir = _postgres_bindir()
    if bindir is None:
        missing("PostgreSQL server binaries (initdb, pg_ctl)", "postgresql")
    # PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user in a
    # folder that user owns (pytest's own tmp folders are private to root).
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="cinema-dag-pg-"))
    data, password_file = folder / "data", folder / "password"
    password_file.write_text(PG_PASSWORD)
    if as_user:
        shutil.chown(folder, "postgres")
        shutil.chown(password_file, "postgres")
    port = free_port()
    run = dict(check=True, capture_output=True, text=True)
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", PG_USER,
                        f"--pwfile={password_file}", "--auth-host=scram-sha-256", "--auth-local=trust",
                        "--encoding=UTF8", "--no-sync"], **run)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                        "-o", f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
                              " -c fsync=off", "-w", "-t", "60", "start"], **run)
    except subprocess.CalledProcessError as error:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{log}") from error
    try:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, password=PG_PASSWORD,
                                      dbname="postgres")
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        connection.cursor().execute(f"CREATE DATABASE {PG_DB}")
        connection.close()
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_DB": PG_DB,
               "DAGSTER_PG_USERNAME": PG_USER, "DAGSTER_PG_PASSWORD": PG_PASSWORD}
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url():
    """A Redis server on 127.0.0.1 (no persistence); yields its ``redis://`` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server", "redis-server")
    port = free_port()
    process = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 20, process)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(process)


@pytest.fixture
def resources(tmp_path, tiny_cache):
    """The default resources on a fresh store and the session's tiny-model cache."""
    return {
        "store": ArtefactStore(root=str(tmp_path / "artefacts")),
        "models": ModelRegistry(profile="tiny", cache_dir=str(tiny_cache)),
        "device": TorchDevice(device="cpu"),
    }
