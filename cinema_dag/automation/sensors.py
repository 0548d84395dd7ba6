"""Alert sensors: each new alert → one run of alert_job for its disaster type, exactly once.

The sensors are thin: what is new, the cursor and the dedupe live in the Dagster-free
:mod:`cinema_dag.alerts.watch`. Here a :class:`~cinema_dag.alerts.watch.RenderRequest` becomes a
``RunRequest`` (partition = disaster type, run key = alert identifier, the alert in the run
config), every decision is logged, and the cursor is saved with the result, so a restarted
daemon resumes where it stopped. Dagster's run-key check is a second guard: even with a lost
cursor an alert already launched is not launched again — but run keys and cursors are per sensor,
so before launching, each sensor also asks the instance for a run tagged with the alert's id: the
same alert through the inbox and through a feed gives one run. A ``Cancel`` becomes an
``AssetObservation`` on ``alert_cinemagraphs`` (the cancelled alert's partition), so the UI shows it
beside the video it cancels; nothing already rendered is stopped or deleted.

Default status: the folder sensor runs by default — it reads a local inbox that only an operator
writes to, makes no network calls, and is what ``dagster dev`` demos; the feed and API sensors
are stopped by default — they reach the network, spend API quota, need a key and hosts to be
configured, and would render whatever a real feed sends (GPU time) as soon as a daemon starts.
"""

import json
import os

import dagster as dg

from cinema_dag.alerts.watch import AlertEvent, RenderRequest, WatchState, watch
from cinema_dag.assets._common import ALERT_ASSET, CANCEL_ID_KEY, CANCELLED_ALERT_KEY
from cinema_dag.automation.jobs import alert_job
from cinema_dag.resources.alerts import AlertSources

#: The run tag that names the alert a run renders (its value kept to 200 characters: a longer
#: identifier is cut, the same way wherever the tag is written or looked up).
ALERT_ID_TAG = "cinema_dag/alert_id"
PARTITION_TAG = "dagster/partition"

#: Environment variables that set each sensor's poll interval (whole seconds), read when the code
#: location loads; the daemon also waits up to 5 s between its loops.
FOLDER_POLL_ENV = "CINEMA_DAG_ALERT_POLL_SECONDS"
FEED_POLL_ENV = "CINEMA_DAG_ALERT_FEED_POLL_SECONDS"
MOIS_POLL_ENV = "CINEMA_DAG_MOIS_POLL_SECONDS"
#: Poll intervals when their variable is unset: the folder is local and cheap (≤ 10 s); a feed is
#: someone else's server; the API has a daily quota.
DEFAULT_FOLDER_POLL_SECONDS = 5
DEFAULT_FEED_POLL_SECONDS = 30
DEFAULT_MOIS_POLL_SECONDS = 60


def poll_seconds(variable: str, default: int) -> int:
    """A sensor's poll interval: ``$variable`` when set (a whole number of seconds, at least 1), else
    ``default``.

    Raises:
        ValueError: naming the variable and its value, when it is not a whole number ≥ 1.
    """
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"${variable} must be a whole number of seconds, at least 1; got {text!r}")
    return int(text)


FOLDER_POLL_SECONDS = poll_seconds(FOLDER_POLL_ENV, DEFAULT_FOLDER_POLL_SECONDS)
FEED_POLL_SECONDS = poll_seconds(FEED_POLL_ENV, DEFAULT_FEED_POLL_SECONDS)
MOIS_POLL_SECONDS = poll_seconds(MOIS_POLL_ENV, DEFAULT_MOIS_POLL_SECONDS)
_QUIET = {"duplicate", "unchanged_update"}


def run_request(request: RenderRequest) -> dg.RunRequest:
    """The run of ``alert_job`` for one alert: its partition, run key, config and tags."""
    alert = request.alert
    info = alert.text_info
    config = {
        "alert_id": alert.identifier,
        "keywords": list(request.keywords),
        "severity": alert.severity,
        "headline": (info.headline or info.event) if info else alert.identifier,
        "area": alert.area_description,
        "instruction": info.instruction if info else None,
        "alert_json": json.dumps(alert.to_dict(), ensure_ascii=False),
        # The spoken headline in the language it is written in (an English-only CAP alert).
        "voice": "ko" if info is None or info.is_korean else "en",
    }
    return dg.RunRequest(
        run_key=request.run_key,
        partition_key=request.disaster_type,
        run_config={"ops": {"alert_cinemagraphs": {"config": config}}},
        tags={ALERT_ID_TAG: alert_id_tag(alert.identifier), "cinema_dag/alert_msg_type": alert.msg_type,
              "cinema_dag/alert_format": alert.format},
    )


def _log(context: dg.SensorEvaluationContext, event: AlertEvent) -> None:
    who = f"{event.identifier} " if event.identifier else ""
    line = f"{event.action}: {who}({event.source}) {event.reason}".rstrip()
    if event.action in ("refused", "unclassified", "error"):
        context.log.warning(line)
    elif event.action not in _QUIET:
        context.log.info(line)
    else:
        context.log.debug(line)


def alert_id_tag(identifier: str) -> str:
    """The value of :data:`ALERT_ID_TAG` for an alert."""
    return identifier[:200]


def launched_run(instance: dg.DagsterInstance, identifier: str) -> dg.DagsterRun | None:
    """A run already launched for the alert ``identifier`` by any sensor (or by hand with its tag)."""
    records = instance.get_run_records(dg.RunsFilter(tags={ALERT_ID_TAG: alert_id_tag(identifier)}), limit=1)
    return records[0].dagster_run if records else None


def cancel_observations(instance: dg.DagsterInstance, event: AlertEvent) -> list[dg.AssetObservation]:
    """One observation on ``alert_cinemagraphs`` per alert a Cancel names, in the partition that alert
    was rendered in (this sensor's cursor, else the run any sensor launched for it, else the Cancel's
    own type). A referenced alert whose partition is unknown (never rendered) gets none."""
    observations = []
    for reference, known in zip(event.references, event.cancelled_types, strict=True):
        partition = known
        if partition is None:
            run = launched_run(instance, reference.identifier)
            partition = run.tags.get(PARTITION_TAG) if run is not None else None
        partition = partition or event.disaster_type
        if partition is None:
            continue
        observations.append(dg.AssetObservation(asset_key=ALERT_ASSET, partition=partition, metadata={
            CANCELLED_ALERT_KEY: reference.identifier,
            CANCEL_ID_KEY: event.identifier or "",
            "reference": reference.to_cap(),
            "source": event.source,
            "note": "Cancel recorded: the video stays, a distributor should stop sending it",
        }))
    return observations


def evaluate_sources(context: dg.SensorEvaluationContext, sources) -> dg.SensorResult:
    """One tick: poll, decide, log, and return the run requests (those no sensor launched yet), the
    cancel observations and the new cursor."""
    state = WatchState.from_cursor(context.cursor)
    requests, events = watch(sources, state)
    observations: list[dg.AssetObservation] = []
    for event in events:
        _log(context, event)
        if event.action == "cancel":
            observations += cancel_observations(context.instance, event)
    new_requests = []
    for request in requests:
        run = launched_run(context.instance, request.alert.identifier)
        if run is None:
            new_requests.append(request)
        else:
            context.log.info(f"duplicate: {request.alert.identifier} already has run {run.run_id} "
                             f"(another sensor or a restart): no second run")
    cursor = state.to_cursor()
    if new_requests:
        return dg.SensorResult(run_requests=[run_request(r) for r in new_requests], asset_events=observations,
                               cursor=cursor)
    counts: dict[str, int] = {}
    for event in events:
        counts[event.action] = counts.get(event.action, 0) + 1
    if requests:  # every one already had a run
        counts.pop("render", None)
        counts["already launched"] = len(requests)
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    return dg.SensorResult(skip_reason=f"no new alert to render ({summary})" if summary else "no new alert files",
                           asset_events=observations, cursor=cursor)


@dg.sensor(job=alert_job, minimum_interval_seconds=FOLDER_POLL_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING,
           description="CAP / disaster-message files dropped into the alert inbox folder → one alert_job run each.")
def alert_folder_sensor(context: dg.SensorEvaluationContext, alert_sources: AlertSources) -> dg.SensorResult:
    return evaluate_sources(context, alert_sources.folder_sources())


@dg.sensor(job=alert_job, minimum_interval_seconds=FEED_POLL_SECONDS, default_status=dg.DefaultSensorStatus.STOPPED,
           description="HTTP CAP alerts or Atom/RSS CAP index feeds (alert_sources.feed_urls) → one run per new alert.")
def alert_feed_sensor(context: dg.SensorEvaluationContext, alert_sources: AlertSources) -> dg.SensorResult:
    return evaluate_sources(context, alert_sources.feed_sources())


@dg.sensor(job=alert_job, minimum_interval_seconds=MOIS_POLL_SECONDS, default_status=dg.DefaultSensorStatus.STOPPED,
           description="The Korean disaster-message API (key in $CINEMA_DAG_MOIS_API_KEY) → one run per new record.")
def mois_alert_sensor(context: dg.SensorEvaluationContext, alert_sources: AlertSources) -> dg.SensorResult:
    return evaluate_sources(context, alert_sources.mois_sources())
