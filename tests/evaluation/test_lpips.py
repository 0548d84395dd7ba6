"""LPIPS: a reason instead of a number where its ImageNet backbone is missing (here: always), and
the distance itself where everything is present (simulated with stand-in modules)."""

import sys
import types

import numpy as np
import pytest
import torch

from cinema_dag.evaluation import MetricUnavailable, lpips_distance


def test_unavailable_here_with_the_reason():
    with pytest.raises(MetricUnavailable, match="torchvision"):
        lpips_distance()
    with pytest.raises(ValueError, match="unknown LPIPS backbone 'resnet'"):
        lpips_distance("resnet")


@pytest.fixture
def stand_ins(monkeypatch, tmp_path):
    """A torchvision that imports and an lpips whose 'network' is the mean absolute difference of
    its [-1, 1] inputs; torch's hub cache in a temp folder."""
    seen = []

    class FakeLpips(torch.nn.Module):
        def __init__(self, net, verbose):
            super().__init__()

        def forward(self, a, b):
            seen.append((float(a.min()), float(a.max())))
            return (a - b).abs().mean().reshape(1, 1, 1, 1)

    monkeypatch.setitem(sys.modules, "torchvision", types.ModuleType("torchvision"))
    monkeypatch.setitem(sys.modules, "lpips", types.SimpleNamespace(LPIPS=FakeLpips))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    return tmp_path, seen


def test_missing_backbone_weights_are_named(stand_ins):
    with pytest.raises(MetricUnavailable, match=r"alexnet-owt-7be5be79\.pth"):
        lpips_distance("alex")


def test_with_the_weights_present_it_scores_pairs_on_minus_one_to_one(stand_ins):
    hub, seen = stand_ins
    (hub / "checkpoints").mkdir()
    (hub / "checkpoints" / "alexnet-owt-7be5be79.pth").write_bytes(b"weights")
    distance = lpips_distance("alex")
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    assert distance(black, black) == 0.0
    assert distance(black, white) == pytest.approx(2.0)
    assert seen[-1] == (-1.0, -1.0)
