"""The asset jobs on distributed executors: Celery workers (Redis broker) and Kubernetes step pods.

Each variant runs the same asset selection as its job in :mod:`cinema_dag.automation.jobs`, with every
step in its own worker process or pod. Where a step runs follows its op tags
(:data:`cinema_dag.assets._common.GPU_OP_TAGS`, set on every ``pool="gpu"`` asset):

- Celery: GPU steps go to the ``gpu`` queue, consumed only by workers on GPU hosts
  (``dagster-celery worker start -A dagster_celery.app -y deploy/celery.yaml -q gpu``); every other
  step goes to the default ``dagster`` queue (``-q dagster`` on CPU hosts), so a GPU worker never
  runs a crawl. The broker and result backend URLs (which may hold a password) come from
  ``CINEMA_DAG_CELERY_BROKER`` and ``CINEMA_DAG_CELERY_BACKEND``.
- Kubernetes (under the Helm chart's ``K8sRunLauncher``, deploy/helm/values.yaml): one pod per step;
  GPU steps add ``nvidia.com/gpu: 1``, a GPU node selector and a toleration to the CPU/memory
  requests every step pod gets here.

Both need a persistent instance every worker reaches (deploy/dagster.yaml: PostgreSQL) and the
artefact store on storage every worker reaches (``CINEMA_DAG_HOME`` on a shared volume or object store).

``CINEMA_DAG_EXECUTOR=k8s`` (or ``celery``) makes that executor the default of every job that does not
name its own — the asset jobs, and the runs the UI launches to materialize or backfill assets, which
would otherwise run every step inside the run pod with no GPU (dagster-io/dagster#22865, #33430).
"""

import os

import dagster as dg
from dagster_celery import celery_executor
from dagster_k8s import k8s_job_executor

from cinema_dag.automation.jobs import CINEMAGRAPH_ASSETS, RETRAINING_ASSETS

CELERY_DEFAULT_QUEUE = "dagster"  # dagster-celery's default queue: CPU steps

celery_redis_executor = celery_executor.configured(
    {
        "broker": {"env": "CINEMA_DAG_CELERY_BROKER"},
        "backend": {"env": "CINEMA_DAG_CELERY_BACKEND"},
    },
    name="celery_redis",
)

# What every step pod requests (CPU steps: crawling, LDIs, flow; GPU steps add a GPU on top through
# their op tags, merged into this). Image, namespace, secrets and the instance come from the run
# launcher (deploy/helm/values.yaml).
STEP_POD_CONFIG = {"container_config": {"resources": {"requests": {"cpu": "1", "memory": "4Gi"}}}}

k8s_gpu_executor = k8s_job_executor.configured(
    {"step_k8s_config": STEP_POD_CONFIG, "max_concurrent": 8},
    name="k8s_gpu",
)


def _variant(name: str, selection: list[str], executor: dg.ExecutorDefinition, where: str):
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(*selection),
        executor_def=executor,
        description=f"{selection[0]} … {selection[-1]} with every step {where}.",
    )


CELERY_WHERE = "on a Celery worker (GPU steps on the `gpu` queue; needs Redis and workers)"
K8S_WHERE = "in its own Kubernetes pod (GPU steps get a GPU node; needs the Helm deployment)"

cinemagraph_celery_job = _variant("cinemagraph_celery_job", CINEMAGRAPH_ASSETS, celery_redis_executor, CELERY_WHERE)
retraining_celery_job = _variant("retraining_celery_job", RETRAINING_ASSETS, celery_redis_executor, CELERY_WHERE)
cinemagraph_k8s_job = _variant("cinemagraph_k8s_job", CINEMAGRAPH_ASSETS, k8s_gpu_executor, K8S_WHERE)
retraining_k8s_job = _variant("retraining_k8s_job", RETRAINING_ASSETS, k8s_gpu_executor, K8S_WHERE)


EXECUTOR_ENV = "CINEMA_DAG_EXECUTOR"
DEFAULT_EXECUTORS = {"celery": celery_redis_executor, "k8s": k8s_gpu_executor}


def default_executor() -> dg.ExecutorDefinition | None:
    """The executor named by ``CINEMA_DAG_EXECUTOR`` (``celery`` | ``k8s``), or None (Dagster's default,
    multiprocess) when it is unset."""
    # Read when the definitions load, not through dg.EnvVar: the executor is part of each job's
    # definition (what the UI shows and launches), not a resource's run-time config.
    name = os.environ.get(EXECUTOR_ENV, "")
    if not name:
        return None
    if name not in DEFAULT_EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV}={name!r} is not an executor; expected one of {sorted(DEFAULT_EXECUTORS)} "
                         "or unset")
    return DEFAULT_EXECUTORS[name]
