import numpy as np
import pytest

from cinema_dag.cinemagraph.motion import MOTION_KINDS, arrows_to_hints, densify_hints, motion_field


def _scene(h=60, w=80):
    mask = np.zeros((h, w), bool)
    mask[30:, :] = True
    depth = (1.0 / np.linspace(0.1, 1.0, h, dtype=np.float32))[:, None].repeat(w, 1)  # ground plane
    return mask, depth


@pytest.mark.parametrize("kind", MOTION_KINDS)
def test_every_kind_is_zero_outside_the_mask_and_moves_inside(kind):
    mask, depth = _scene()
    field = motion_field(kind, mask, depth, seed=3)
    assert field.shape == (60, 80, 2) and field.dtype == np.float32
    assert not field[~mask].any()
    assert np.linalg.norm(field[mask], axis=1).min() > 0


def test_directions_follow_the_kind():
    mask, depth = _scene()
    assert motion_field("wildfire", mask, depth)[mask][:, 1].mean() < 0  # fire and smoke rise
    assert motion_field("heavy_snow", mask, depth)[mask][:, 1].mean() > 0  # snow falls
    assert motion_field("flood", mask, depth)[mask][:, 1].mean() > 0  # water comes down the slope
    assert motion_field("홍수", mask, depth)[mask].tolist() == motion_field("flow", mask, depth)[mask].tolist()


def test_deterministic_for_a_seed():
    mask, depth = _scene()
    assert np.array_equal(motion_field("typhoon", mask, depth, seed=1), motion_field("typhoon", mask, depth, seed=1))


def test_arrows_override_and_set_the_speed():
    mask, depth = _scene()
    field = motion_field("wildfire", mask, depth, arrows=[(10, 40, 35, 40)], hint_scale=50, feather=0)
    # One hint: the normalised RBF is that hint's velocity everywhere in the mask.
    assert np.allclose(field[mask], [0.5, 0.0])
    positions, velocities = arrows_to_hints([(0, 0, 10, -20)], hint_scale=10)
    assert positions.tolist() == [[0, 0]] and velocities.tolist() == [[1, -2]]


def test_densify_blends_hints_smoothly():
    mask = np.ones((40, 40), bool)
    field = densify_hints(np.array([[5, 20], [35, 20]]), np.array([[1.0, 0], [-1.0, 0]]), mask, sigma=8)
    assert field[20, 5, 0] == pytest.approx(1.0, abs=0.05) and field[20, 35, 0] == pytest.approx(-1.0, abs=0.05)
    assert abs(field[20, 20, 0]) < 0.1  # halfway: the two cancel
    assert np.all(np.diff(field[20, 5:36, 0]) <= 1e-6)  # monotone between them


def test_empty_mask_and_bad_inputs():
    mask, depth = _scene()
    assert not motion_field("flood", np.zeros_like(mask), depth).any()
    with pytest.raises(ValueError, match="sizes"):
        motion_field("flood", mask[:-1], depth)
    with pytest.raises(ValueError, match="arrows"):
        motion_field("flood", mask, depth, arrows=[(1, 2, 3)])
    with pytest.raises(ValueError, match="Unknown disaster"):
        motion_field("meteor", mask, depth)


def test_speed_ramps_up_from_the_mask_edge():
    mask, depth = _scene()
    field = motion_field("flood", mask, depth, arrows=[(40, 45, 40, 95)], feather=4)  # 1 px/frame down
    speed = np.linalg.norm(field, axis=2)
    assert speed[30, 40] == pytest.approx(0.25) and speed[31, 40] == pytest.approx(0.5)  # rows from the edge
    assert speed[40, 40] == pytest.approx(1.0) and speed[59, 40] == pytest.approx(1.0)  # the image border is no edge
    with pytest.raises(ValueError, match="feather"):
        motion_field("flood", mask, depth, feather=-1)


class TestSeed:
    """What the seed controls: the sideways sign of sweeping motions and the phases of swaying and
    shimmering ones (a straight flow, e.g. a flood, is the same for every seed)."""

    @pytest.mark.parametrize("kind", ["storm", "rise", "shimmer"])
    def test_the_seed_changes_seeded_motion_kinds_and_repeats_with_the_same_seed(self, kind):
        mask = np.zeros((48, 64), bool)
        mask[8:44, 4:60] = True
        depth = np.full((48, 64), 2.0, np.float32)
        fields = [motion_field(kind, mask, depth, seed=s) for s in range(6)]
        assert any(not np.array_equal(fields[0], f) for f in fields[1:])
        assert np.array_equal(fields[3], motion_field(kind, mask, depth, seed=3))

    def test_a_straight_flow_does_not_depend_on_the_seed(self):
        mask = np.zeros((48, 64), bool)
        mask[24:] = True
        depth = np.full((48, 64), 2.0, np.float32)
        assert np.array_equal(motion_field("flow", mask, depth, seed=0), motion_field("flow", mask, depth, seed=9))
