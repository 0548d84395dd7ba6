import numpy as np
import pytest

from cinema_dag.cinemagraph.depth import DEFAULT_MAX_DEPTH, disparity_to_depth, fill_non_finite


class TestDisparityToDepth:
    def test_nearest_is_one_and_far_is_clipped(self):
        disparity = np.linspace(0.0, 7.0, 30 * 40, dtype=np.float32).reshape(30, 40)
        depth = disparity_to_depth(disparity, median_size=0)
        assert depth.dtype == np.float32 and depth.shape == (30, 40)
        assert depth.min() == pytest.approx(1.0)
        assert depth.max() == pytest.approx(DEFAULT_MAX_DEPTH)
        assert depth[-1, -1] == pytest.approx(1.0) and depth[0, 0] == pytest.approx(DEFAULT_MAX_DEPTH)

    def test_larger_disparity_is_nearer_and_disparity_is_affine(self):
        disparity = np.tile(np.arange(10, dtype=np.float32), (4, 1)) * 3.0 - 5.0  # any scale/offset
        depth = disparity_to_depth(disparity, max_depth=10.0, median_size=0)
        assert np.all(np.diff(depth[0]) < 0)
        inverse = 1.0 / depth[0]
        assert np.allclose(np.diff(inverse), np.diff(inverse)[0], rtol=1e-4)  # linear in disparity

    def test_nan_and_inf_take_the_nearest_finite_value(self):
        disparity = np.ones((5, 6), np.float32)
        disparity[:, 3:] = 2.0
        disparity[2, 4] = np.nan
        disparity[0, 0] = np.inf
        filled = fill_non_finite(disparity)
        assert np.isfinite(filled).all()
        assert filled[2, 4] == 2.0 and filled[0, 0] == 1.0
        assert np.isfinite(disparity_to_depth(disparity)).all()

    def test_all_nan_is_an_error(self):
        with pytest.raises(ValueError, match="no finite value"):
            disparity_to_depth(np.full((4, 4), np.nan))

    def test_constant_disparity_is_a_flat_plane_at_depth_one(self):
        depth = disparity_to_depth(np.full((8, 9), 3.5))
        assert np.array_equal(depth, np.ones((8, 9), np.float32))

    @pytest.mark.parametrize("bad", [np.zeros((3, 3, 2)), np.zeros(5), "depth"])
    def test_bad_shapes_are_errors(self, bad):
        with pytest.raises(ValueError, match="disparity"):
            disparity_to_depth(bad)

    def test_bad_options(self):
        with pytest.raises(ValueError, match="max_depth"):
            disparity_to_depth(np.zeros((3, 3)), max_depth=1.0)
        with pytest.raises(ValueError, match="median_size"):
            disparity_to_depth(np.zeros((3, 3)), median_size=4)
