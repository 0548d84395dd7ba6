"""Alert sensors with Dagster's sensor test context: one run per alert, exactly once."""

import shutil

import dagster as dg
import pytest

from cinema_dag.alerts import parse_cap
from cinema_dag.automation.sensors import alert_folder_sensor
from cinema_dag.resources import AlertSources
from tests.alerts.conftest import SHARED


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def tick(instance, inbox, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"alert_sources": AlertSources(inbox=str(inbox), settle_seconds=0)})
    return alert_folder_sensor(context), context


def drop(inbox, kind, name, as_name=None):
    shutil.copy(SHARED / kind / name, inbox / (as_name or name))


def test_new_files_one_request_each_then_none(instance, inbox):
    drop(inbox, "cap", "heavy_rain_bilingual.xml")
    drop(inbox, "cap", "wildfire_geocode.xml")
    drop(inbox, "mois", "mixed_rows.json")
    result, _ = tick(instance, inbox)
    requests = {r.run_key: r for r in result.run_requests}
    assert {k: r.partition_key for k, r in requests.items()} == {
        "KR-TEST-20250717-0001": "flood", "KR-TEST-20250324-0042": "wildfire",
        "KR-SAFETYDATA-300001": "landslide", "KR-SAFETYDATA-300002": "flood", "KR-SAFETYDATA-300003": "wildfire"}
    config = requests["KR-TEST-20250717-0001"].run_config["ops"]["alert_cinemagraphs"]["config"]
    assert config["alert_id"] == "KR-TEST-20250717-0001" and "극한호우" in config["keywords"]
    assert config["headline"] == "극한호우 발생" and config["severity"] == "Severe"
    from cinema_dag.definitions import defs

    dg.validate_run_config(defs().resolve_job_def("alert_job"), requests["KR-TEST-20250717-0001"].run_config)
    again, _ = tick(instance, inbox, result.cursor)  # the same files: nothing new
    assert again.run_requests == [] and again.skip_reason


def test_ten_duplicate_deliveries_one_run(instance, inbox):
    for i in range(10):
        drop(inbox, "cap", "heavy_rain_bilingual.xml", f"copy_{i}.xml")
    result, _ = tick(instance, inbox)
    assert [r.run_key for r in result.run_requests] == ["KR-TEST-20250717-0001"]


def test_malformed_file_no_run_and_logged_reason(instance, inbox, capfd):
    drop(inbox, "cap", "bad_missing_info_fields.xml")
    drop(inbox, "cap", "bad_entity_expansion.xml")
    result, _ = tick(instance, inbox)  # the sensor's log goes to stderr here (the tick's log in the UI)
    assert result.run_requests == [] and "2 refused" in result.skip_reason.skip_message
    logged = capfd.readouterr().err
    assert "missing category" in logged and "DOCTYPE" in logged


def test_cancel_recorded_stops_nothing(instance, inbox, capfd):
    drop(inbox, "cap", "heavy_rain_bilingual.xml")
    first, _ = tick(instance, inbox)
    drop(inbox, "cap", "cancel.xml")
    second, _ = tick(instance, inbox, first.cursor)
    assert second.run_requests == [] and "Cancel of KR-TEST-20250717-0001" in capfd.readouterr().err


def test_cursor_survives_restart(instance, inbox):
    drop(inbox, "cap", "heavy_rain_bilingual.xml")
    first, _ = tick(instance, inbox)
    saved = first.cursor  # what the daemon stores; a restarted daemon starts from it
    drop(inbox, "cap", "wildfire_geocode.xml")
    after_restart, _ = tick(instance, inbox, saved)
    assert [r.run_key for r in after_restart.run_requests] == ["KR-TEST-20250324-0042"]
    # Content dedupe, not only file names: the first alert under a new name is still a duplicate.
    drop(inbox, "cap", "heavy_rain_bilingual.xml", "renamed.xml")
    third, _ = tick(instance, inbox, after_restart.cursor)
    assert third.run_requests == []


def test_sensor_defaults():
    from cinema_dag.automation.sensors import alert_feed_sensor, mois_alert_sensor

    assert alert_folder_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert alert_folder_sensor.minimum_interval_seconds <= 10
    assert alert_feed_sensor.default_status == mois_alert_sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_run_request_speaks_the_alert_language():
    from cinema_dag.alerts import classify_alert, parse_cap
    from cinema_dag.alerts.watch import RenderRequest
    from cinema_dag.automation.sensors import run_request

    for name, voice in (("earthquake_update.xml", "en"), ("heavy_rain_bilingual.xml", "ko")):
        alert = parse_cap((SHARED / "cap" / name).read_bytes())
        c = classify_alert(alert)
        request = run_request(RenderRequest(alert, c.disaster_type, c.keywords, c.reason))
        assert request.run_config["ops"]["alert_cinemagraphs"]["config"]["voice"] == voice
        assert request.tags["cinema_dag/alert_id"] == alert.identifier


def test_poll_intervals_from_the_environment(monkeypatch):
    """Each sensor's interval comes from its variable when the code location loads (a fresh process)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cinema_dag.automation.sensors import FEED_POLL_ENV, FOLDER_POLL_ENV, MOIS_POLL_ENV, poll_seconds

    env = {**os.environ, FOLDER_POLL_ENV: "7", FEED_POLL_ENV: "120", MOIS_POLL_ENV: "300"}
    code = ("from cinema_dag.automation import sensors as s; print(s.alert_folder_sensor.minimum_interval_seconds, "
            "s.alert_feed_sensor.minimum_interval_seconds, s.mois_alert_sensor.minimum_interval_seconds)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.stdout.split() == ["7", "120", "300"]
    monkeypatch.delenv(FEED_POLL_ENV, raising=False)
    assert poll_seconds(FEED_POLL_ENV, 30) == 30
    for bad in ("0", "-5", "1.5", "soon"):
        monkeypatch.setenv(FEED_POLL_ENV, bad)
        with pytest.raises(ValueError, match=f"{FEED_POLL_ENV} must be a whole number of seconds"):
            poll_seconds(FEED_POLL_ENV, 30)


def _run_tagged(instance, alert_id, partition="flood"):
    """A finished run carrying an alert's id tag, as another sensor's launch would leave it."""
    @dg.asset(name="stand_in", partitions_def=dg.StaticPartitionsDefinition([partition]))
    def stand_in():
        return None

    from cinema_dag.automation.sensors import ALERT_ID_TAG

    result = dg.materialize([stand_in], instance=instance, partition_key=partition, tags={ALERT_ID_TAG: alert_id})
    return result.run_id


def test_alert_launched_by_another_sensor_gets_no_second_run(instance, inbox, capfd):
    run_id = _run_tagged(instance, "KR-TEST-20250717-0001")  # e.g. the feed sensor had it first
    drop(inbox, "cap", "heavy_rain_bilingual.xml")
    drop(inbox, "cap", "wildfire_geocode.xml")
    result, _ = tick(instance, inbox)  # a fresh cursor and run keys of its own: only the tag knows
    assert [r.run_key for r in result.run_requests] == ["KR-TEST-20250324-0042"]
    assert f"KR-TEST-20250717-0001 already has run {run_id}" in capfd.readouterr().err
    (inbox / "wildfire_geocode.xml").unlink()
    drop(inbox, "cap", "heavy_rain_bilingual.xml", "again.xml")
    fresh, _ = tick(instance, inbox)
    assert fresh.run_requests == [] and "1 already launched" in fresh.skip_reason.skip_message


def test_cancel_is_an_observation_on_the_cancelled_video(instance, inbox):
    drop(inbox, "cap", "heavy_rain_bilingual.xml")
    first, _ = tick(instance, inbox)
    assert first.asset_events == []
    drop(inbox, "cap", "cancel.xml")
    second, _ = tick(instance, inbox, first.cursor)
    [observation] = second.asset_events
    assert observation.asset_key == dg.AssetKey("alert_cinemagraphs") and observation.partition == "flood"
    metadata = {k: v.value for k, v in observation.metadata.items()}
    assert metadata["cancelled_alert_id"] == "KR-TEST-20250717-0001"
    assert metadata["reference"] == "fixture@example.invalid,KR-TEST-20250717-0001,2025-07-17T09:33:00+09:00"
    assert metadata["cancel_id"] == parse_cap((SHARED / "cap" / "cancel.xml").read_bytes()).identifier


def test_cancel_of_an_alert_another_sensor_rendered(instance, inbox):
    _run_tagged(instance, "KR-TEST-20250717-0001", partition="typhoon")  # its partition from the run
    drop(inbox, "cap", "cancel.xml")
    result, _ = tick(instance, inbox)
    [observation] = result.asset_events
    assert observation.partition == "typhoon"


def test_oversized_file_refused_unread_with_a_reason(instance, inbox, capfd):
    drop(inbox, "cap", "heavy_rain_bilingual.xml")  # 1833 bytes
    drop(inbox, "cap", "wildfire_geocode.xml")  # 992 bytes
    context = dg.build_sensor_context(instance=instance, resources={
        "alert_sources": AlertSources(inbox=str(inbox), settle_seconds=0, max_bytes=1000)})
    result = alert_folder_sensor(context)
    assert [r.run_key for r in result.run_requests] == ["KR-TEST-20250324-0042"]  # only the small one
    logged = capfd.readouterr().err
    assert "heavy_rain_bilingual.xml is 1833 bytes, over the 1000-byte cap: refused unread" in logged
    again = alert_folder_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={
        "alert_sources": AlertSources(inbox=str(inbox), settle_seconds=0, max_bytes=1000)}))
    assert again.run_requests == []  # refused once, not again at every tick
