"""The torch device resource: which accelerator, which dtype, seeding, and memory release."""

from __future__ import annotations

import dagster as dg


class TorchDevice(dg.ConfigurableResource):
    """The torch device for model stages.

    ``device="auto"`` picks cuda, then mps, then cpu; ``dtype="auto"`` is float16 on cuda and float32
    elsewhere. ``threads`` caps CPU threads (0 keeps torch's default): on small virtual machines two
    OpenMP threads can be far slower than one for element-wise ops.
    """

    device: str = "auto"
    dtype: str = "auto"
    threads: int = 0

    def torch_device(self):
        from cinema_dag.models import device as _device

        self._apply_threads()
        return _device.resolve_device(self.device)

    def torch_dtype(self):
        from cinema_dag.models import device as _device

        return _device.resolve_dtype(self.dtype, self.torch_device())

    def generator(self, seed: int):
        """A CPU ``torch.Generator`` seeded with ``seed`` (CPU generators give the same noise on any device)."""
        import torch

        return torch.Generator("cpu").manual_seed(int(seed))

    def free_memory(self) -> None:
        from cinema_dag.models import device as _device

        _device.free_memory(self.torch_device())

    def _apply_threads(self) -> None:
        if self.threads > 0:
            import torch

            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        import sys

        if "torch" in sys.modules:  # nothing to free if no stage loaded torch
            self.free_memory()
