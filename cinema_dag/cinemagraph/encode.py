"""Video files: MP4 (H.264, yuv420p), looping GIF, poster PNG -- every write atomic.

Each writer encodes to a temporary file beside the destination through the project's one atomic
writer (:func:`cinema_dag.atomic.atomic_path`: the temp name keeps the extension, which ffmpeg and
Pillow use to pick the format; fsync, then rename), so a reader never sees a half-written video.

Odd sizes: H.264 with yuv420p subsamples chroma 2x2 and needs even width and height. Frames of
odd size are *padded* by one replicated edge row and/or column (nothing is cropped away); the
MP4 is then ``(H + H % 2) x (W + W % 2)``. The GIF and PNG keep the exact size.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cinema_dag.defaults import DEFAULT_CRF, DEFAULT_FPS

from ..atomic import atomic_path

__all__ = ["DEFAULT_CRF", "even_size", "pad_to_even", "write_mp4", "read_mp4", "write_gif", "write_poster"]


X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def _check_frames(frames: np.ndarray) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        shape = getattr(frames, "shape", type(frames).__name__)
        raise ValueError(f"`frames` must be a uint8 array of shape (N, H, W, 3); got {shape}")
    if len(frames) == 0:
        raise ValueError("`frames` is empty")
    return frames


def _check_fps(fps: float) -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240:
        raise ValueError(f"`fps` must be a number in (0, 240]; got {fps!r}")
    return float(fps)


def even_size(height: int, width: int) -> tuple[int, int]:
    """The size an MP4 of ``height x width`` frames gets: each odd side grows by one."""
    return height + height % 2, width + width % 2


def pad_to_even(frames: np.ndarray) -> np.ndarray:
    """``(N, H, W, 3)`` frames padded to even H and W by replicating the last row/column."""
    _, height, width, _ = frames.shape
    if height % 2 == 0 and width % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def write_mp4(
    frames: np.ndarray, path: str | os.PathLike[str], *, fps: float = DEFAULT_FPS, crf: int = DEFAULT_CRF,
    preset: str = "medium",
) -> Path:
    """Encode ``frames`` as H.264 (yuv420p, plays everywhere) with imageio-ffmpeg.

    Args:
        frames: ``uint8 (N, H, W, 3)`` RGB.
        path: destination ``.mp4``.
        fps: frames per second (default :data:`~cinema_dag.defaults.DEFAULT_FPS`, as 3d-cinemagraphy).
        crf: x264 quality, 0 (lossless) .. 51.
        preset: x264 speed/size trade-off (``ultrafast`` … ``veryslow``); ``veryfast`` encodes
            several times faster than ``medium`` for a somewhat larger file (alert videos).

    Returns:
        the path written.
    """
    import imageio_ffmpeg  # spawns ffmpeg; only needed here

    frames = pad_to_even(_check_frames(frames))
    fps = _check_fps(fps)
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise ValueError(f"`crf` must be an integer in [0, 51]; got {crf!r}")
    if preset not in X264_PRESETS:
        raise ValueError(f"`preset` must be one of {', '.join(X264_PRESETS)}; got {preset!r}")
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"`path` must end in .mp4; got {str(path)!r}")
    _, height, width, _ = frames.shape
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (width, height),
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            fps=fps,
            codec="libx264",
            quality=None,  # use -crf below instead of imageio's bitrate-style quality scale
            macro_block_size=1,  # sizes are already even; never let imageio resize
            output_params=["-crf", str(crf), "-preset", preset, "-movflags", "+faststart"],
        )
        writer.send(None)  # start ffmpeg
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
    return path


def read_mp4(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a video to ``uint8 (N, H, W, 3)`` RGB frames (for checks and previews)."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no video at {str(path)!r}")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(chunk, np.uint8).reshape(height, width, 3) for chunk in reader]
    return np.stack(frames) if frames else np.zeros((0, height, width, 3), np.uint8)


def _global_palette(frames: np.ndarray, colours: int = 256) -> np.ndarray:
    """One ``uint8 (colours, 3)`` palette for the whole loop (median cut on a frame sample).

    One palette for all frames keeps static regions from flickering between per-frame palettes,
    and mapping through a lookup table is far faster than Pillow quantising every frame.
    """
    from PIL import Image

    picks = frames[np.linspace(0, len(frames) - 1, min(len(frames), 8)).round().astype(int)]
    stride = max(1, int(np.sqrt(picks[0].shape[0] * picks[0].shape[1] / 65536)))
    sample = np.ascontiguousarray(picks[:, ::stride, ::stride].reshape(-1, 1, 3))
    quantised = Image.fromarray(sample).quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    palette = np.asarray(quantised.getpalette()[: 3 * colours], np.uint8).reshape(-1, 3)
    return palette


def _palette_lut(palette: np.ndarray) -> np.ndarray:
    """Nearest palette index for every 5-bit-per-channel RGB cell (32768 entries)."""
    levels = (np.arange(32, dtype=np.float32) * 8 + 4)[:, None]
    r, g, b = np.meshgrid(levels[:, 0], levels[:, 0], levels[:, 0], indexing="ij")
    cells = np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1)  # 32768 x 3
    pal = palette.astype(np.float32)
    # |c - p|^2 = |c|^2 - 2 c.p + |p|^2; |c|^2 does not change the argmin.
    dist = (pal**2).sum(1)[None, :] - 2.0 * cells @ pal.T
    return dist.argmin(1).astype(np.uint8)


def write_gif(
    frames: np.ndarray, path: str | os.PathLike[str], *, fps: float = DEFAULT_FPS, max_side: int | None = None
) -> Path:
    """A GIF that loops forever (``loop=0``) with one 256-colour palette for the whole loop.

    Args:
        frames: ``uint8 (N, H, W, 3)`` RGB.
        path: destination ``.gif``.
        fps: frames per second (GIF stores delays in 10 ms steps: 25 fps is exact).
        max_side: downscale so the longer side is at most this (previews); default: full size.

    Returns:
        the path written.
    """
    from PIL import Image

    frames = _check_frames(frames)
    fps = _check_fps(fps)
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"`path` must end in .gif; got {str(path)!r}")
    if max_side is not None:
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 1:
            raise ValueError(f"`max_side` must be a positive integer; got {max_side!r}")
        height, width = frames.shape[1:3]
        scale = max_side / max(height, width)
        if scale < 1:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            frames = np.stack([np.asarray(Image.fromarray(f).resize(size, Image.Resampling.LANCZOS)) for f in frames])
    palette = _global_palette(frames)
    lut = _palette_lut(palette)
    flat_palette = palette.ravel().tolist() + [0] * (768 - palette.size)
    images = []
    for frame in frames:
        cell = (frame[..., 0] >> 3).astype(np.uint16) << 10
        cell |= (frame[..., 1] >> 3).astype(np.uint16) << 5
        cell |= frame[..., 2] >> 3
        image = Image.fromarray(lut[cell], mode="P")
        image.putpalette(flat_palette)
        images.append(image)
    with atomic_path(path) as tmp:
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(1000.0 / fps),
            loop=0,
            disposal=1,
            optimize=False,
        )
    return path


def write_poster(frame: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write one ``uint8 (H, W, 3)`` frame as a PNG, atomically."""
    from PIL import Image

    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"`frame` must be a uint8 array of shape (H, W, 3); got {getattr(frame, 'shape', frame)!r}")
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"`path` must end in .png; got {str(path)!r}")
    with atomic_path(path) as tmp:
        Image.fromarray(frame).save(tmp, format="PNG")
    return path
