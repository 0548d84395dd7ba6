"""3D points from pixels and depth, and PLY files of them.

Convention (OpenCV pinhole, shared by the whole engine):
    pixel ``(row i, column j)`` has its centre at image coordinates ``(x=j, y=i)``; the principal
    point is the image centre ``((W-1)/2, (H-1)/2)``; the focal length is ``max(H, W)`` pixels (about
    53 degrees across a 16:9 frame, as 3d-cinemagraphy); camera axes are x right, y down, z forward,
    and the source camera is the world frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_path

__all__ = ["PointCloud", "default_focal", "principal_point", "unproject", "save_ply", "read_ply"]


def default_focal(height: int, width: int) -> float:
    """The engine's focal length in pixels: ``max(H, W)``."""
    return float(max(height, width))


def principal_point(height: int, width: int) -> tuple[float, float]:
    """The image centre ``(cx, cy)`` in pixel coordinates (pixel centres at integers)."""
    return (width - 1) / 2.0, (height - 1) / 2.0


def unproject(pixels: np.ndarray, depth: np.ndarray, size: tuple[int, int], focal: float | None = None) -> np.ndarray:
    """Camera-frame 3D points of pixels at given depths.

    Args:
        pixels: ``(P, 2)`` image coordinates ``(x, y)``.
        depth: ``(P,)`` z of each point, > 0.
        size: image ``(H, W)``.
        focal: focal length in pixels; default :func:`default_focal`.

    Returns:
        ``float32 (P, 3)`` points ``(X, Y, Z)`` with ``X = (x - cx) Z / f``.
    """
    pixels = np.asarray(pixels, np.float32)
    depth = np.asarray(depth, np.float32)
    if pixels.ndim != 2 or pixels.shape[1] != 2 or depth.shape != pixels.shape[:1]:
        raise ValueError(f"`pixels` must be (P, 2) and `depth` (P,); got {pixels.shape} and {depth.shape}")
    height, width = size
    f = default_focal(height, width) if focal is None else float(focal)
    cx, cy = principal_point(height, width)
    xyz = np.empty((len(depth), 3), np.float32)
    xyz[:, 0] = (pixels[:, 0] - cx) * depth / f
    xyz[:, 1] = (pixels[:, 1] - cy) * depth / f
    xyz[:, 2] = depth
    return xyz


@dataclass(frozen=True)
class PointCloud:
    """Coloured 3D points.

    Attributes:
        xyz: ``float32 (P, 3)`` camera-frame positions.
        colors: ``uint8 (P, 3)`` RGB.
        layer: ``int8 (P,)`` LDI layer of each point (0 = visible surface).
    """

    xyz: np.ndarray
    colors: np.ndarray
    layer: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.xyz)
        if self.xyz.shape != (n, 3) or self.colors.shape != (n, 3) or self.layer.shape != (n,):
            raise ValueError(
                f"PointCloud wants xyz (P, 3), colors (P, 3), layer (P,); got "
                f"{self.xyz.shape}, {self.colors.shape}, {self.layer.shape}"
            )
        if self.colors.dtype != np.uint8:
            raise ValueError(f"PointCloud colors must be uint8; got {self.colors.dtype}")

    def __len__(self) -> int:
        return len(self.xyz)


def save_ply(cloud: PointCloud, path: str | os.PathLike[str]) -> Path:
    """Write ``cloud`` as a binary PLY (positions and colours) with open3d, atomically.

    The file is written through :func:`cinema_dag.atomic.atomic_path` (temporary name beside it,
    fsync, rename), so a reader never sees half a file.

    Returns:
        the path written.
    """
    import open3d as o3d  # heavy (and needs libusb); only this function uses it

    path = Path(path)
    if path.suffix.lower() != ".ply":
        raise ValueError(f"`path` must end in .ply; got {str(path)!r}")
    pcd = o3d.geometry.PointCloud()
    pcd.points = o3d.utility.Vector3dVector(cloud.xyz.astype(np.float64))
    pcd.colors = o3d.utility.Vector3dVector(cloud.colors.astype(np.float64) / 255.0)
    # open3d picks the format from the extension, which the atomic writer's temp name keeps.
    with atomic_path(path) as tmp:
        if not o3d.io.write_point_cloud(str(tmp), pcd, write_ascii=False, compressed=False):
            raise OSError(f"open3d could not write the point cloud to {str(tmp)!r}")
    return path


def read_ply(path: str | os.PathLike[str]) -> PointCloud:
    """Read a PLY written by :func:`save_ply` (layers are not stored: all points get layer 0)."""
    import open3d as o3d

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no PLY file at {str(path)!r}")
    pcd = o3d.io.read_point_cloud(str(path))
    xyz = np.asarray(pcd.points, np.float32)
    colors = np.clip(np.rint(np.asarray(pcd.colors) * 255.0), 0, 255).astype(np.uint8)
    if len(colors) != len(xyz):
        colors = np.zeros((len(xyz), 3), np.uint8)
    return PointCloud(xyz=xyz, colors=colors, layer=np.zeros(len(xyz), np.int8))
