"""The artefact storage contract, on both implementations: a local folder and object storage.

Object storage runs against fsspec's in-memory filesystem (fast) and a real S3-compatible server
on loopback (moto in server mode, through s3fs), so the same commit protocol is checked over HTTP.
"""

import errno
import json
import os
import stat
import threading
import uuid

import pytest

from cinema_dag.storage import (
    MANIFEST_NAME,
    VERSIONS_DIR,
    ArtefactStorage,
    LocalArtefactStorage,
    MissingArtefactError,
    ObjectArtefactStorage,
    PartitionLockedError,
    StorageFullError,
    _new_version,
)


@pytest.fixture(params=["local", "memory", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return ArtefactStorage(tmp_path / "artefacts")
    if request.param == "memory":
        return ArtefactStorage(f"memory://t-{uuid.uuid4().hex[:12]}/artefacts", cache_root=tmp_path / "cache")
    return ArtefactStorage(request.getfixturevalue("s3_root"), cache_root=tmp_path / "cache")


def files_of(storage, asset, partition):
    folder = storage.require(asset, partition)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_NAME}


def test_the_root_chooses_the_implementation(tmp_path):
    assert type(ArtefactStorage(tmp_path)) is LocalArtefactStorage
    assert type(ArtefactStorage(f"file://{tmp_path}")) is LocalArtefactStorage
    assert type(ArtefactStorage("memory://bucket/prefix")) is ObjectArtefactStorage


def test_stage_publishes_files_and_manifest_last(storage):
    with storage.stage("depth_maps", "flood", {"seed": 3}) as out:
        (out / "a.npy").write_bytes(b"abc")
        (out / "dataset").mkdir()
        (out / "dataset" / "part.arrow").write_bytes(b"12345")
        assert not storage.is_complete("depth_maps", "flood")  # not visible before the block ends
    manifest = storage.manifest("depth_maps", "flood")
    assert manifest["files"] == {"a.npy": 3, "dataset/part.arrow": 5}
    assert manifest["metadata"] == {"seed": 3} and manifest["version"]
    assert storage.partitions("depth_maps") == ["flood"]
    assert files_of(storage, "depth_maps", "flood") == {"a.npy": b"abc", "dataset/part.arrow": b"12345"}
    assert storage.uri("depth_maps", "flood", "a.npy").endswith("/a.npy")


def test_interrupted_stage_publishes_nothing(storage):
    with pytest.raises(RuntimeError, match="killed"):
        with storage.stage("disaster_images", "flood") as out:
            (out / "image_000.png").write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert not storage.is_complete("disaster_images", "flood")
    assert storage.partitions("disaster_images") == []
    with pytest.raises(MissingArtefactError):
        storage.require("disaster_images", "flood")


def test_interrupted_rewrite_keeps_previous_version_and_a_rerun_replaces_it_whole(storage):
    with storage.stage("motion_masks", "wildfire") as out:
        (out / "mask_000.png").write_bytes(b"v1")
    with pytest.raises(KeyboardInterrupt):
        with storage.stage("motion_masks", "wildfire") as out:
            (out / "mask_000.png").write_bytes(b"v2-partial")
            raise KeyboardInterrupt
    assert files_of(storage, "motion_masks", "wildfire") == {"mask_000.png": b"v1"}
    with storage.stage("motion_masks", "wildfire") as out:
        (out / "mask_001.png").write_bytes(b"v3")
    assert files_of(storage, "motion_masks", "wildfire") == {"mask_001.png": b"v3"}


def test_a_full_disk_fails_clearly_and_keeps_the_previous_version(storage):
    with storage.stage("cinemagraphs", "flood") as out:
        (out / "v.mp4").write_bytes(b"v1")
    with pytest.raises(StorageFullError, match=r"No space left.*'cinemagraphs'.*'flood'.*previous version") as info:
        with storage.stage("cinemagraphs", "flood") as out:
            (out / "v.mp4").write_bytes(b"v2")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.errno == errno.ENOSPC
    assert files_of(storage, "cinemagraphs", "flood") == {"v.mp4": b"v1"}


def test_missing_upstream_names_asset_and_partition(storage):
    with pytest.raises(MissingArtefactError, match=r"'disaster_images'.*'typhoon'.*materialize"):
        storage.require("disaster_images", "typhoon")


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "flood,drought", ".hidden", "_versions"])
def test_keys_are_plain_names(storage, bad):
    with pytest.raises(ValueError, match="plain name"):
        storage.is_complete("depth_maps", bad)


# -- local folders ---------------------------------------------------------------------------


def hidden(root):
    return sorted(p.name for p in root.rglob(".*") if not p.name.endswith(".lock"))


def test_local_folders_and_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        storage = LocalArtefactStorage(tmp_path)
        with storage.stage("flow_fields", "flood") as out:
            (out / "flow_000.npy").write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(storage.dir("flow_fields", "flood")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(storage.path("flow_fields", "flood", MANIFEST_NAME)).st_mode) == 0o644
    assert hidden(tmp_path) == []


def test_local_leftovers_of_killed_writers_are_invisible_and_cleaned_by_the_next_write(tmp_path):
    storage = LocalArtefactStorage(tmp_path)
    with storage.stage("depth_ldis", "flood") as out:
        (out / "ldi_000.npz").write_bytes(b"v1")
    # What a writer killed mid-write leaves: its temp folder beside the partition (a dead pid's).
    stale = tmp_path / "depth_ldis" / ".flood.999999.0123abcd.tmp"
    stale.mkdir()
    (stale / "ldi_000.npz").write_bytes(b"half")
    assert storage.partitions("depth_ldis") == ["flood"]
    assert files_of(storage, "depth_ldis", "flood") == {"ldi_000.npz": b"v1"}
    with storage.stage("depth_ldis", "flood") as out:
        (out / "ldi_000.npz").write_bytes(b"v2")
    assert hidden(tmp_path) == [] and files_of(storage, "depth_ldis", "flood") == {"ldi_000.npz": b"v2"}


def test_local_writer_killed_between_its_two_renames_gets_the_previous_version_back(tmp_path):
    storage = LocalArtefactStorage(tmp_path)
    with storage.stage("depth_ldis", "flood") as out:
        (out / "ldi_000.npz").write_bytes(b"v1")
    final = storage.dir("depth_ldis", "flood")
    os.rename(final, final.with_name(".flood.999999.0123abcd.old"))  # retired, then killed
    assert not storage.is_complete("depth_ldis", "flood")  # absent, never half
    with pytest.raises(RuntimeError):
        with storage.stage("depth_ldis", "flood"):
            raise RuntimeError("the next writer fails too")
    assert files_of(storage, "depth_ldis", "flood") == {"ldi_000.npz": b"v1"} and hidden(tmp_path) == []


def test_local_writers_of_one_partition_take_turns(tmp_path):
    storage = LocalArtefactStorage(tmp_path)
    inside, release = threading.Event(), threading.Event()

    def slow_writer():
        with storage.stage("cinemagraphs", "flood") as out:
            (out / "a").write_text("slow")
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inside.wait(10)
    impatient = LocalArtefactStorage(tmp_path, lock_timeout_s=0.3)
    with pytest.raises(PartitionLockedError, match=r"'cinemagraphs'.*'flood'"):
        with impatient.stage("cinemagraphs", "flood"):
            pass
    with impatient.stage("cinemagraphs", "drought") as out:  # other partitions are not held up
        (out / "a").write_text("other")
    release.set()
    thread.join(10)
    assert files_of(storage, "cinemagraphs", "flood") == {"a": b"slow"}


# -- object storage ----------------------------------------------------------------------------


def test_object_versions_live_under_their_own_prefix_and_the_replaced_one_is_deleted(tmp_path):
    storage = ObjectArtefactStorage(f"memory://t-{uuid.uuid4().hex[:12]}/a", cache_root=tmp_path)
    with storage.stage("disaster_images", "flood") as out:
        (out / "image_000.png").write_bytes(b"v1")
    first = storage.manifest("disaster_images", "flood")["version"]
    assert f"/{VERSIONS_DIR}/{first}/image_000.png" in storage.uri("disaster_images", "flood", "image_000.png")
    with storage.stage("disaster_images", "flood") as out:
        (out / "image_000.png").write_bytes(b"v2")
    second = storage.manifest("disaster_images", "flood")["version"]
    versions = storage._fs.ls(f"{storage._prefix('disaster_images', 'flood')}/{VERSIONS_DIR}", detail=False)
    assert [v.rsplit("/", 1)[-1] for v in versions] == [second] and second > first


def test_object_leftover_uploads_are_invisible_and_deleted_once_stale(tmp_path):
    storage = ObjectArtefactStorage(f"memory://t-{uuid.uuid4().hex[:12]}/a", cache_root=tmp_path)
    versions = f"{storage._prefix('motion_masks', 'flood')}/{VERSIONS_DIR}"
    # Uploads of writers killed before their manifest: one a day old, one that may still be running.
    storage._fs.pipe_file(f"{versions}/20200101T000000000000Z-deadbeef/mask_000.png", b"half")
    young = _new_version()
    storage._fs.pipe_file(f"{versions}/{young}/mask_000.png", b"uploading")
    assert not storage.is_complete("motion_masks", "flood") and storage.partitions("motion_masks") == []
    with storage.stage("motion_masks", "flood") as out:
        (out / "mask_000.png").write_bytes(b"v1")
    left = sorted(v.rsplit("/", 1)[-1] for v in storage._fs.ls(versions, detail=False))
    assert left == sorted([young, storage.manifest("motion_masks", "flood")["version"]])


def test_object_reader_downloads_each_version_once_and_verifies_it(tmp_path):
    storage = ObjectArtefactStorage(f"memory://t-{uuid.uuid4().hex[:12]}/a", cache_root=tmp_path)
    with storage.stage("flow_fields", "flood") as out:
        (out / "flow_000.npy").write_bytes(b"v1")
    folder = storage.require("flow_fields", "flood")
    assert storage.require("flow_fields", "flood") == folder
    assert json.loads((folder / MANIFEST_NAME).read_text())["files"] == {"flow_000.npy": 2}
    with storage.stage("flow_fields", "flood") as out:
        (out / "flow_000.npy").write_bytes(b"v22")
    newer = storage.require("flow_fields", "flood")
    assert newer != folder and (newer / "flow_000.npy").read_bytes() == b"v22" and not folder.exists()
