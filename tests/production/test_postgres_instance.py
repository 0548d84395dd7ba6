"""deploy/dagster.yaml against a real PostgreSQL server: a partition's materialization and its
metadata are stored in, and read back from, the database."""

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef

from cinema_dag.assets.prompts import generated_prompts

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture
def pg_env(postgres_server, monkeypatch):
    for name, value in postgres_server.items():
        monkeypatch.setenv(name, value)
    return postgres_server


def production_instance(home) -> dg.DagsterInstance:
    """The instance a production host gets with ``DAGSTER_HOME=home`` holding deploy/dagster.yaml."""
    home.mkdir(exist_ok=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def test_credentials_come_only_from_the_environment():
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    connection = {k: v for k, v in db.items() if k != "scheme"}  # the scheme names the driver
    assert db["scheme"] == "postgresql+psycopg2"
    assert all(set(value) == {"env"} for value in connection.values()), db
    assert {v["env"] for v in connection.values()} == {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_DB",
                                                       "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD"}


def test_instance_settings_queue_retries_monitoring_and_gpu_pool(pg_env, tmp_path):
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    with production_instance(tmp_path / "home") as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        limits = {(limit["key"], str(limit.get("value"))): limit["limit"] for limit in queue.tag_concurrency_limits}
        assert limits == {("dagster/backfill", "None"): 4,
                          ("dagster/backfill", "{'applyLimitPerUniqueValue': True}"): 2}
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        # The gpu pool's limit is the default until an operator sets it, and it lives in PostgreSQL.
        gpu = instance.event_log_storage.get_concurrency_info("gpu")
        assert gpu.limit == 1 and gpu.using_default_limit
        instance.event_log_storage.set_concurrency_slots("gpu", 4)  # `dagster instance concurrency set gpu 4`
        gpu = instance.event_log_storage.get_concurrency_info("gpu")
        assert gpu.limit == 4 and not gpu.using_default_limit
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert instance.run_monitoring_enabled and instance.run_monitoring_max_runtime_seconds == 43200


def test_partition_materialization_is_read_back_from_postgres(pg_env, tmp_path, resources):
    import psycopg2

    run_config = {"ops": {"generated_prompts": {"config": {"num_prompts": 3, "seed": 7}}}}
    with production_instance(tmp_path / "home") as instance:
        result = dg.materialize([generated_prompts], partition_key="earthquake", instance=instance,
                                resources=resources, run_config=run_config)
        assert result.success

    # A second instance (new connections, as the webserver on another host would open) reads the
    # run, the materialization and its metadata back through Dagster's storage API.
    with production_instance(tmp_path / "other_home") as instance:
        run = instance.get_run_by_id(result.run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["dagster/partition"] == "earthquake"
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("generated_prompts"), asset_partitions=["earthquake"]),
            limit=5).records
        assert [r.run_id for r in records] == [result.run_id]
        materialization = records[0].asset_materialization
        assert materialization.partition == "earthquake"
        assert materialization.metadata["num_prompts"].value == 3
        assert instance.get_materialized_partitions(dg.AssetKey("generated_prompts")) == {"earthquake"}

    # And the rows are in the PostgreSQL database itself, not in a local file.
    with psycopg2.connect(host=pg_env["DAGSTER_PG_HOST"], port=int(pg_env["DAGSTER_PG_PORT"]),
                          user=pg_env["DAGSTER_PG_USERNAME"], password=pg_env["DAGSTER_PG_PASSWORD"],
                          dbname=pg_env["DAGSTER_PG_DB"]) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT partition FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
                       (result.run_id, "ASSET_MATERIALIZATION"))
        assert cursor.fetchall() == [("earthquake",)]
        cursor.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
        assert cursor.fetchall() == [("SUCCESS",)]
    assert not list((tmp_path / "home").glob("**/*.db")), "a SQLite file was written instead"
