"""CAP out: references the original, carries the video with its SHA-1, valid against the schema."""

import hashlib
from datetime import UTC

import pytest

from cinema_dag.alerts import parse_cap, parse_mois_page
from cinema_dag.alerts.cap import CAP_12, parse_xml
from cinema_dag.alerts.capout import (
    CAP_SCHEMA_PATH,
    alert_to_cap,
    cap_datetime,
    cap_out,
    validate_cap,
    write_cap_out,
)


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "video.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(200)))
    return path


def test_cap_out_references_and_digest(shared, video):
    original = parse_cap(shared("cap", "heavy_rain_bilingual.xml"))
    data = cap_out(original, video, video.as_uri(), sent="2025-07-17T09:34:00+09:00")
    assert validate_cap(data) == []
    out = parse_cap(data)
    assert out.identifier == "KR-TEST-20250717-0001.cinemagraph" and out.msg_type == "Update"
    assert out.status == "Test"  # a test alert stays a test
    assert [r.to_cap() for r in out.references] == [
        "fixture@example.invalid,KR-TEST-20250717-0001,2025-07-17T09:33:00+09:00"]
    assert len(out.infos) == 2
    for info in out.infos:
        resource = info.resources[-1]
        assert resource.mime_type == "video/mp4" and resource.uri == video.as_uri()
        assert resource.size == video.stat().st_size
        assert resource.digest == hashlib.sha1(video.read_bytes()).hexdigest()
    assert out.infos[0].resources[-1].description.startswith("재난 알림")


def test_mois_alert_as_cap_is_valid(shared, video):
    for alert in parse_mois_page(shared("mois", "mixed_rows.json")):
        assert validate_cap(alert_to_cap(alert)) == []
        assert validate_cap(cap_out(alert, video, "s3://bucket/v.mp4")) == []


def test_schema_rejects_wrong_order_and_values():
    bad = (f'<alert xmlns="{CAP_12}"><sender>s</sender><identifier>i</identifier>'
           '<sent>2025-07-17T09:33:00+09:00</sent><status>Actual</status><msgType>Alert</msgType>'
           '<scope>Public</scope></alert>').encode()
    assert validate_cap(bad)  # identifier must come first
    bad_enum = (f'<alert xmlns="{CAP_12}"><identifier>i</identifier><sender>s</sender>'
                '<sent>2025-07-17T09:33:00Z</sent><status>BOGUS</status><msgType>Alert</msgType>'
                '<scope>Public</scope></alert>').encode()
    errors = validate_cap(bad_enum)
    assert any(e.endswith("}status: value must be one of ['Actual', 'Exercise', 'System', 'Test', 'Draft']")
               for e in errors), errors
    assert any("}sent:" in e and "pattern" in e for e in errors), errors  # 'Z' is not a CAP offset


def test_schema_is_vendored_with_notice():
    text = CAP_SCHEMA_PATH.read_text()
    assert "Copyright OASIS Open 2010 All Rights Reserved" in text
    assert 'targetNamespace="urn:oasis:names:tc:emergency:cap:1.2"' in text
    assert (CAP_SCHEMA_PATH.parent / "NOTICE.md").is_file()
    parse_xml(CAP_SCHEMA_PATH.read_bytes())  # well-formed, no DOCTYPE


def test_write_is_atomic_and_validated(tmp_path, video, shared):
    target = tmp_path / "alert.cap.xml"
    with pytest.raises(ValueError, match="not valid CAP 1.2"):
        write_cap_out(target, f'<alert xmlns="{CAP_12}"/>'.encode())
    assert not target.exists() and list(tmp_path.glob(".*")) == []
    data = cap_out(parse_cap(shared("cap", "wildfire_geocode.xml")), video, video.as_uri())
    write_cap_out(target, data)
    assert target.read_bytes() == data


def test_cap_datetime_has_offset_not_z():
    from datetime import datetime

    assert cap_datetime(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05-00:00"
    with pytest.raises(ValueError):
        cap_datetime(datetime(2025, 1, 2))
