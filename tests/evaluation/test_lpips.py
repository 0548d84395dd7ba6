"""LPIPS: a reason instead of a number where a piece it needs is missing (torchvision, the lpips
package, the ImageNet backbone weights), naming that piece, and the distance itself where
everything is present (simulated with stand-in modules)."""

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from cinema_dag.evaluation import MetricUnavailable, lpips_distance
from cinema_dag.evaluation.lpips import LPIPS_NETS


def _missing_here() -> str | None:
    """What this machine lacks for LPIPS, looked up independently of the code under test: a text
    the reason must contain, or None when everything is present."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # an ill-matched wheel fails with RuntimeError, not only ImportError
        return "torchvision"
    try:
        import lpips  # noqa: F401
    except ImportError:
        return "the lpips package"
    checkpoint = Path(torch.hub.get_dir()) / "checkpoints" / LPIPS_NETS["alex"]
    return None if checkpoint.is_file() else str(checkpoint)


def test_on_this_machine_the_reason_names_what_is_missing():
    missing = _missing_here()
    if missing is None:  # everything present: a real distance, 0 for an image with itself
        image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        assert lpips_distance()(image, image) == pytest.approx(0.0, abs=1e-6)
    else:
        with pytest.raises(MetricUnavailable, match=re.escape(missing)):
            lpips_distance()
    with pytest.raises(ValueError, match="unknown LPIPS backbone 'resnet'"):
        lpips_distance("resnet")


def test_without_torchvision_the_reason_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # `import torchvision` now fails
    with pytest.raises(MetricUnavailable, match="no torchvision for LPIPS's ImageNet alex backbone"):
        lpips_distance()


def test_without_the_lpips_package_the_reason_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", types.ModuleType("torchvision"))
    monkeypatch.setitem(sys.modules, "lpips", None)
    with pytest.raises(MetricUnavailable, match="the lpips package"):
        lpips_distance()


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
