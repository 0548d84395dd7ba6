"""Schedules: the nightly retraining of the prompt generator."""

import dagster as dg

from cinema_dag.automation.jobs import ALL_TYPES_TAGS, retraining_job


@dg.schedule(
    job=retraining_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every night at 02:00 KST: re-scrape, re-caption, rebuild the corpus and retrain the LoRA.",
)
def nightly_retraining(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    night = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"retraining-{night}", tags={**ALL_TYPES_TAGS, "cinema_dag/night": night})
