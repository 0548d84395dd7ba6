import pytest
import torch

from cinema_dag.cinemagraph.splat import (
    PAD,
    PaddedGrid,
    crack_tolerance,
    empty_key,
    fill_cracks,
    fill_holes,
    fill_holes_tiled,
    pack_keys,
    splat_keys,
    splat_points,
    unpack_keys,
)


def test_keys_order_by_depth_then_id():
    keys = pack_keys(torch.tensor([2.0, 1.0, 1.0, 0.001]), torch.tensor([0, 5, 3, 9]))
    assert torch.argsort(keys).tolist() == [3, 2, 1, 0]
    depth, ids = unpack_keys(keys)
    assert depth.tolist() == pytest.approx([2.0, 1.0, 1.0, 0.001]) and ids.tolist() == [0, 5, 3, 9]
    assert empty_key(7) > keys.max()


def test_nearest_point_wins_and_off_image_points_land_on_the_border():
    grid = PaddedGrid(3, 4)
    buffer = grid.new_buffer(empty_key(4))
    x, y = torch.tensor([1.0, 1.2, 9.0, -3.0]), torch.tensor([1.0, 0.9, 1.0, -5.0])
    splat_keys(buffer, grid.pixel_index(x, y), pack_keys(torch.tensor([3.0, 2.0, 1.0, 1.0])))
    _, ids = unpack_keys(grid.interior(buffer).reshape(-1))
    assert ids.view(3, 4)[1, 1].item() == 1  # depth 2 beats depth 3
    assert (ids < 4).sum().item() == 1  # the two off-image points are not in the image
    assert grid.numel == 7 * 8 and PAD == 2


def test_splat_points_z_test():
    xyz = torch.tensor([[0.0, 0.0, 2.0], [0.0, 0.0, 1.0], [0.4, 0.0, 1.0]])
    colors = torch.tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=torch.uint8)
    image, coverage = splat_points(xyz, colors, (5, 5))
    assert image[2, 2].tolist() == [0, 255, 0]  # the nearer of the two centred points
    assert image[2, 4].tolist() == [0, 0, 255] and coverage.sum().item() == 2
    image, _ = splat_points(xyz, colors, (5, 5), camera_centre=(0.2, 0.0, 0.0))  # camera moves right
    assert image[2, 1].tolist() == [0, 255, 0]  # ... the near point moves left by f * 0.2 / 1 = 1 px
    with pytest.raises(ValueError, match="in front"):
        splat_points(xyz, colors, (5, 5), camera_centre=(0.0, 0.0, 1.5))


def _surface(h, w, depth=1.0):
    grid = PaddedGrid(h, w)
    buffer = grid.new_buffer(empty_key(h * w))
    grid.interior(buffer).copy_(pack_keys(torch.full((h * w,), depth), torch.arange(h * w)).view(h, w))
    return grid, buffer


def test_fill_cracks_closes_crack_rows_and_crossings_but_keeps_silhouettes():
    grid, buffer = _surface(8, 10)
    inside = grid.interior(buffer)
    far = pack_keys(torch.tensor([5.0]), torch.tensor([99]))
    inside[3, :] = far  # a crack row showing a far point
    inside[:, 6] = empty_key(80)  # a crack column showing nothing; crosses the row at (3, 6)
    inside[6:, :2] = far  # a far region at a silhouette (its corner too): not a crack
    fill_cracks(grid.view2d(buffer), crack_tolerance())
    depth, ids = unpack_keys(inside.reshape(-1))
    depth, ids = depth.view(8, 10), ids.view(8, 10)
    assert (depth[:6] < 1.1).all() and (depth[:, 2:] < 1.1).all()
    assert (depth[6:, :2] == 5.0).all()
    flat_grid, flat = _surface(6, 6, depth=2.0)
    before = flat.clone()
    fill_cracks(flat_grid.view2d(flat))
    assert torch.equal(flat, before)  # a surface without cracks is left alone


def test_fill_holes_fills_every_hole_and_nothing_else():
    torch.manual_seed(0)
    image = torch.rand(3, 20, 24)
    holes = torch.zeros(20, 24, dtype=torch.bool)
    holes[5:15, 3:9] = True
    holes[0, 23] = True
    out = fill_holes(image, holes)
    assert torch.equal(out[:, ~holes], image[:, ~holes])
    assert torch.isfinite(out).all() and (out[:, holes] >= 0).all() and (out[:, holes] <= 1).all()


def test_fill_holes_prefers_heavy_pixels():
    image = torch.zeros(1, 1, 9)
    image[0, 0, 5:] = 1.0
    holes = torch.zeros(1, 9, dtype=torch.bool)
    holes[0, 4] = True
    weight = torch.ones(1, 9)
    weight[0, 5:] = 100.0  # the far side
    assert fill_holes(image, holes, weight)[0, 0, 4] > 0.9


@pytest.mark.parametrize("shape", ["few", "wide", "everywhere"])
def test_fill_holes_tiled_leaves_no_hole(shape):
    gen = torch.Generator().manual_seed(1)
    image = torch.randint(10, 250, (70, 90, 4), dtype=torch.uint8, generator=gen)
    holes = torch.zeros(70, 90, dtype=torch.bool)
    if shape == "few":
        holes[3, 4] = holes[69, 89] = holes[40, 10:12] = True
    elif shape == "wide":
        holes[10:60, 20:70] = True
    else:
        holes = torch.rand(70, 90, generator=gen) < 0.3
    before = image.clone()
    image[holes] = 0
    fill_holes_tiled(image, holes)
    assert torch.equal(image[~holes], before[~holes])
    assert (image[holes][:, 3] == 255).all() and (image[holes][:, :3] > 0).any(1).all()
