"""What is new: dedupe, cancel, update, malformed, cursor round trip (no Dagster)."""

import dataclasses

from cinema_dag.alerts import parse_cap
from cinema_dag.alerts.capout import alert_to_cap
from cinema_dag.alerts.sources import Delivery
from cinema_dag.alerts.watch import MAX_SEEN, WatchState, process_deliveries


def deliver(*pairs):
    return [Delivery(name, data) for name, data in pairs]


def test_new_duplicate_cancel(shared):
    state = WatchState()
    rain = shared("cap", "heavy_rain_bilingual.xml")
    requests, events = process_deliveries(deliver(*[(f"copy{i}.xml", rain) for i in range(10)]), state)
    assert [r.disaster_type for r in requests] == ["flood"] and requests[0].run_key == "KR-TEST-20250717-0001"
    assert [e.action for e in events] == ["render"] + ["duplicate"] * 9
    requests, events = process_deliveries(deliver(("cancel.xml", shared("cap", "cancel.xml"))), state)
    assert requests == [] and events[0].action == "cancel"
    assert state.seen["KR-TEST-20250717-0001"]["cancelled"] is True


def test_update_renders_only_when_keywords_change(shared):
    first = parse_cap(shared("cap", "earthquake_update.xml"))
    original = dataclasses.replace(first, identifier="KR-TEST-20250625-0559.1", msg_type="Alert", references=())
    state = WatchState()
    requests, _ = process_deliveries(deliver(("first.xml", alert_to_cap(original))), state)
    assert len(requests) == 1
    requests, events = process_deliveries(deliver(("update.xml", shared("cap", "earthquake_update.xml"))), state)
    assert requests == [] and events[0].action == "unchanged_update"
    stronger = dataclasses.replace(first, identifier="KR-TEST-20250625-0559.3",
                                   infos=(dataclasses.replace(first.infos[0], severity="Severe"),))
    requests, events = process_deliveries(deliver(("update2.xml", alert_to_cap(stronger))), state)
    assert [r.run_key for r in requests] == ["KR-TEST-20250625-0559.3"]
    assert "changed keywords" in events[0].reason


def test_malformed_and_unclassified_start_nothing(shared):
    state = WatchState()
    requests, events = process_deliveries(deliver(
        ("broken.xml", shared("cap", "bad_missing_info_fields.xml")),
        ("bomb.xml", shared("cap", "bad_entity_expansion.xml")),
        ("mixed.json", shared("mois", "mixed_rows.json")),
        ("key.json", shared("mois", "error_bad_key.json")),
    ), state)
    assert sorted(r.disaster_type for r in requests) == ["flood", "landslide", "wildfire"]
    actions = {e.source.split("#")[0]: e for e in events if e.action != "render"}
    assert actions["broken.xml"].action == "refused" and "missing category" in actions["broken.xml"].reason
    assert actions["bomb.xml"].action == "refused" and "DOCTYPE" in actions["bomb.xml"].reason
    assert actions["mixed.json"].action == "unclassified" and "교통" in actions["mixed.json"].reason
    assert actions["key.json"].action == "refused" and "error 30" in actions["key.json"].reason


def test_cursor_round_trip_and_bound(shared):
    state = WatchState()
    process_deliveries(deliver(("a.xml", shared("cap", "wildfire_geocode.xml"))), state)
    restored = WatchState.from_cursor(state.to_cursor())
    requests, events = process_deliveries(deliver(("a.xml", shared("cap", "wildfire_geocode.xml"))), restored)
    assert requests == [] and events[0].action == "duplicate"
    for i in range(MAX_SEEN + 10):
        restored.remember(f"id-{i}", msg_type="Alert")
    assert len(restored.seen) == MAX_SEEN and "id-0" not in restored.seen
    assert WatchState.from_cursor("not json").seen == {}
