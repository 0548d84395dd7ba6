"""``python -m cinema_dag.cinemagraph animate``: a photo with a labelme file to an MP4."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cinema_dag.cinemagraph import read_mp4
from cinema_dag.cinemagraph.cli import build_parser, main
from cinema_dag.cinemagraph.labelme import parse_labelme

from .conftest import textured


def _labelme(path, shapes, size=(64, 96)):
    doc = {
        "version": "5.4.1",
        "shapes": shapes,
        "imagePath": "photo.png",
        "imageHeight": size[0],
        "imageWidth": size[1],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


WATER = {"label": "motion", "shape_type": "polygon", "points": [[8, 30], [88, 30], [88, 60], [8, 60]]}
HINT = {"label": "hint0", "shape_type": "line", "points": [[20, 40], [45, 40]]}  # 25 px: 0.5 px/frame


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(textured(64, 96, seed=8)).save(path)
    return path


def test_labelme_polygons_become_the_mask_and_hint_lines_arrows():
    annotation = parse_labelme({"shapes": [WATER, HINT, {"label": "person", "points": [[0, 0], [5, 0], [5, 5]]}],
                                "imageHeight": 64, "imageWidth": 96})
    assert annotation.mask[45, 50] and not annotation.mask[10, 50] and annotation.mask.sum() > 80 * 29
    assert annotation.arrows.tolist() == [[20.0, 40.0, 45.0, 40.0]]


def test_option_defaults_are_the_engine_defaults_not_copies(monkeypatch):
    """Change a default once (cinema_dag.defaults, the profiles) and the command follows."""
    from cinema_dag import defaults
    from cinema_dag.models import profiles

    changed = {"DEFAULT_NUM_FRAMES": 7, "DEFAULT_FPS": 12, "DEFAULT_CRF": 3, "DEFAULT_KERNEL": "cubic",
               "DEFAULT_CROSSFADE": 0.5}
    for name, value in changed.items():
        monkeypatch.setattr(defaults, name, value)
    monkeypatch.setattr(profiles, "DEFAULT_PROFILE", "fast")
    args = build_parser().parse_args(["animate", "photo.png", "-o", "out.mp4"])
    assert (args.frames, args.fps, args.crf, args.kernel, args.crossfade, args.profile) == (7, 12.0, 3, "cubic", 0.5,
                                                                                          "fast")


def test_animate_writes_an_mp4_with_the_frame_count(photo, tmp_path, capsys):
    labels = _labelme(tmp_path / "photo.json", [WATER, HINT])
    out = tmp_path / "out.mp4"
    code = main(["animate", str(photo), "--labelme", str(labels), "--synthetic-depth", "ground",
                 "--frames", "12", "--camera", "circle", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    frames = read_mp4(out)
    assert frames.shape == (12, 64, 96, 3)
    assert "arrows=1" in capsys.readouterr().out
    assert not np.array_equal(frames[0], frames[6])


def test_animate_refuses_a_labelme_file_without_a_motion_polygon(photo, tmp_path, capsys):
    labels = _labelme(tmp_path / "photo.json", [HINT, {"label": "sky", "points": [[0, 0], [90, 0], [90, 20]]}])
    out = tmp_path / "out.mp4"
    code = main(["animate", str(photo), "--labelme", str(labels), "--synthetic-depth", "flat", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "no polygon labelled 'motion'" in err and "sky" in err
    assert not out.exists()


def test_without_depth_file_or_weights_it_says_so_and_offers_a_synthetic_depth(photo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.delenv("CINEMA_DAG_WEIGHTS_DEPTH", raising=False)
    labels = _labelme(tmp_path / "photo.json", [WATER])
    out = tmp_path / "out.mp4"
    code = main(["animate", str(photo), "--labelme", str(labels), "--profile", "fast", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "--synthetic-depth flat" in err and "--depth FILE" in err and not out.exists()


def test_module_entry_point_runs_with_a_depth_png_and_a_mask(photo, tmp_path):
    mask = np.zeros((64, 96), np.uint8)
    mask[30:60] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    disparity = np.repeat(np.linspace(0, 65535, 64)[:, None], 96, 1).astype(np.uint16)
    Image.fromarray(disparity).save(tmp_path / "depth.png")
    out = tmp_path / "out.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "cinema_dag.cinemagraph", "animate", str(photo), "--mask", str(tmp_path / "mask.png"),
         "--depth", str(tmp_path / "depth.png"), "--camera", "none", "--frames", "8", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert read_mp4(out).shape == (8, 64, 96, 3) and "depth=file" in proc.stdout
