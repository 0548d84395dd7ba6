"""``python -m cinema_dag.cinemagraph animate PHOTO ...``: a cinemagraph of your own photo.

Example::

    python -m cinema_dag.cinemagraph animate photo.jpg --labelme photo.json --camera circle -o out.mp4

The moving region comes from a labelme file (polygons labelled ``motion``; line shapes named
``hint*`` are motion arrows, see :mod:`.labelme`) or a mask PNG (non-zero pixels move). Depth comes
from ``--depth`` (a disparity map as DPT writes it: ``.npy`` float or 8/16-bit ``.png``, larger =
nearer), else from the depth model of ``--profile``; when neither is at hand the command says so
and stops, unless a synthetic depth is asked for explicitly (``--synthetic-depth flat|ground``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser", "load_photo", "load_mask", "load_disparity", "synthetic_disparity"]

_MAX_PIXELS = 40_000_000


class CommandError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def load_photo(path: str | Path) -> np.ndarray:
    """An RGB ``uint8 (H, W, 3)`` picture (any format Pillow reads), refusing huge images."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no photo at {str(path)!r}")
    try:
        with Image.open(path) as image:
            if image.width * image.height > _MAX_PIXELS:
                raise CommandError(f"{path} has {image.width}x{image.height} pixels, over {_MAX_PIXELS}")
            return np.asarray(image.convert("RGB"))
    except (OSError, Image.DecompressionBombError) as err:
        raise CommandError(f"cannot read the photo {path}: {err}") from None


def load_mask(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """A mask PNG (non-zero = moves) as ``bool (H, W)``; it must have the photo's size."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no mask at {str(path)!r}")
    with Image.open(path) as image:
        mask = np.asarray(image.convert("L")) > 0
    if mask.shape != size:
        raise CommandError(f"the mask {path} is {mask.shape[1]}x{mask.shape[0]}, the photo {size[1]}x{size[0]}")
    return mask


def load_disparity(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """A disparity map (larger = nearer) from ``.npy`` or an 8/16-bit ``.png``, ``float32 (H, W)``."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no depth file at {str(path)!r}")
    if path.suffix.lower() == ".npy":
        disparity = np.load(path, allow_pickle=False)
    elif path.suffix.lower() == ".png":
        with Image.open(path) as image:
            disparity = np.asarray(image if image.mode in ("I;16", "I", "F", "L") else image.convert("L"))
    else:
        raise CommandError(f"--depth must be a .npy or .png disparity map; got {path.name!r}")
    disparity = np.asarray(disparity, np.float32)
    if disparity.ndim == 3:
        disparity = disparity[..., 0]
    if disparity.shape != size:
        raise CommandError(
            f"the depth map {path} is {disparity.shape[1]}x{disparity.shape[0]}, the photo {size[1]}x{size[0]}"
        )
    return disparity


def synthetic_disparity(kind: str, size: tuple[int, int]) -> np.ndarray:
    """``flat``: one plane facing the camera; ``ground``: a ground plane, far at the top, near at the bottom."""
    height, width = size
    if kind == "flat":
        return np.ones(size, np.float32)
    rows = np.linspace(1.0 / 8.0, 1.0, height, dtype=np.float32)  # disparity of a plane: linear in the row
    return np.repeat(rows[:, None], width, axis=1)


def _model_disparity(image: np.ndarray, profile: str, device: str) -> np.ndarray:
    from PIL import Image

    from cinema_dag.models import MissingWeightsError, load_component
    from cinema_dag.models.loaded import LoadedDepth
    from cinema_dag.vision.depth import estimate_depth

    try:
        model = load_component("depth", profile=profile, device=device)
    except MissingWeightsError as err:
        raise CommandError(
            f"no --depth file was given and the {profile!r} profile's depth model has no weights here:\n  {err}\n"
            "Pass --depth FILE (a disparity map), provide the weights as the message says, or ask for a "
            "synthetic depth explicitly: --synthetic-depth flat (one plane) or --synthetic-depth ground "
            "(a ground plane, far at the top)."
        ) from None
    assert isinstance(model, LoadedDepth)
    return estimate_depth(model, [Image.fromarray(image)])[0]


def build_parser() -> argparse.ArgumentParser:
    # The engine's defaults, read here (not copied): the command and the library cannot drift apart.
    from cinema_dag.defaults import DEFAULT_CRF, DEFAULT_CROSSFADE, DEFAULT_FPS, DEFAULT_KERNEL, DEFAULT_NUM_FRAMES
    from cinema_dag.models.profiles import DEFAULT_PROFILE

    from .camera import CAMERA_KINDS
    from .resample import KERNELS

    parser = argparse.ArgumentParser(
        prog="python -m cinema_dag.cinemagraph", description="Cinemagraph engine commands."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    animate = commands.add_parser("animate", help="animate your own photo", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    animate.add_argument("photo", help="the picture (JPEG, PNG, ...)")
    animate.add_argument("--labelme", help="labelme JSON: 'motion' polygons move, 'hint*' lines are arrows")
    animate.add_argument("--mask", help="mask PNG of what moves (non-zero pixels); overrides the labelme polygons")
    animate.add_argument("--depth", help="disparity map (.npy, or 8/16-bit .png; larger = nearer), as DPT writes it")
    animate.add_argument("--synthetic-depth", choices=("flat", "ground"),
                         help="use a synthetic depth instead of a depth model (when there is no --depth)")
    animate.add_argument("--profile", default=DEFAULT_PROFILE,
                         help="model profile whose depth model is used without --depth")
    animate.add_argument("--disaster", default="flood",
                         help="disaster or motion kind for the automatic motion when no hint arrows are drawn")
    animate.add_argument("--camera", default="circle", choices=CAMERA_KINDS)
    animate.add_argument("--frames", type=int, default=DEFAULT_NUM_FRAMES)
    animate.add_argument("--fps", type=float, default=float(DEFAULT_FPS))
    animate.add_argument("--seed", type=int, default=0)
    animate.add_argument("--kernel", default=DEFAULT_KERNEL, choices=KERNELS)
    animate.add_argument("--crossfade", type=float, default=DEFAULT_CROSSFADE)
    animate.add_argument("--crf", type=int, default=DEFAULT_CRF, help="H.264 quality (0 lossless ... 51)")
    animate.add_argument("--gif", help="also write a looping GIF here")
    animate.add_argument("--device", default="cpu")
    animate.add_argument("-o", "--output", required=True, help="the MP4 to write")
    return parser


def animate(args: argparse.Namespace) -> dict:
    """Run the ``animate`` command; returns a summary (also printed)."""
    from .animate import render_cinemagraph
    from .depth import disparity_to_depth
    from .encode import write_gif, write_mp4
    from .labelme import read_labelme
    from .ldi import build_ldi
    from .motion import motion_field

    started = time.perf_counter()
    if not str(args.output).lower().endswith(".mp4"):
        raise CommandError(f"-o/--output must end in .mp4; got {args.output!r}")
    image = load_photo(args.photo)
    size = image.shape[:2]
    arrows = None
    mask = None
    if args.labelme:
        try:
            annotation = read_labelme(args.labelme, size)
        except (ValueError, FileNotFoundError) as err:
            raise CommandError(str(err)) from None
        mask, arrows = annotation.mask, (annotation.arrows if len(annotation.arrows) else None)
    if args.mask:
        mask = load_mask(args.mask, size)
    if mask is None:
        raise CommandError("nothing would move: give --labelme (a 'motion' polygon) or --mask")
    if not mask.any():
        raise CommandError("the motion mask is empty: nothing would move")
    if args.depth:
        disparity, depth_source = load_disparity(args.depth, size), f"file {args.depth}"
    elif args.synthetic_depth:
        disparity, depth_source = synthetic_disparity(args.synthetic_depth, size), f"synthetic ({args.synthetic_depth})"
    else:
        disparity, depth_source = _model_disparity(image, args.profile, args.device), f"{args.profile} depth model"
    depth = disparity_to_depth(disparity)
    ldi = build_ldi(image, depth)
    try:
        flow = motion_field(args.disaster, mask, depth, arrows=arrows, seed=args.seed)
        result = render_cinemagraph(ldi, flow, num_frames=args.frames, camera=args.camera, device=args.device,
                                    seed=args.seed, kernel=args.kernel, crossfade=args.crossfade)
    except (ValueError, KeyError) as err:
        raise CommandError(str(err).strip("'\"")) from None
    write_mp4(result.frames, args.output, fps=args.fps, crf=args.crf)
    if args.gif:
        write_gif(result.frames, args.gif, fps=args.fps)
    summary = {
        "output": str(args.output),
        "frames": len(result.frames),
        "size": f"{image.shape[1]}x{image.shape[0]}",
        "moving_fraction": round(float(mask.mean()), 4),
        "arrows": 0 if arrows is None else len(arrows),
        "depth": depth_source,
        "camera": args.camera,
        "render_s": round(float(result.stats["render_s"]), 3),
        "total_s": round(time.perf_counter() - started, 3),
    }
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        animate(args)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
