"""benchmarks/lora.py runs end to end on CPU with the tiny shape, and knows the 7B shape."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "lora.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_lora", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_tiny_cpu_run(bench, capsys):
    results = bench.main(["--tiny", "--device", "cpu", "--steps", "2", "--warmup", "1", "--seq-len", "16", "--compare"])
    out = capsys.readouterr().out
    assert [r["variant"] for r in results] == ["reference", "ours"]
    for r in results:
        assert r["tokens_per_s"] > 0 and r["peak_gib"] > 0 and r["trainable_params"] == 2 * 2 * 8 * (32 + 32)
    assert "OMP_NUM_THREADS=" in out and "tokens/s" in out and "adamw=foreach" in out


def test_llama2_7b_shape(bench):
    # On the meta device: the architecture is built without allocating 13 GB.
    model = bench.build_model(bench.LLAMA2_7B, torch.device("meta"), torch.bfloat16)
    assert sum(p.numel() for p in model.parameters()) == 6_738_415_616
    assert next(model.parameters()).dtype == torch.bfloat16
