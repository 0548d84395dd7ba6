"""SSIM and pair sampling on known answers: real photos and fractal noise."""

from itertools import pairwise

import numpy as np
import pytest
from realistic_images import fractal_noise, noisy, photos

from cinema_dag.evaluation import mean_over_pairs, sample_pairs, set_ssim, square_resize, ssim


class TestSsim:
    @pytest.mark.parametrize("image", [photos()[0], fractal_noise(96, 128, seed=3)], ids=["photo", "fractal"])
    def test_one_with_itself_and_falls_with_added_noise(self, image):
        assert ssim(image, image) == 1.0
        values = [ssim(image, noisy(image, sigma)) for sigma in (2, 8, 24, 64)]
        assert all(a > b for a, b in pairwise(values)), values
        assert 0.0 < values[-1] < 0.5 < values[0] < 1.0

    def test_different_photos_are_dissimilar_and_symmetric(self):
        a, b = photos()[:2]
        assert ssim(a, b) == pytest.approx(ssim(b, a))
        assert ssim(a, b) < 0.5

    def test_bad_inputs_name_the_problem(self):
        image = photos()[0]
        with pytest.raises(ValueError, match="one size"):
            ssim(image, image[:50])
        with pytest.raises(ValueError, match="7x7"):
            ssim(image[:5, :5], image[:5, :5])
        with pytest.raises(ValueError, match="uint8"):
            ssim(image.astype(np.float32), image.astype(np.float32))


class TestPairs:
    def test_all_pairs_or_a_fixed_sample(self):
        assert sample_pairs(2, 3).tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
        sample = sample_pairs(40, 50, max_pairs=100, seed=1)
        assert len(sample) == 100 and len({tuple(p) for p in sample}) == 100
        assert (sample[:, 0] < 40).all() and (sample[:, 1] < 50).all()
        assert np.array_equal(sample, sample_pairs(40, 50, max_pairs=100, seed=1))
        assert not np.array_equal(sample, sample_pairs(40, 50, max_pairs=100, seed=2))
        with pytest.raises(ValueError, match="at least one"):
            sample_pairs(0, 3)

    def test_set_ssim_of_a_set_with_itself_is_the_mean_over_its_pairs(self):
        images = photos()[:3]
        value, pairs = set_ssim(images, images, size=64)
        assert pairs == 9
        squares = [square_resize(i, 64) for i in images]
        expected = np.mean([ssim(a, b) for a in squares for b in squares])
        assert value == pytest.approx(expected)
        assert set_ssim(images[:1], images[:1], size=64) == (1.0, 1)

    def test_the_mean_is_order_free_and_counts_pairs(self):
        gen, ref = photos()[:2], photos()[2:]
        distance = lambda a, b: float(np.abs(a.astype(int) - b).mean())  # noqa: E731
        forward = mean_over_pairs(distance, gen, ref, size=32)
        backward = mean_over_pairs(distance, gen[::-1], ref[::-1], size=32)
        assert forward[1] == backward[1] == 6 and forward[0] == pytest.approx(backward[0])

    def test_square_resize_crops_the_centre(self):
        image = np.zeros((40, 80, 3), np.uint8)
        image[:, 20:60] = 200  # the centred square
        out = square_resize(image, 20)
        assert out.shape == (20, 20, 3) and out.min() == 200
