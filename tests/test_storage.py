import json

import pytest

from cinema_dag.storage import MANIFEST_NAME, ArtefactStorage, MissingArtefactError, atomic_write_bytes


def leftovers(root):
    return [p for p in root.rglob("*") if p.name.startswith((".staging-", ".retired-")) or p.suffix == ".tmp"]


def test_stage_writes_files_and_manifest_last(tmp_path):
    storage = ArtefactStorage(tmp_path)
    with storage.stage("depth_maps", "flood", {"seed": 3}) as out:
        (out / "a.npy").write_bytes(b"abc")
        assert not storage.is_complete("depth_maps", "flood")  # not visible before the block ends
    manifest = storage.manifest("depth_maps", "flood")
    assert manifest["files"] == {"a.npy": 3}
    assert manifest["metadata"] == {"seed": 3}
    assert storage.partitions("depth_maps") == ["flood"]
    assert leftovers(tmp_path) == []


def test_interrupted_stage_leaves_no_partial_artefact(tmp_path):
    storage = ArtefactStorage(tmp_path)
    with pytest.raises(RuntimeError, match="killed"), storage.stage("disaster_images", "flood") as out:
        (out / "image_000.png").write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert not storage.dir("disaster_images", "flood").exists()
    assert storage.partitions("disaster_images") == []
    assert leftovers(tmp_path) == []


def test_interrupted_rewrite_keeps_previous_version(tmp_path):
    storage = ArtefactStorage(tmp_path)
    with storage.stage("motion_masks", "wildfire") as out:
        (out / "mask_000.png").write_bytes(b"v1")
    with pytest.raises(KeyboardInterrupt), storage.stage("motion_masks", "wildfire") as out:
        (out / "mask_000.png").write_bytes(b"v2-partial")
        raise KeyboardInterrupt
    assert storage.path("motion_masks", "wildfire", "mask_000.png").read_bytes() == b"v1"
    with storage.stage("motion_masks", "wildfire") as out:  # a re-run replaces it whole
        (out / "mask_001.png").write_bytes(b"v3")
    files = sorted(p.name for p in storage.require("motion_masks", "wildfire").iterdir())
    assert files == [MANIFEST_NAME, "mask_001.png"]
    assert leftovers(tmp_path) == []


def test_missing_upstream_names_asset_and_partition(tmp_path):
    storage = ArtefactStorage(tmp_path)
    with pytest.raises(MissingArtefactError, match=r"'disaster_images'.*'typhoon'"):
        storage.require("disaster_images", "typhoon")


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "flood,drought", ".hidden"])
def test_keys_are_plain_names(tmp_path, bad):
    with pytest.raises(ValueError, match="plain name"):
        ArtefactStorage(tmp_path).dir("depth_maps", bad)


def test_atomic_write_bytes_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "x.json"
    atomic_write_bytes(target, json.dumps({"a": 1}).encode())
    atomic_write_bytes(target, json.dumps({"a": 2}).encode())
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]
