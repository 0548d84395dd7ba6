"""Faults, with real processes: a step killed by SIGKILL mid-write, two writers of one partition at
once, a reader polling object storage during uploads, and a full disk. Processes are killed by the
PID they reported, never by name."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from cinema_dag import artefacts
from cinema_dag.assets.flow import flow_fields
from cinema_dag.resources import ArtefactStore
from cinema_dag.storage import (
    MANIFEST_NAME,
    VERSIONS_DIR,
    ArtefactStorage,
    MissingArtefactError,
)

WRITERS = Path(__file__).with_name("writers.py")


def start(mode: str, **args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WRITERS), mode, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"writer failed ({proc.returncode}):\n{err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"writer exited ({proc.returncode}) before it was ready:\n{proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"writer not ready after {timeout} s")
        time.sleep(0.05)
    time.sleep(0.05)  # the file is written in one call; let it land
    return json.loads(path.read_text())


def kill(proc: subprocess.Popen, pid: int) -> None:
    assert pid == proc.pid  # the step ran in the process we started: kill exactly that one
    os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME}


def contents(storage: ArtefactStorage, asset: str, partition: str) -> dict[str, bytes]:
    return files_in(storage.require(asset, partition))


def assert_whole(storage: ArtefactStorage, asset: str, partition: str) -> str:
    """Every file of the partition is from the one writer its manifest names; returns that tag."""
    folder = storage.require(asset, partition)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())  # the manifest of the version read
    files = files_in(folder)
    tag = manifest["metadata"]["tag"]
    assert set(files) == set(manifest["files"])
    assert {name: data.decode().split(":")[0] for name, data in files.items()} == {name: tag for name in files}
    return tag


# -- a step killed with SIGKILL mid-write ---------------------------------------------------------


def make_upstream(root: Path, images: int = 2, size: int = 32) -> None:
    """disaster_images' record, motion_masks and depth_ldis of ``flood``, written through the store by the real
    core code (flow_fields reads the image records for a user's labelme hints)."""
    from cinema_dag.cinemagraph import build_ldi, disparity_to_depth

    rng = np.random.default_rng(0)
    storage = ArtefactStorage(root)
    masks = [np.zeros((size, size), bool) for _ in range(images)]
    for mask in masks:
        mask[size // 2:, :] = True  # the lower half is water
    with storage.stage("disaster_images", "flood") as out:
        artefacts.write_json(out, artefacts.IMAGES_FILE, {"settings": {}, "images": [{"index": i} for i in range(images)]})
    with storage.stage("motion_masks", "flood") as out:
        artefacts.write_masks(out, masks)
    ldis = [build_ldi(rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                      disparity_to_depth(rng.random((size, size)).astype(np.float32)), num_layers=2)
            for _ in range(images)]
    with storage.stage("depth_ldis", "flood") as out:
        artefacts.write_ldis(out, ldis)


def run_flows(root: Path, instance, config: dict | None = None, raise_on_error: bool = True):
    return dg.materialize([flow_fields], partition_key="flood", resources={"store": ArtefactStore(root=str(root))},
                          instance=instance, raise_on_error=raise_on_error,
                          run_config={"ops": {"flow_fields": {"config": config or {}}}})


def first_flows(root: Path, instance) -> tuple[ArtefactStorage, dict[str, bytes]]:
    """Upstream, then a first version of flow_fields; returns the storage and that version's files."""
    make_upstream(root)
    assert run_flows(root, instance).success
    storage = ArtefactStorage(root)
    return storage, contents(storage, "flow_fields", "flood")


def test_step_killed_mid_write_leaves_no_partial_artefact_and_the_retry_succeeds(tmp_path, instance):
    root = tmp_path / "artefacts"
    storage, before = first_flows(root, instance)
    assert sorted(before) == ["flow_000.npy", "flow_001.npy"]

    # 1. A run of a new version (faster flows) is killed after writing its first flow.
    ready = tmp_path / "ready.json"
    proc = start("materialize_flows", root=str(root), partition="flood", config={"speed": 9.0}, hang=str(ready))
    report = wait_for(ready, proc)
    assert Path(report["staging"], "flow_000.npy").is_file()  # it was mid-write
    kill(proc, report["pid"])

    # 2. Readers see the previous version, whole; the killed writer's folder is not a partition.
    assert storage.partitions("flow_fields") == ["flood"]
    assert contents(storage, "flow_fields", "flood") == before
    assert Path(report["staging"]).exists() and Path(report["staging"]).name.startswith(".")

    # 3. The retried run succeeds, publishes its version whole and removes what the killed one left.
    assert finish(start("materialize_flows", root=str(root), partition="flood", config={"speed": 9.0})) == \
        {"success": True}
    after = contents(storage, "flow_fields", "flood")
    assert sorted(after) == ["flow_000.npy", "flow_001.npy"] and after != before
    assert not Path(report["staging"]).exists()
    assert sorted(p.name for p in (root / "flow_fields").iterdir()) == [".flood.lock", "flood"]


# -- two writers of one partition at once ---------------------------------------------------------


def test_two_local_writers_of_one_partition_take_turns_and_the_later_wins_whole(tmp_path):
    root, go = str(tmp_path / "artefacts"), tmp_path / "go"
    procs = {tag: start("stage_files", root=root, asset="cinemagraphs", partition="flood", tag=tag, files=files,
                        delay=0.05, ready=str(tmp_path / f"ready_{tag}"), go=str(go))
             for tag, files in (("A", 10), ("B", 7))}
    for tag, proc in procs.items():
        wait_for(tmp_path / f"ready_{tag}", proc)
    go.touch()  # both ask for the partition at the same moment
    a, b = finish(procs["A"]), finish(procs["B"])
    earlier, later = sorted([a, b], key=lambda r: r["entered"])
    assert earlier["wrote"] <= later["entered"]  # the writes did not overlap: the second one waited
    storage = ArtefactStorage(root)
    assert assert_whole(storage, "cinemagraphs", "flood") == later["tag"]
    assert len(storage.manifest("cinemagraphs", "flood")["files"]) == {"A": 10, "B": 7}[later["tag"]]


def test_two_object_storage_writers_of_one_partition_never_mix(s3_root, tmp_path):
    cache, go = str(tmp_path / "cache"), tmp_path / "go"
    procs = {tag: start("stage_files", root=s3_root, asset="cinemagraphs", partition="flood", tag=tag, files=files,
                        delay=0.02, cache_root=cache, ready=str(tmp_path / f"ready_{tag}"), go=str(go))
             for tag, files in (("A", 12), ("B", 7))}
    for tag, proc in procs.items():
        wait_for(tmp_path / f"ready_{tag}", proc)
    go.touch()  # both write at once: no lock in object storage, only versions
    reports = [finish(p) for p in procs.values()]
    storage = ArtefactStorage(s3_root, cache_root=tmp_path / "reader")
    tag = assert_whole(storage, "cinemagraphs", "flood")
    assert tag in {r["tag"] for r in reports}
    assert len(storage.manifest("cinemagraphs", "flood")["files"]) == {"A": 12, "B": 7}[tag]


# -- object storage: readers during uploads, a writer killed mid-upload ----------------------------


def test_object_storage_reader_never_sees_a_half_written_partition(s3_root, tmp_path):
    writer = start("stage_versions", root=s3_root, asset="depth_ldis", partition="flood", versions=3, files=20,
                   cache_root=str(tmp_path / "writer"))
    storage = ArtefactStorage(s3_root, cache_root=tmp_path / "reader")
    versions_prefix = f"{storage._prefix('depth_ldis', 'flood')}/{VERSIONS_DIR}"
    seen, reads, during_upload = set(), 0, 0
    while writer.poll() is None or reads == 0:
        uploading = len(storage._fs.ls(versions_prefix, detail=False)) > 1 if storage._fs.exists(versions_prefix) \
            else False
        try:
            tag = assert_whole(storage, "depth_ldis", "flood")
        except MissingArtefactError:
            assert not seen, "a published partition disappeared"
            time.sleep(0.02)
            continue
        seen.add(tag)
        reads += 1
        during_upload += uploading
        time.sleep(0.02)  # leave the two-core CI machine to the writer and the server
    finish(writer)
    assert assert_whole(storage, "depth_ldis", "flood") == "v2"
    assert reads >= 3 and during_upload >= 1, (reads, during_upload)  # it did read while files were uploading
    assert seen <= {"v0", "v1", "v2"}


def test_object_storage_writer_killed_mid_upload_leaves_the_previous_version(s3_root, tmp_path):
    storage = ArtefactStorage(s3_root, cache_root=tmp_path / "reader")
    with storage.stage("flow_fields", "flood", {"tag": "v1"}) as out:
        for i in range(3):
            (out / f"part_{i:03d}.txt").write_text(f"v1:{i}")
    ready = tmp_path / "ready.json"
    proc = start("upload_then_hang", root=s3_root, asset="flow_fields", partition="flood", files=6, hang_after=3,
                 ready=str(ready), cache_root=str(tmp_path / "writer"))
    report = wait_for(ready, proc, timeout=120)
    kill(proc, report["pid"])
    assert len(report["uploaded"]) == 3  # half of the new version is in the bucket ...
    assert assert_whole(storage, "flow_fields", "flood") == "v1"  # ... and readers see the old one whole
    assert storage.partitions("flow_fields") == ["flood"]
    versions = f"{storage._prefix('flow_fields', 'flood')}/{VERSIONS_DIR}"
    assert len(storage._fs.ls(versions, detail=False)) == 2
    # The next write deletes the killed upload once it counts as stale (here at once).
    cleaner = ArtefactStorage(s3_root, cache_root=tmp_path / "cleaner", stale_after_s=0.0)
    with cleaner.stage("flow_fields", "flood", {"tag": "v2"}) as out:
        (out / "part_000.txt").write_text("v2:0")
    assert [v.rsplit("/", 1)[-1] for v in storage._fs.ls(versions, detail=False)] == \
        [storage.manifest("flow_fields", "flood")["version"]]
    assert assert_whole(storage, "flow_fields", "flood") == "v2"


# -- a full disk ------------------------------------------------------------------------------------


def failure_message(result: dg.ExecuteInProcessResult, node: str) -> str:
    error = result.failure_data_for_node(node).error
    return error.cause.message if error.cause else error.message


def assert_disk_full_failure(result: dg.ExecuteInProcessResult) -> None:
    assert not result.success
    message = failure_message(result, "flow_fields")
    assert "No space left" in message and "'flow_fields'" in message and "'flood'" in message, message
    assert "previous version" in message


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB tmpfs (root and mount permission needed: skipped otherwise)."""
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and the mount command")
    mountpoint = tmp_path / "small_disk"
    mountpoint.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_a_full_disk_fails_the_step_clearly_and_keeps_the_previous_version(small_disk, instance):
    root = small_disk / "artefacts"
    storage, before = first_flows(root, instance)
    # The disk fills up between two runs (another tenant, logs …): leave it with no space at all.
    ballast = os.open(small_disk / "ballast", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with pytest.raises(OSError) as full:
            while True:
                os.write(ballast, b"\0" * 4096)  # unbuffered: nothing is left to flush at close
    finally:
        os.close(ballast)
    assert full.value.errno == errno.ENOSPC
    assert_disk_full_failure(run_flows(root, instance, {"speed": 9.0}, raise_on_error=False))
    assert contents(storage, "flow_fields", "flood") == before
    assert sorted(p.name for p in (root / "flow_fields").iterdir()) == [".flood.lock", "flood"]
    (small_disk / "ballast").unlink()
    assert run_flows(root, instance, {"speed": 9.0}).success  # space again: the re-run succeeds
    assert contents(storage, "flow_fields", "flood") != before


def test_a_full_disk_injected_fails_the_step_clearly_and_keeps_the_previous_version(tmp_path, instance, monkeypatch):
    root = tmp_path / "artefacts"
    storage, before = first_flows(root, instance)
    write_arrays = artefacts.write_arrays

    def write_one_then_fill_the_disk(folder, arrays, kind):
        write_arrays(folder, arrays[:1], kind)
        raise OSError(errno.ENOSPC, "No space left on device", str(artefacts.FLOW.path(folder, 1)))

    monkeypatch.setattr(artefacts, "write_arrays", write_one_then_fill_the_disk)
    assert_disk_full_failure(run_flows(root, instance, {"speed": 9.0}, raise_on_error=False))
    assert contents(storage, "flow_fields", "flood") == before
    assert not [p for p in root.rglob(".*") if not p.name.endswith(".lock")]
