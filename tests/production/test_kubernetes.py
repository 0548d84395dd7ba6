"""Kubernetes: the k8s job variants and the Helm values, checked with dagster-k8s's own schemas.

No cluster is needed: the step pod each asset would get is built with dagster-k8s's own merge
(executor config, then the step's op tags) and job constructor, and its GPU request is read back.
"""

import json
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import process_config, validate_config
from dagster._core.instance.config import dagster_instance_config_schema
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    USER_DEFINED_K8S_CONFIG_KEY,
    USER_DEFINED_K8S_JOB_CONFIG_SCHEMA,
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from cinema_dag.assets._common import GPU_NODE_SELECTOR, GPU_OP_TAGS, GPU_POOL, GPU_TOLERATIONS
from cinema_dag.automation.executors import EXECUTOR_ENV, STEP_POD_CONFIG, k8s_gpu_executor
from cinema_dag.definitions import defs

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_JOBS = ["cinemagraph_k8s_job", "retraining_k8s_job"]


@pytest.fixture(scope="module")
def definitions():
    return defs()


def all_assets(definitions):
    """Every asset of the code location (so assets added later are checked too), with its op tags."""
    graph = definitions.get_repository_def().asset_graph
    return {key.to_user_string(): definitions.resolve_assets_def(key) for key in graph.get_all_asset_keys()}


def step_pod(tags) -> "kubernetes.client.V1PodSpec":  # noqa: F821
    """The pod spec the k8s_gpu executor would launch for a step with these op tags."""
    executor_context = K8sContainerContext(run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(STEP_POD_CONFIG))
    step_context = executor_context.merge(K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(tags)))
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(job_image="registry.example.org/cinema-dag:0.1.0", dagster_home="/opt/dagster/home"),
        args=["dagster", "api", "execute_step"], job_name="dagster-step-test", component="step_worker",
        user_defined_k8s_config=step_context.run_k8s_config)
    return job.spec.template.spec


def test_gpu_request_is_on_every_gpu_asset_and_on_no_cpu_asset(definitions):
    assets = all_assets(definitions)
    gpu = {name for name, a in assets.items() if a.node_def.pool == GPU_POOL}  # the one source of truth
    assert {"generated_prompts", "disaster_images", "motion_masks", "depth_maps", "cinemagraphs",
            "image_captions", "prompt_lora"} <= gpu
    assert {"scraped_images", "depth_ldis", "flow_fields"}.isdisjoint(gpu)
    for name, asset in assets.items():
        pod = step_pod(asset.node_def.tags)
        resources = pod.containers[0].resources
        limits, requests = resources.limits or {}, resources.requests or {}
        assert requests == {"cpu": "1", "memory": "4Gi"}, name  # every step pod: the executor's requests
        if name in gpu:
            assert limits.get("nvidia.com/gpu") == "1", name  # a Kubernetes quantity
            assert pod.node_selector == GPU_NODE_SELECTOR, name
            assert [t.to_dict() for t in pod.tolerations] == [
                {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists",
                 "toleration_seconds": None, "value": None}], name
        else:
            assert "nvidia.com/gpu" not in limits and "nvidia.com/gpu" not in requests, name
            assert not pod.node_selector and not pod.tolerations, name


def test_op_tags_validate_with_the_dagster_k8s_schema():
    assert USER_DEFINED_K8S_CONFIG_KEY in GPU_OP_TAGS
    result = validate_config(USER_DEFINED_K8S_JOB_CONFIG_SCHEMA, GPU_OP_TAGS[USER_DEFINED_K8S_CONFIG_KEY])
    assert result.success, result.errors
    assert GPU_TOLERATIONS and GPU_NODE_SELECTOR
    # The schema is strict, so a typo would not silently drop the GPU request.
    typo = {"container_confg": GPU_OP_TAGS[USER_DEFINED_K8S_CONFIG_KEY]["container_config"]}
    assert not validate_config(USER_DEFINED_K8S_JOB_CONFIG_SCHEMA, typo).success
    with pytest.raises(dg.DagsterInvalidConfigError):
        get_user_defined_k8s_config({USER_DEFINED_K8S_CONFIG_KEY: json.dumps(typo)})


def test_k8s_variants_use_the_k8s_executor_with_valid_config(definitions):
    schema = k8s_job_executor.config_schema.config_type
    assert validate_config(schema, {"step_k8s_config": STEP_POD_CONFIG, "max_concurrent": 8}).success
    assert not validate_config(schema, {"max_concurent": 8}).success  # the schema is strict
    for name in K8S_JOBS:
        job = definitions.resolve_job_def(name)
        assert job.executor_def.name == k8s_gpu_executor.name
        # The run config Dagster resolves for the job: the configured executor, through k8s_job_executor's schema.
        executor_config = dg.validate_run_config(job, {})["execution"][k8s_gpu_executor.name]
        assert executor_config["step_k8s_config"]["container_config"] == STEP_POD_CONFIG["container_config"]
        assert executor_config["max_concurrent"] == 8
    def selection(job_name):
        return definitions.resolve_job_def(job_name).asset_layer.executable_asset_keys

    assert selection("cinemagraph_k8s_job") == selection("cinemagraph_job")
    assert selection("retraining_k8s_job") == selection("retraining_job")


def camel_to_snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@pytest.fixture(scope="module")
def helm_values():
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def test_helm_values_render_the_instance_of_deploy_dagster_yaml(helm_values):
    deploy = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    # The chart's `concurrency` section, in dagster.yaml's spelling, is deploy/dagster.yaml's.
    chart = helm_values["concurrency"]
    assert chart.pop("enabled") is True
    rendered = {"pools": {camel_to_snake(k): v for k, v in chart["pools"].items()},
                "runs": {"max_concurrent_runs": chart["runs"]["maxConcurrentRuns"],
                         "tag_concurrency_limits": chart["runs"]["tagConcurrencyLimits"]}}
    assert rendered == deploy["concurrency"]
    extra = helm_values["additionalInstanceConfig"]
    assert extra["run_retries"] == deploy["run_retries"] and extra["run_monitoring"] == deploy["run_monitoring"]
    # ... and not rendered twice by the chart's own daemon keys.
    assert not helm_values["dagsterDaemon"]["runMonitoring"]["enabled"]
    assert not helm_values["dagsterDaemon"]["runRetries"]["enabled"]
    assert helm_values["postgresql"]["postgresqlScheme"] == deploy["storage"]["postgres"]["postgres_db"]["scheme"]
    assert "postgresqlPassword" not in helm_values["postgresql"] and not helm_values["generatePostgresqlPasswordSecret"]
    instance = {**extra, "concurrency": rendered, "telemetry": helm_values["telemetry"]}
    result = validate_config(dagster_instance_config_schema(), instance)
    assert result.success, result.errors


def test_helm_run_launcher_and_code_location(helm_values):
    assert helm_values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = helm_values["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s_config = {camel_to_snake(k): v for k, v in launcher["runK8sConfig"].items()}
    config = {"run_k8s_config": run_k8s_config, "env_secrets": [s["name"] for s in launcher["envSecrets"]],
              "instance_config_map": "cinema-dag-instance", "service_account_name": "cinema-dag",
              "dagster_home": "/opt/dagster/dagster_home", "load_incluster_config": True}
    result = process_config(K8sRunLauncher.config_type(), config)
    assert result.success, result.errors
    # The run pod orchestrates only: no GPU is held for the length of a run.
    assert "nvidia.com/gpu" not in json.dumps(run_k8s_config)
    (deployment,) = helm_values["dagster-user-deployments"]["deployments"]
    workspace = yaml.safe_load((DEPLOY.parent / "workspace.yaml").read_text())
    assert deployment["dagsterApiGrpcArgs"] == ["-m", workspace["load_from"][0]["python_module"]["module_name"]]
    mounts = {m["mountPath"] for m in deployment["volumeMounts"]}
    home = next(e["value"] for e in deployment["env"] if e["name"] == "CINEMA_DAG_HOME")
    assert home in mounts, "artefacts must be on the shared volume every step pod mounts"


def test_helm_deployment_makes_k8s_the_default_executor_of_every_job(helm_values, monkeypatch):
    (deployment,) = helm_values["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    monkeypatch.setenv(EXECUTOR_ENV, env[EXECUTOR_ENV])
    definitions = defs()
    # The job the UI uses to materialize or backfill assets, and the named jobs the schedule runs.
    ad_hoc = definitions.get_repository_def().get_implicit_global_asset_job_def()
    for job in (ad_hoc, definitions.resolve_job_def("cinemagraph_job"), definitions.resolve_job_def("retraining_job")):
        assert job.executor_def.name == k8s_gpu_executor.name, job.name
    monkeypatch.setenv(EXECUTOR_ENV, "kubernetes")
    with pytest.raises(ValueError, match="CINEMA_DAG_EXECUTOR='kubernetes'"):
        defs()
    monkeypatch.delenv(EXECUTOR_ENV)
    assert defs().resolve_job_def("cinemagraph_job").executor_def.name == "multi_or_in_process_executor"
