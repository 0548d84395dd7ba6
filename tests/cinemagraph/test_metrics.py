import math

import numpy as np
import pytest

from cinema_dag.cinemagraph.metrics import frame_steps, loop_seam_ratio


def _video(levels):
    return np.array(levels, np.uint8)[:, None, None, None].repeat(4, 1).repeat(4, 2).repeat(3, 3)


def test_seam_ratio():
    assert loop_seam_ratio(_video([0, 10, 20, 30, 20, 10])) == pytest.approx(1.0)
    assert loop_seam_ratio(_video([0, 10, 20, 30, 40, 50])) == pytest.approx(5.0)
    assert loop_seam_ratio(_video([7, 7, 7, 7])) == 1.0
    assert math.isinf(loop_seam_ratio(_video([7, 7, 7, 7, 9])))
    assert frame_steps(_video([0, 10, 30])).tolist() == [10, 20, 30]
    with pytest.raises(ValueError):
        loop_seam_ratio(_video([1, 2]))
