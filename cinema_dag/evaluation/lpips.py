"""LPIPS, only where its backbone weights exist: otherwise the reason, never a random-net number.

LPIPS (Zhang et al. 2018) weighs the differences of ImageNet-trained AlexNet/VGG features with
small learnt linear heads. The heads ship inside the ``lpips`` wheel; the backbones come from
torchvision, which downloads them at first use. These machines have neither torchvision (its PyPI
wheels do not import beside the project's torch 2.13 CPU build) nor the download, so here LPIPS is
reported as unavailable with that reason. ``lpips.LPIPS(pnet_rand=True)`` would run, on random
backbone weights, and its numbers would mean nothing: it is not offered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .cells import MetricUnavailable
from .pairs import PairDistance

__all__ = ["LPIPS_NETS", "DEFAULT_LPIPS_NET", "lpips_distance"]

#: torchvision's checkpoint file of each LPIPS backbone (what ``pretrained=True`` would download).
LPIPS_NETS: dict[str, str] = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}
DEFAULT_LPIPS_NET = "alex"


def lpips_distance(net: str = DEFAULT_LPIPS_NET, device: Any = "cpu") -> PairDistance:
    """An LPIPS pair distance on ``uint8 (S, S, 3)`` images, if everything it needs is here.

    Checks, in order and without any download: torchvision imports, the ``lpips`` package is
    installed, and torch's hub cache already holds the backbone's ImageNet weights.

    Raises:
        ValueError: for an unknown ``net``.
        MetricUnavailable: naming the first missing piece.
    """
    if net not in LPIPS_NETS:
        raise ValueError(f"unknown LPIPS backbone {net!r}; use one of {', '.join(LPIPS_NETS)}")
    import torch

    try:
        import torchvision  # noqa: F401  (lpips builds its backbone with it)
    except Exception as err:  # an ill-matched wheel fails with RuntimeError, not only ImportError
        raise MetricUnavailable(
            f"no torchvision for LPIPS's ImageNet {net} backbone ({type(err).__name__}: {str(err)[:80]})") from None
    try:
        import lpips
    except ImportError:
        raise MetricUnavailable("the lpips package (linear heads of LPIPS) is not installed") from None
    checkpoint = Path(torch.hub.get_dir()) / "checkpoints" / LPIPS_NETS[net]
    if not checkpoint.is_file():
        raise MetricUnavailable(
            f"the ImageNet {net} backbone weights {checkpoint} are not in torch's hub cache, and LPIPS "
            "on a random backbone would mean nothing")
    model = lpips.LPIPS(net=net, verbose=False).to(device).eval()

    def distance(a: np.ndarray, b: np.ndarray) -> float:
        def tensor(image: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1)[None].float() / 127.5 - 1.0

        with torch.inference_mode():
            return float(model(tensor(a), tensor(b)).mean())

    return distance
