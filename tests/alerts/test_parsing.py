"""Every alert fixture gets its expected result through the core API."""

import time

import pytest

from cinema_dag.alerts import (
    AlertRefusedError,
    AlertTooLargeError,
    AlertValidationError,
    MoisApiError,
    classify_alert,
    parse_cap,
    parse_feed,
    parse_mois_page,
    read_document,
)
from cinema_dag.alerts.model import Alert, Refusal
from cinema_dag.alerts.mois import mois_page_alerts
from cinema_dag.alerts.watch import assess


def test_heavy_rain_is_flood_with_korean_text_and_both_infos(shared):
    alert = parse_cap(shared("cap", "heavy_rain_bilingual.xml"))
    assert [i.language for i in alert.infos] == ["ko-KR", "en-US"]  # all info blocks kept
    assert alert.text_info.headline == "극한호우 발생"  # the Korean one is read for text
    assert alert.infos[0].areas[0].polygons[0].points[0] == (37.63, 127.07)
    c = classify_alert(alert)
    assert c.disaster_type == "flood" and "호우" in c.reason
    assert c.keywords == ("호우", "극한호우", "Heavy Rain", "severe flood")


def test_wildfire_geocode_only(shared):
    alert = parse_cap(shared("cap", "wildfire_geocode.xml"))
    area = alert.text_info.areas[0]
    assert area.geocodes[0].name == "KR-LEGAL-DONG" and area.geocodes[0].value == "4717036000"
    assert not area.polygons and not area.circles
    assert classify_alert(alert).disaster_type == "wildfire"


def test_earthquake_update_references_first_alert(shared):
    alert = parse_cap(shared("cap", "earthquake_update.xml"))
    assert alert.msg_type == "Update"
    [ref] = alert.references
    assert (ref.sender, ref.identifier, ref.sent) == (
        "fixture@example.invalid", "KR-TEST-20250625-0559.1", "2025-06-25T06:03:02+09:00")
    circle = alert.infos[0].areas[0].circles[0]
    assert (circle.lat, circle.lon, circle.radius_km) == (36.84, 127.61, 0.0)
    assert alert.infos[0].parameters[0].value == "2.2"
    assert classify_alert(alert).disaster_type == "earthquake"


def test_cancel_is_recorded_not_rendered(shared):
    alert = parse_cap(shared("cap", "cancel.xml"))
    assert alert.msg_type == "Cancel" and not alert.infos
    assert alert.references[0].identifier == "KR-TEST-20250717-0001"
    _, reason = assess(alert)
    assert reason.startswith("Cancel of KR-TEST-20250717-0001")


def test_entity_expansion_refused_quickly_without_expanding(shared):
    data = shared("cap", "bad_entity_expansion.xml")
    start = time.perf_counter()
    with pytest.raises(AlertRefusedError, match="DOCTYPE"):
        parse_cap(data)
    assert time.perf_counter() - start < 0.5  # 20^3 * 68 chars were never built


def test_external_entity_refused(own):
    with pytest.raises(AlertRefusedError):
        parse_cap(own("bad_external_entity.xml"))


def test_size_cap_checked_before_parsing(shared):
    data = shared("cap", "heavy_rain_bilingual.xml")
    with pytest.raises(AlertTooLargeError, match="over the 100-byte cap"):
        parse_cap(data, max_bytes=100)
    # Not even well-formed: the size check comes first, so the message is still the size.
    with pytest.raises(AlertTooLargeError):
        parse_cap(b"<" * 200, max_bytes=100)


def test_incomplete_info_names_every_missing_element(shared):
    with pytest.raises(AlertValidationError) as err:
        parse_cap(shared("cap", "bad_missing_info_fields.xml"))
    assert err.value.missing == [f"info[1]/{n}" for n in ("category", "event", "urgency", "severity", "certainty")]
    assert err.value.identifier == "KR-TEST-BROKEN-1"
    for name in ("category", "event", "urgency", "severity", "certainty"):
        assert f"missing {name}" in str(err.value)


def test_missing_alert_and_area_elements_named(own):
    with pytest.raises(AlertValidationError) as err:
        parse_cap(own("bad_missing_alert_fields.xml"))
    assert set(err.value.missing) == {"sender", "sent", "scope", "info[1]/area[1]/areaDesc"}
    assert "polygon[1] has 4 points" not in str(err.value)  # 4 points is enough …
    assert "not closed" not in str(err.value)  # … and it is closed


def test_invalid_values_named(own):
    with pytest.raises(AlertValidationError) as err:
        parse_cap(own("bad_invalid_values.xml"))
    text = str(err.value)
    assert "status 'BOGUS'" in text
    assert "sent '2025-07-17T00:33:00Z' is not a CAP date-time" in text
    assert "polygon[1] is not closed" in text


def test_public_examples(own):
    storm = parse_cap(own("oasis_thunderstorm_1_2.xml"))
    assert storm.infos[0].language == "en-US"  # CAP's default
    assert [g.value for g in storm.infos[0].areas[0].geocodes] == ["006109", "006009", "006003"]
    c = classify_alert(storm)
    assert c.disaster_type is None and "name none of" in c.reason  # a thunderstorm is none of the seven
    flood = parse_cap(own("flash_flood_oet_1_1.xml"))
    assert flood.format == "cap-1.1"
    c = classify_alert(flood)
    assert c.disaster_type == "flood" and "OET-081" in c.reason  # the event code decides
    landslide = parse_cap(own("landslide_korean_geo.xml"))
    assert classify_alert(landslide).disaster_type == "landslide" and landslide.status == "Exercise"


def test_mois_pages(shared):
    [quake] = parse_mois_page(shared("mois", "earthquake_row.json"))
    assert quake.identifier == "KR-SAFETYDATA-237138" and quake.sent == "2025-06-25T06:03:02+09:00"
    assert [a.description for a in quake.text_info.areas] == ["충청북도 증평군", "충청북도 청주시"]
    assert quake.text_info.sender_name == "기상청"
    assert quake.text_info.instruction == "추가 지진 발생상황에 유의 바람"
    assert classify_alert(quake).disaster_type == "earthquake"

    rows = parse_mois_page(shared("mois", "mixed_rows.json"))
    types = {a.identifier: classify_alert(a) for a in rows}
    assert types["KR-SAFETYDATA-300001"].disaster_type == "landslide"
    assert types["KR-SAFETYDATA-300003"].disaster_type == "wildfire"
    flood = types["KR-SAFETYDATA-300002"]  # DST_SE_NM 기타: only the text names it
    assert flood.disaster_type == "flood" and "홍수주의보" in flood.reason
    traffic = types["KR-SAFETYDATA-300004"]
    assert traffic.disaster_type is None and "'교통'" in traffic.reason
    assert rows[0].text_info.severity == "Severe" and rows[2].text_info.severity == "Extreme"  # 긴급 / 위급


def test_mois_bad_key_reported_clearly(shared, own):
    with pytest.raises(MoisApiError) as err:
        parse_mois_page(shared("mois", "error_bad_key.json"))
    assert err.value.code == "30" and "SERVICE KEY IS NOT REGISTERED" in str(err.value)
    assert "check the key" in str(err.value)
    with pytest.raises(MoisApiError, match=r"31.*expired"):
        parse_mois_page(own("mois_expired_key.json"))


def test_mois_more_types_and_false_friends(own):
    rows = parse_mois_page(own("mois_snow_typhoon_drought.json"))
    assert [classify_alert(a).disaster_type for a in rows] == ["heavy_snow", "typhoon", "drought", None]
    # "대규모 정전" (large-scale blackout) is not an earthquake ("규모" = magnitude is not a name).


def test_wind_advisory_starts_no_typhoon_render():
    page = {"header": {"resultCode": "00", "resultMsg": "NORMAL SERVICE"}, "body": [
        {"SN": 500001, "CRT_DT": "2025/08/10 06:00:00", "MSG_CN": "[기상청] 강풍주의보 발효, 간판 등 시설물 관리에 "
         "유의하시기 바랍니다", "RCPTN_RGN_NM": "부산광역시", "EMRG_STEP_NM": "안전안내", "DST_SE_NM": "강풍"},
        {"SN": 500002, "CRT_DT": "2025/08/10 07:00:00", "MSG_CN": "[행정안전부] 제9호 태풍 북상, 강풍과 풍랑에 대비해 "
         "해안가 접근을 자제하시기 바랍니다", "RCPTN_RGN_NM": "부산광역시", "EMRG_STEP_NM": "긴급재난",
         "DST_SE_NM": "강풍"},
    ]}
    wind, typhoon = mois_page_alerts(page, "page.json")
    classification, refusal = assess(wind)
    assert classification.disaster_type is None and "'강풍'" in classification.reason and refusal
    assert classify_alert(typhoon).disaster_type == "typhoon"


def test_mois_xml_page_and_bad_record(own):
    [quake] = parse_mois_page(own("mois_page.xml"))
    assert quake.identifier == "KR-SAFETYDATA-237138" and classify_alert(quake).disaster_type == "earthquake"
    good, bad = parse_mois_page(own("mois_record_missing_fields.json"))
    assert isinstance(good, Alert) and classify_alert(good).disaster_type == "flood"
    assert isinstance(bad, Refusal) and "CRT_DT, RCPTN_RGN_NM, EMRG_STEP_NM, DST_SE_NM" in bad.reason
    assert bad.identifier == "KR-SAFETYDATA-500002"


def test_feed_lists_alert_urls(own):
    entries = parse_feed(own("atom_index.xml"), base_url="http://127.0.0.1:1/cap/index.atom")
    assert [e.url for e in entries] == ["http://127.0.0.1:1/cap/heavy_rain_bilingual.xml",
                                        "http://127.0.0.1:1/cap/wildfire_geocode.xml"]
    assert entries[0].id == "urn:test:entry:1"


def test_read_document_never_raises(shared, own):
    assert read_document(b"not an alert").alerts[0].fatal
    assert read_document(shared("cap", "bad_entity_expansion.xml")).alerts[0].fatal
    refused = read_document(shared("cap", "bad_missing_info_fields.xml")).alerts[0]
    assert isinstance(refused, Refusal) and not refused.fatal and refused.identifier == "KR-TEST-BROKEN-1"
    assert read_document(own("atom_index.xml")).kind == "feed"
    assert read_document(b"<html><body>hi</body></html>").alerts[0].fatal


def test_round_trip_through_json(shared):
    import json

    alert = parse_cap(shared("cap", "heavy_rain_bilingual.xml"))
    assert Alert.from_dict(json.loads(json.dumps(alert.to_dict()))) == alert
