import numpy as np
import pytest

from cinema_dag.cinemagraph.ldi import build_ldi
from cinema_dag.cinemagraph.pointcloud import PointCloud, read_ply, save_ply, unproject


def test_unproject_known_values():
    # 3x5 image: centre (2, 1), focal 5.
    xyz = unproject(np.array([[2.0, 1.0], [4.0, 1.0], [2.0, 0.0]]), np.array([2.0, 5.0, 1.0]), (3, 5))
    assert np.allclose(xyz, [[0, 0, 2], [2 * 5 / 5, 0, 5], [0, -1 / 5, 1]])


def test_ldi_points_cover_every_layer_pixel(two_planes):
    image, depth = two_planes
    ldi = build_ldi(image, depth, margin=4)
    cloud = ldi.points()
    assert len(cloud) == ldi.alphas.sum() > image.shape[0] * image.shape[1]
    assert set(np.unique(cloud.layer)) == {0, 1}
    front = cloud.layer == 0
    assert np.allclose(np.sort(cloud.xyz[front, 2]), np.sort(depth.ravel()))


def test_ply_round_trip_is_atomic(tmp_path, two_planes):
    image, depth = two_planes
    cloud = build_ldi(image, depth, num_layers=1).points()
    path = save_ply(cloud, tmp_path / "scene.ply")
    assert [p.name for p in tmp_path.iterdir()] == ["scene.ply"]  # no temporary left behind
    back = read_ply(path)
    assert np.allclose(back.xyz, cloud.xyz, atol=1e-5)
    assert np.array_equal(back.colors, cloud.colors)


def test_ply_needs_the_extension(tmp_path):
    cloud = PointCloud(np.zeros((1, 3), np.float32), np.zeros((1, 3), np.uint8), np.zeros(1, np.int8))
    with pytest.raises(ValueError, match=r"\.ply"):
        save_ply(cloud, tmp_path / "scene.txt")
