"""The one atomic writer: whole files or none, usual permissions, no leftovers."""

import os
import stat

import pytest

from cinema_dag.atomic import (
    atomic_dir,
    atomic_open,
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    temp_name,
)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_whole_file_with_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_bytes(tmp_path / "a" / "x.bin", b"abc")
        assert path.read_bytes() == b"abc" and _mode(path) == 0o644
        atomic_write_json(tmp_path / "m.json", {"ko": "홍수"})
        assert "홍수" in (tmp_path / "m.json").read_text(encoding="utf-8") and _mode(tmp_path / "m.json") == 0o644
        with atomic_dir(tmp_path / "d") as folder:
            (folder / "f").write_text("1")
        assert _mode(tmp_path / "d") == 0o755
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "d", "m.json"]


def test_failure_keeps_the_previous_version_and_leaves_nothing(tmp_path):
    path = atomic_write_bytes(tmp_path / "x.txt", b"old")
    with pytest.raises(RuntimeError):
        with atomic_open(path, "w") as handle:
            handle.write("half")
            raise RuntimeError("killed")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.txt"]


def test_temp_name_keeps_the_suffix_for_format_sniffing_writers(tmp_path):
    assert temp_name(tmp_path / "v.mp4").suffix == ".mp4" and temp_name(tmp_path / "v.mp4").name.startswith(".")
    with atomic_path(tmp_path / "p.png") as tmp:
        assert tmp.suffix == ".png"
        tmp.write_bytes(b"png")
    assert (tmp_path / "p.png").read_bytes() == b"png"


def test_a_writer_that_wrote_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="created nothing"):
        with atomic_path(tmp_path / "p.png"):
            pass
    assert not (tmp_path / "p.png").exists()


def test_dir_replaces_whole_or_not_at_all(tmp_path):
    with atomic_dir(tmp_path / "d") as folder:
        (folder / "old").write_text("1")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(tmp_path / "d") as folder:
            (folder / "new").write_text("2")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path / "d") == ["old"] and os.listdir(tmp_path) == ["d"]
    with atomic_dir(tmp_path / "d") as folder:
        (folder / "new").write_text("2")
    assert os.listdir(tmp_path / "d") == ["new"] and os.listdir(tmp_path) == ["d"]


def test_atomic_file_publishes_at_commit_and_discard_leaves_nothing(tmp_path):
    from cinema_dag.atomic import AtomicFile

    log = AtomicFile(tmp_path / "records.jsonl")
    log.write('{"a": 1}\n')
    assert not (tmp_path / "records.jsonl").exists()  # readers see nothing until the commit
    log.commit()
    assert (tmp_path / "records.jsonl").read_text() == '{"a": 1}\n'
    other = AtomicFile(tmp_path / "records.jsonl")
    other.write("half")
    other.discard()
    assert os.listdir(tmp_path) == ["records.jsonl"] and (tmp_path / "records.jsonl").read_text() == '{"a": 1}\n'


def test_leftovers_are_found_by_target_and_by_folder(tmp_path):
    from cinema_dag.atomic import leftovers, leftovers_in

    (tmp_path / "flood").mkdir()
    killed = [temp_name(tmp_path / "flood"), temp_name(tmp_path / "flood", "old"), temp_name(tmp_path / "v.mp4")]
    for path in killed:
        path.mkdir()
    (tmp_path / ".flood.lock").touch()  # not a temp name
    (tmp_path / ".floods.1.0123abcd.tmp").mkdir()  # another target's
    assert leftovers(tmp_path / "flood") == sorted(killed[:2])
    assert leftovers_in(tmp_path) == sorted([*killed, tmp_path / ".floods.1.0123abcd.tmp"])


def test_dir_keep_existing_lets_the_first_writer_win(tmp_path):
    with atomic_dir(tmp_path / "model", keep_existing=True) as folder:
        (folder / "w").write_text("first")
    with atomic_dir(tmp_path / "model", keep_existing=True) as folder:
        (folder / "w").write_text("second")
    assert (tmp_path / "model" / "w").read_text() == "first" and os.listdir(tmp_path) == ["model"]
