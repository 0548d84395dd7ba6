"""The 3D cinemagraph engine: one picture + depth + motion mask -> a seamless looping video.

Stages (each a small module, no Dagster):

* :mod:`.depth` -- DPT disparity to depth (nearest = 1, far clipped, NaN/constant handled).
* :mod:`.ldi` -- layered depth image: layers cut at depth discontinuities, hidden colour and depth
  inpainted behind front edges (pluggable inpainter), pixels lifted to 3D.
* :mod:`.pointcloud` -- pinhole unprojection and PLY files (open3d).
* :mod:`.motion` -- Eulerian velocity field from the disaster's motion kind or user arrows.
* :mod:`.euler` -- O(N) Euler integration, bilinear sampling.
* :mod:`.camera` -- closed camera paths (circle, up_down, swing, zoom, shake).
* :mod:`.splat` -- packed-key z-buffer splatting, crack and hole filling.
* :mod:`.resample` -- sharp sub-pixel resampling (texture-designed filters, supersampled lookups).
* :mod:`.loopblend` -- per-pixel staggered cross-fade of the loop's two copies.
* :mod:`.animate` -- 3D symmetric animation: :func:`render_cinemagraph`.
* :mod:`.encode` -- MP4 (H.264 yuv420p), looping GIF, poster PNG, atomic writes.
* :mod:`.metrics` -- :func:`loop_seam_ratio`.
* :mod:`.pipeline` -- :func:`make_cinemagraph`, all of the above in one call.
* :mod:`.labelme` -- labelme masks and hint arrows; :mod:`.cli` -- ``python -m cinema_dag.cinemagraph animate``.
"""

from .animate import (
    DEFAULT_FPS,
    DEFAULT_NUM_FRAMES,
    CinemagraphRenderer,
    RenderResult,
    layer_flows,
    render_cinemagraph,
)
from .loopblend import DEFAULT_CROSSFADE
from .resample import DEFAULT_KERNEL, KERNELS
from .camera import CAMERA_KINDS, DEFAULT_AMPLITUDES, CameraPath, camera_path, default_camera_kind, overscan_zoom
from .depth import DEFAULT_MAX_DEPTH, disparity_to_depth, fill_non_finite
from .encode import even_size, pad_to_even, read_mp4, write_gif, write_mp4, write_poster
from .euler import EulerIntegrator, integrate_flow, integrate_loop
from .ldi import (
    DEFAULT_EDGE_THRESHOLD,
    DEFAULT_NUM_LAYERS,
    Inpainter,
    LayeredDepthImage,
    TeleaInpainter,
    build_ldi,
    default_margin,
    layer_labels,
)
from .metrics import frame_steps, loop_seam_ratio
from .motion import (
    MOTION_KINDS,
    MOTION_STYLES,
    arrows_to_hints,
    auto_hints,
    default_feather,
    densify_hints,
    motion_field,
)
from .labelme import LabelmeAnnotation, parse_labelme, read_labelme
from .pipeline import CinemagraphResult, make_cinemagraph
from .pointcloud import PointCloud, read_ply, save_ply, unproject
from .splat import fill_cracks, fill_holes, fill_holes_tiled, pack_keys, splat_points, unpack_keys

__all__ = [
    # depth
    "DEFAULT_MAX_DEPTH",
    "disparity_to_depth",
    "fill_non_finite",
    # ldi
    "DEFAULT_NUM_LAYERS",
    "DEFAULT_EDGE_THRESHOLD",
    "Inpainter",
    "TeleaInpainter",
    "LayeredDepthImage",
    "build_ldi",
    "default_margin",
    "layer_labels",
    # points
    "PointCloud",
    "unproject",
    "save_ply",
    "read_ply",
    # motion
    "MOTION_KINDS",
    "MOTION_STYLES",
    "motion_field",
    "auto_hints",
    "arrows_to_hints",
    "densify_hints",
    "default_feather",
    # euler
    "EulerIntegrator",
    "integrate_flow",
    "integrate_loop",
    # camera
    "CAMERA_KINDS",
    "DEFAULT_AMPLITUDES",
    "CameraPath",
    "camera_path",
    "default_camera_kind",
    "overscan_zoom",
    # splat
    "pack_keys",
    "unpack_keys",
    "splat_points",
    "fill_cracks",
    "fill_holes",
    "fill_holes_tiled",
    # animate
    "DEFAULT_NUM_FRAMES",
    "DEFAULT_FPS",
    "DEFAULT_KERNEL",
    "DEFAULT_CROSSFADE",
    "KERNELS",
    "RenderResult",
    "CinemagraphRenderer",
    "render_cinemagraph",
    "layer_flows",
    # encode
    "write_mp4",
    "read_mp4",
    "write_gif",
    "write_poster",
    "even_size",
    "pad_to_even",
    # metrics
    "loop_seam_ratio",
    "frame_steps",
    # labelme
    "LabelmeAnnotation",
    "parse_labelme",
    "read_labelme",
    # pipeline
    "CinemagraphResult",
    "make_cinemagraph",
]
