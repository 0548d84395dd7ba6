"""benchmarks/evaluation.py runs end to end on small sizes and reports what it measured."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "evaluation.py"


def test_small_cpu_run(capsys, tiny_cache):
    spec = importlib.util.spec_from_file_location("bench_evaluation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        results = module.main(["--images", "2", "--image-size", "64", "--video-size", "64", "--frames", "6",
                               "--skip", "inception", "clip-arch", "--cache-dir", str(tiny_cache)])
    finally:
        sys.modules.pop(spec.name, None)
    out = capsys.readouterr().out
    assert "OMP_NUM_THREADS=" in out and "overhead" in out
    labels = [label for label, *_ in results["metrics"]]
    assert labels[:4] == ["ssim (100 pairs)", "fid (100 vs 100)", "kid (100 vs 100)", "clip score (tiny)"]
    assert all(wall > 0 and cpu > 0 for _, wall, cpu, _ in results["metrics"][:4])
    lpips = results["metrics"][-1]
    assert lpips[0] == "lpips" and math.isnan(lpips[1]) and lpips[3].startswith("not measured: ")
    assert [v["camera"] for v in results["video"]] == ["none", "circle"]
    for video in results["video"]:
        assert video["render_wall_s"] > 0 and video["encode_cpu_s"] > 0 and 0 < video["overhead_cpu"] < 5
        assert video["quality"]["unfilled_after_fill"] == 0.0
        assert video["quality"]["flicker"] == 0.0  # measured for both cameras
    still, moving = results["video"]  # the moving camera's flicker comes from the still-camera pass, timed too
    assert still["quality"]["flicker_from"] == "video" and moving["quality"]["flicker_from"] == "still pass (5 frames)"
    assert "still pass" in out and "without the still pass" in out
