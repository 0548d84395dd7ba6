"""Torch device and dtype choice, and memory release between stages."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICES", "DTYPES", "resolve_device", "resolve_dtype", "free_memory"]

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
DTYPES: tuple[str, ...] = ("auto", "float32", "float16", "bfloat16")


def resolve_device(device: str = "auto") -> torch.device:
    """The torch device for a name: ``"auto"`` picks cuda, then mps, then cpu.

    ``"cuda:1"`` style indices are accepted. Asking for a backend that is not available raises
    ``RuntimeError`` instead of silently running on the CPU (a GPU job that runs for hours on the CPU
    is worse than a failed one).
    """
    import torch

    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto' or 'cuda:0'; got {device!r}")
    kind = device.split(":", 1)[0]
    if kind not in DEVICES:
        raise ValueError(f"Unknown device {device!r}; use one of {', '.join(DEVICES)} (optionally 'cuda:N')")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device {device!r} requested but MPS is not available")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype | None, device: str | torch.device) -> torch.dtype:
    """The torch dtype for a name; ``"auto"``/``None`` is float16 on cuda and mps, float32 on cpu.

    float16 on the CPU is slow and poorly supported, so ``"auto"`` never picks it there.
    """
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype == "auto":
        device_type = torch.device(device).type if isinstance(device, str) else device.type
        return torch.float16 if device_type in ("cuda", "mps") else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    return getattr(torch, dtype)


def free_memory(device: str | torch.device | None = None) -> None:
    """Release cached accelerator memory after a stage dropped its models (a no-op on the CPU)."""
    import torch

    device_type = None if device is None else torch.device(device).type
    cuda = device_type in (None, "cuda") and torch.cuda.is_available()
    mps = device_type in (None, "mps") and torch.backends.mps.is_available()
    if not (cuda or mps):
        # CPU tensors are freed when their last reference goes; a full collection here only costs
        # time (0.3-0.5 s with transformers and diffusers loaded, on an alert's critical path).
        return
    gc.collect()  # models caught in reference cycles must go before their cached blocks can
    if cuda:
        torch.cuda.empty_cache()
    if mps:
        torch.mps.empty_cache()
