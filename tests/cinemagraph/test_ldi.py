import numpy as np
import pytest

from cinema_dag.cinemagraph.ldi import DEPTH_GAP, LayeredDepthImage, TeleaInpainter, build_ldi, layer_labels

from .conftest import textured


def _colour_planes():
    """A red near block on a blue far plane (uniform colours, so inpainted colours are checkable)."""
    image = np.zeros((40, 56, 3), np.uint8)
    image[...] = (30, 40, 200)
    depth = np.full((40, 56), 4.0, np.float32)
    depth[12:28, 20:36] = 1.0
    image[12:28, 20:36] = (220, 30, 30)
    return image, depth


class TestLayerLabels:
    def test_two_planes_split_at_the_edge(self, two_planes):
        _, depth = two_planes
        labels, thresholds = layer_labels(depth, 2)
        assert len(thresholds) == 1 and 0.25 < thresholds[0] <= 1.0
        assert np.array_equal(labels == 0, depth == 1.0)

    def test_a_smooth_ramp_is_never_cut(self):
        depth = 1.0 / np.linspace(1.0, 0.1, 64, dtype=np.float32)[:, None].repeat(48, 1)
        labels, thresholds = layer_labels(depth, 3)
        assert len(thresholds) == 0 and not labels.any()

    def test_layer_count_does_not_grow_with_resolution(self, two_planes):
        _, depth = two_planes
        big = np.kron(depth, np.ones((4, 4), np.float32))
        assert len(layer_labels(depth, 4)[1]) == len(layer_labels(big, 4)[1]) == 1


class TestBuildLdi:
    def test_back_layer_holds_background_behind_the_front_edges(self):
        image, depth = _colour_planes()
        ldi = build_ldi(image, depth, margin=5)
        assert ldi.num_layers == 2 and ldi.size == (40, 56)
        assert np.array_equal(ldi.colors[0], image) and ldi.alphas[0].all()
        back = ldi.alphas[1]
        assert back.any() and not back[depth > 1.0].any()  # only behind the block
        assert not back[18:22, 26:30].any()  # only a band near its edges, not its middle
        # Colour from the blue background, never the red block; depth behind the block, near 4.
        assert np.abs(ldi.colors[1][back].astype(int) - (30, 40, 200)).max() <= 2
        assert (ldi.depths[1][back] >= ldi.depths[0][back] * DEPTH_GAP - 1e-6).all()
        assert np.allclose(ldi.depths[1][back], 4.0, rtol=0.05)

    def test_full_margin_inpaints_everything_behind_the_block(self):
        image, depth = _colour_planes()
        ldi = build_ldi(image, depth, margin=10_000)
        assert np.array_equal(ldi.alphas[1], depth == 1.0)

    def test_pluggable_inpainter(self):
        image, depth = _colour_planes()
        calls = []

        def green(img, hole):
            calls.append(hole.sum())
            out = img.copy()
            out[hole] = (0, 255, 0)
            return out

        ldi = build_ldi(image, depth, inpainter=green)
        assert calls and (ldi.colors[1][ldi.alphas[1]] == (0, 255, 0)).all()

    def test_a_bad_inpainter_result_is_an_error(self):
        image, depth = _colour_planes()
        with pytest.raises(ValueError, match="inpainter"):
            build_ldi(image, depth, inpainter=lambda img, hole: img[:-1])

    def test_one_layer_and_flat_depth_have_no_back_points(self):
        image = textured(20, 30)
        assert build_ldi(image, np.full((20, 30), 2.0, np.float32)).num_points == 600
        ldi = build_ldi(image, np.ones((20, 30), np.float32), num_layers=1)
        assert ldi.num_layers == 1 and ldi.num_points == 600

    def test_size_mismatch_and_bad_depth_are_errors(self, two_planes):
        image, depth = two_planes
        with pytest.raises(ValueError, match=r"`image` 48x64, `depth` 47x64"):
            build_ldi(image, depth[:-1])
        bad = depth.copy()
        bad[0, 0] = np.nan
        with pytest.raises(ValueError, match="finite"):
            build_ldi(image, bad)
        with pytest.raises(ValueError, match="num_layers"):
            build_ldi(image, depth, num_layers=0)

    def test_deterministic_and_serialisable(self, tmp_path, two_planes):
        image, depth = two_planes
        a, b = build_ldi(image, depth), build_ldi(image, depth)
        for name in ("colors", "depths", "alphas", "labels"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
        c = LayeredDepthImage.from_bytes(a.to_bytes())
        assert np.array_equal(c.depths, a.depths) and c.focal == a.focal == 64.0
        path = a.save(tmp_path / "ldi.npz")
        assert [p.name for p in tmp_path.iterdir()] == ["ldi.npz"]
        assert np.array_equal(LayeredDepthImage.load(path).alphas, a.alphas)

    def test_telea_inpainter_fills_from_context(self):
        image = np.full((20, 20, 3), 90, np.uint8)
        image[5:15, 5:15] = 250
        hole = np.zeros((20, 20), bool)
        hole[5:15, 5:15] = True
        out = TeleaInpainter(3)(image, hole)
        assert np.abs(out[hole].astype(int) - 90).max() <= 3
