import datetime as dt

import dagster as dg

from cinema_dag.automation.jobs import retraining_job
from cinema_dag.automation.schedules import nightly_retraining
from cinema_dag.definitions import defs
from cinema_dag.disasters import DISASTER_KEYS


def test_nightly_schedule_runs_the_retraining_job_at_two_kst():
    assert nightly_retraining.cron_schedule == "0 2 * * *"
    assert nightly_retraining.execution_timezone == "Asia/Seoul"
    assert nightly_retraining.job_name == "retraining_job"
    with dg.instance_for_test() as instance:
        when = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        request = nightly_retraining(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "retraining-2026-11-27"
    # One run over every disaster type: scrape and captions take the whole range, then corpus and LoRA.
    assert request.tags["dagster/asset_partition_range_start"] == DISASTER_KEYS[0]
    assert request.tags["dagster/asset_partition_range_end"] == DISASTER_KEYS[-1]


def test_retraining_job_covers_scrape_to_lora_and_is_loaded():
    definitions = defs()
    job = definitions.resolve_job_def("retraining_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"scraped_images", "image_captions", "prompt_corpus", "prompt_lora"}
    assert definitions.resolve_schedule_def("nightly_retraining").job_name == retraining_job.name
