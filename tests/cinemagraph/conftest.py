"""Small deterministic scenes shared by the engine's tests."""

from __future__ import annotations

import numpy as np
import pytest


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Random texture without pure black (a black pixel would look like an unfilled hole)."""
    rng = np.random.default_rng(seed)
    return rng.integers(20, 236, size=(height, width, 3), dtype=np.uint8)


@pytest.fixture
def two_planes() -> tuple[np.ndarray, np.ndarray]:
    """A near block (depth 1) in front of a far plane (depth 4), both textured; 48 x 64."""
    image = textured(48, 64)
    depth = np.full((48, 64), 4.0, np.float32)
    depth[16:32, 24:40] = 1.0
    return image, depth
