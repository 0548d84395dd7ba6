"""Fréchet and kernel distances on feature sets with known answers."""

from itertools import pairwise

import numpy as np
import pytest
import scipy.linalg

from cinema_dag.evaluation import frechet_distance, kernel_distance


def reference_fid(a, b):
    """The textbook formula with scipy's sqrtm (slow, complex round-off; fine for small D)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b)
    return float(np.real(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * root)))


class TestFrechet:
    @pytest.mark.parametrize("n, m, dims", [(50, 40, 8), (5, 7, 16), (30, 30, 64), (300, 200, 16)])
    def test_matches_the_textbook_formula(self, n, m, dims):
        rng = np.random.default_rng(dims)
        a = rng.normal(size=(n, dims))
        b = rng.normal(size=(m, dims)) @ np.diag(rng.uniform(0.5, 2.0, dims)) + 0.3
        assert frechet_distance(a, b) == pytest.approx(reference_fid(a, b), rel=1e-6, abs=1e-6)

    def test_zero_for_a_set_with_itself_and_growing_with_a_shift(self):
        x = np.random.default_rng(0).normal(size=(64, 2048))  # fewer images than dimensions, as with 2048-d Inception
        assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
        values = [frechet_distance(x, x + shift) for shift in (0.1, 0.2, 0.4)]
        assert values == pytest.approx([2048 * s**2 for s in (0.1, 0.2, 0.4)])  # |mu|^2, covariances equal

    def test_grows_with_a_wider_spread(self):
        x = np.random.default_rng(1).normal(size=(200, 16))
        values = [frechet_distance(x, x * scale) for scale in (1.0, 1.5, 2.0, 3.0)]
        assert values[0] == pytest.approx(0.0, abs=1e-9) and all(a < b for a, b in pairwise(values))

    def test_bad_inputs(self):
        x = np.zeros((4, 3))
        with pytest.raises(ValueError, match="at least 2"):
            frechet_distance(x[:1], x)
        with pytest.raises(ValueError, match="one D"):
            frechet_distance(x, np.zeros((4, 5)))
        with pytest.raises(ValueError, match="NaN"):
            frechet_distance(x, np.full((4, 3), np.nan))


class TestKernel:
    def test_near_zero_for_two_samples_of_one_distribution_and_growing_with_a_shift(self):
        rng = np.random.default_rng(2)
        a, b = rng.normal(size=(150, 32)), rng.normal(size=(150, 32))
        same, _ = kernel_distance(a, b, subset_size=100, num_subsets=20)
        shifted = [kernel_distance(a, b + s, subset_size=100, num_subsets=20)[0] for s in (0.25, 0.5, 1.0)]
        assert abs(same) < 0.2 * shifted[0]
        assert all(x < y for x, y in pairwise(shifted))

    def test_subsets_are_reproducible(self):
        rng = np.random.default_rng(3)
        a, b = rng.normal(size=(60, 8)), rng.normal(size=(80, 8)) + 0.5
        assert kernel_distance(a, b, subset_size=20, seed=4) == kernel_distance(a, b, subset_size=20, seed=4)
        _, std = kernel_distance(a, b, subset_size=20, num_subsets=10)
        assert std > 0
        assert kernel_distance(a[:20], b[:20], subset_size=50)[1] == 0.0  # one whole-set estimate
