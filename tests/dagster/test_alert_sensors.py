"""Alert sensors with Dagster's sensor test context: one run per alert, exactly once."""

import shutil

import dagster as dg
import pytest

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
