"""retraining_celery_job on real Celery workers: Redis on loopback, one `gpu` worker, one CPU worker.

The event log shows which worker process ran each step: GPU-tagged steps go to the ``gpu`` queue and
run in the GPU worker's process, the CPU step runs in the CPU worker's process, none in the test's.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG
from loopback_services import stop_process_group

from cinema_dag.assets._common import GPU_POOL, GPU_QUEUE
from cinema_dag.automation.executors import CELERY_DEFAULT_QUEUE, celery_redis_executor
from cinema_dag.definitions import defs

REPO = Path(__file__).resolve().parents[2]
# The retraining chain's last two steps: the corpus (CPU) and the LoRA training (GPU-bound), on the
# tiny profile with a few optimizer steps.
GPU_STEPS = ["prompt_lora"]
CPU_STEPS = ["prompt_corpus"]
RUN_CONFIG = {"ops": {"prompt_lora": {"config": {"max_steps": 2, "batch_size": 2}}}}


def test_gpu_assets_go_to_the_gpu_queue_and_all_others_to_the_default_queue():
    definitions = defs()
    graph = definitions.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node = definitions.resolve_assets_def(key).node_def
        queue = node.tags.get(DAGSTER_CELERY_QUEUE_TAG, CELERY_DEFAULT_QUEUE)  # the tag dagster-celery reads
        assert queue == (GPU_QUEUE if node.pool == GPU_POOL else CELERY_DEFAULT_QUEUE), key
    for name in ("cinemagraph_celery_job", "retraining_celery_job"):
        assert definitions.resolve_job_def(name).executor_def.name == celery_redis_executor.name


def parent_pid(pid: int) -> int:
    # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")".
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = parent_pid(pid)
    return False


def start_worker(name: str, queue: str, env: dict, log: Path) -> subprocess.Popen:
    """`dagster-celery worker start` for one queue; solo pool, so a step runs in the worker's process."""
    command = [str(Path(sys.executable).with_name("dagster-celery")), "worker", "start", "-A", "dagster_celery.app",
               "-y", str(REPO / "deploy" / "celery.yaml"), "-q", queue, "-n", name, "--",
               "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    # Its own process group: dagster-celery runs `celery worker` as a child, and both must stop.
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=REPO,
                            start_new_session=True)


def wait_ready(worker: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"celery worker exited with {worker.returncode}:\n{log.read_text()}")
        if " ready." in log.read_text():
            return
        time.sleep(0.2)
    raise TimeoutError(f"celery worker not ready after {timeout} s:\n{log.read_text()}")


@pytest.fixture
def celery_env(redis_url, tmp_path, tiny_cache, monkeypatch):
    """Environment shared by the test (the run's orchestrator) and the workers: one instance, one store."""
    home, data = tmp_path / "dagster_home", tmp_path / "cinema_home"
    home.mkdir()
    data.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (data / "models").symlink_to(tiny_cache, target_is_directory=True)  # tiny models built once per session
    settings = {
        "DAGSTER_HOME": str(home), "CINEMA_DAG_HOME": str(data), "CINEMA_DAG_PROFILE": "tiny",
        "CINEMA_DAG_DEVICE": "cpu", "CINEMA_DAG_CELERY_BROKER": f"{redis_url}/0",
        "CINEMA_DAG_CELERY_BACKEND": f"{redis_url}/1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    # Create the SQLite storage once here: both workers open the instance as they start, and two
    # processes creating it at once can leave two schema versions stamped.
    dg.DagsterInstance.get().dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    return env


def read_steps(events):
    """Per step: the queue it was submitted to, the Celery worker that ran it, the PIDs of its events."""
    queue_of, worker_of, pids_of = {}, {}, {}
    for entry in events:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        message = entry.message or ""
        if event.event_type == dg.DagsterEventType.ENGINE_EVENT and message.startswith("Submitting celery task"):
            queue_of[event.step_key] = message.rsplit('to queue "', 1)[1].rstrip('".')
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and "in celery worker" in message:
            worker_of[event.step_key] = event.engine_event_data.metadata["Celery worker"].value
        elif event.event_type in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS,
                                  dg.DagsterEventType.ASSET_MATERIALIZATION):
            pids_of.setdefault(event.step_key, set()).add(event.pid)
    return queue_of, worker_of, pids_of


@pytest.mark.slow
def test_steps_run_on_separate_workers_and_gpu_steps_on_the_gpu_queue(celery_env, tmp_path):
    logs = {"gpu": tmp_path / "gpu_worker.log", "cpu": tmp_path / "cpu_worker.log"}
    workers = {"gpu": start_worker("gpu", GPU_QUEUE, celery_env, logs["gpu"]),
               "cpu": start_worker("cpu", CELERY_DEFAULT_QUEUE, celery_env, logs["cpu"])}
    try:
        for kind, worker in workers.items():
            wait_ready(worker, logs[kind])
        job = ReconstructableRepository.for_module(
            "cinema_dag.definitions", "defs", working_directory=str(REPO)).get_reconstructable_job(
            "retraining_celery_job")
        with dg.DagsterInstance.get() as instance:
            result = dg.execute_job(job, instance, run_config=RUN_CONFIG,
                                    asset_selection=[dg.AssetKey(k) for k in CPU_STEPS + GPU_STEPS])
            assert result.success, "\n".join(logs[k].read_text()[-3000:] for k in logs)
            queue_of, worker_of, pids_of = read_steps(instance.all_logs(result.run_id))
        assert set(pids_of) == set(GPU_STEPS + CPU_STEPS)
        assert all(len(pids) == 1 for pids in pids_of.values()), pids_of  # start to end in one process
        pid = {step: next(iter(pids)) for step, pids in pids_of.items()}
        # While the workers still run: each step's process is the worker's (or its child).
        ran_in = {step: [kind for kind, w in workers.items() if descends_from(pid[step], w.pid)] for step in pid}
    finally:
        for worker in workers.values():
            stop_process_group(worker)

    for step in GPU_STEPS:
        assert queue_of[step] == GPU_QUEUE and worker_of[step].startswith("gpu@"), (step, queue_of, worker_of)
        assert ran_in[step] == ["gpu"], (step, pid, ran_in)
    for step in CPU_STEPS:
        assert queue_of[step] == CELERY_DEFAULT_QUEUE and worker_of[step].startswith("cpu@"), (step, queue_of)
        assert ran_in[step] == ["cpu"], (step, pid, ran_in)
    assert len(set(pid.values())) == 2 and os.getpid() not in pid.values(), pid  # two workers, not the test
