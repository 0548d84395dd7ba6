"""Benchmark of the cinemagraph renderer (render alone, encode alone, memory, vs a bare scatter).

Run:  OMP_NUM_THREADS=2 .venv/bin/python benchmarks/render.py      (CPU, and CUDA when available)
      .venv/bin/python benchmarks/render.py --sizes 512x512 --cameras circle --threads 1 --modes after

Modes: ``after`` is this tree's renderer; ``before`` is the renderer of ``--before-ref`` (default
c14add8, the last commit with the forward-splatting renderer and bilinear sub-pixel colours),
extracted with ``git archive`` into a temporary folder and imported from there, so both are
measured in one run on the same machine.

Scenes are synthetic and deterministic: a fractal-noise picture (1/f amplitude spectrum, like
photos) over a ground plane (far at the top,
near at the bottom) with a foreground block at the nearest depth, and a "water" mask over the
lower third (~1/3 of the pixels) moving with the flood motion field. Two LDIs per size:

* ``ldi``: :func:`build_ldi` with its defaults (two layers; the back layer is a band behind the
  block's edges), i.e. what the pipeline renders;
* ``dense``: a full second layer under every pixel (2 x H x W points), the worst case and the
  setup of the research notes' measurements.

Each configuration runs in its own process, so its peak RSS is its own. Figures per run:

* render: ``CinemagraphRenderer`` set-up (Euler integration etc.) + all N frames, seconds;
* bare: the same number of z-buffer passes on precomputed keys -- per frame, two full point sets
  (every LDI point twice: forward and backward), each a buffer reset plus one
  ``scatter_reduce_(amin)``; ``render/bare`` is the ratio the target (<= 8x) is about.
  ``bare_done`` counts only the splats the renderer really performs (static points once per
  camera pose, moving points twice per frame), for reference;
* encode: MP4 (H.264) and GIF of the rendered frames, seconds;
* peak RSS (``resource``), and ``torch.cuda.max_memory_allocated`` on a GPU;
* quality of the moving region (:mod:`cinema_dag.cinemagraph.quality`): S(t) min, the largest
  |S(t) - S(t-1)| (wrap included) and the stutter ratio, over the motion mask (exact with a still
  camera; with a moving camera the region drifts by the parallax, so only indicative).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

# Threads must be fixed before torch (and its OpenMP runtime) is imported.
_THREADS = os.environ.get("OMP_NUM_THREADS") or "1"
if "--threads" in sys.argv:
    _THREADS = sys.argv[sys.argv.index("--threads") + 1]
os.environ["OMP_NUM_THREADS"] = _THREADS
# With active spinning, two OpenMP threads on a small VM can stall element-wise ops for a whole
# scheduler tick (8 ms measured here); passive waiting avoids that. An explicit setting wins.
if int(_THREADS) > 1:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# This tree's textures for both modes (numpy only, loaded by path so that "before" gets the same scenes).
_textures_spec = importlib.util.spec_from_file_location(
    "_render_bench_textures",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cinema_dag", "cinemagraph", "textures.py"))
_textures = importlib.util.module_from_spec(_textures_spec)
_textures_spec.loader.exec_module(_textures)
fractal_noise = _textures.fractal_noise
if os.environ.get("RENDER_BENCH_CODE"):  # the "before" mode: the renderer of an older commit
    sys.path.insert(0, os.environ["RENDER_BENCH_CODE"])

from cinema_dag.cinemagraph import (  # noqa: E402
    CinemagraphRenderer,
    LayeredDepthImage,
    build_ldi,
    motion_field,
    write_gif,
    write_mp4,
)


def make_scene(height: int, width: int, dense: bool) -> tuple[LayeredDepthImage, np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic test scene: fractal-noise ground plane, a near block, a lower-third water mask."""
    yy, _ = np.mgrid[0:height, 0:width].astype(np.float32)
    image = fractal_noise(height, width)
    # Ground plane: disparity linear in the row (far 1/8 at the top, 1/1.2 at the bottom).
    disparity = 1 / 8 + (1 / 1.2 - 1 / 8) * yy / (height - 1)
    depth = (1.0 / disparity).astype(np.float32)
    block = (slice(height // 5, height * 3 // 5), slice(width // 4, width // 2))
    depth[block] = 1.0
    mask = np.zeros((height, width), bool)
    mask[height * 2 // 3 :, :] = True
    if dense:
        colors = np.stack([image, image[:, ::-1]])
        depths = np.stack([depth, depth * 1.5])
        alphas = np.ones((2, height, width), bool)
        ldi = LayeredDepthImage(
            colors=colors, depths=depths, alphas=alphas, labels=np.zeros((height, width), np.int8),
            focal=max(height, width),
        )
    else:
        ldi = build_ldi(image, depth)
    flow = motion_field("flood", mask, depth)
    return ldi, flow, image, mask


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def run_one(
    height: int,
    width: int,
    camera: str,
    kind: str,
    device: str,
    frames: int,
    encode: bool,
    repeats: int,
    mode: str = "after",
) -> dict:
    """One configuration, in this process: a cold run, then ``repeats`` warm runs (median kept)."""
    from cinema_dag.cinemagraph.quality import sharpness_jump, sharpness_series, stutter_ratio

    ldi, flow, image, mask = make_scene(height, width, kind == "dense")
    rss_before = peak_rss_mib()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def render_once() -> tuple[float, float, CinemagraphRenderer, object]:
        sync(device)
        t0 = time.perf_counter()
        renderer = CinemagraphRenderer(ldi, flow, num_frames=frames, camera=camera, device=device)
        sync(device)
        t1 = time.perf_counter()
        result = renderer.render()
        sync(device)
        return t1 - t0, time.perf_counter() - t0, renderer, result

    _, cold_s, _, _ = render_once()  # first run in the process: page faults, lazy initialisation
    times = []
    for _ in range(repeats):
        renderer = result = None  # free the previous run's frames before the next run
        prepare_s, render_s, renderer, result = render_once()
        times.append((render_s, prepare_s))
    render_s, prepare_s = sorted(times)[len(times) // 2]
    gpu_peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None

    # Bare z-buffer passes over the same points, with their keys and pixels precomputed (those of
    # the last frame rendered).
    n_moving = renderer.n_moving
    if mode == "before":
        pix = torch.cat([renderer._pix_static, renderer._pix_moving[:n_moving]])
        keys = torch.cat([renderer._keys_static, renderer._keys_moving[:n_moving]])
    else:  # every point is splatted once per pose
        pix, keys = renderer._pix, renderer._keys
    buffer = torch.empty(2 * renderer.grid.numel, dtype=torch.int64, device=device)
    empty = renderer.empty

    def bare(points_pix: torch.Tensor, points_keys: torch.Tensor, passes: int, halves: int = 1) -> float:
        target = buffer[: halves * renderer.grid.numel]
        best = float("inf")
        for _ in range(3):
            sync(device)
            start = time.perf_counter()
            for _ in range(passes):
                target.fill_(empty)
                target.scatter_reduce_(0, points_pix, points_keys, reduce="amin")
            sync(device)
            best = min(best, time.perf_counter() - start)
        return best

    bare_s = bare(pix, keys, 2 * frames)
    # The splats the renderer really does: static points once per camera pose, moving points twice
    # per frame.
    poses = 1 if renderer.path.is_still else len({tuple(c) for c in renderer.path.centres(np.arange(frames))})
    if mode == "before":
        bare_done_s = bare(renderer._pix_static, renderer._keys_static, poses) if renderer.n_static else 0.0
        if n_moving:
            bare_done_s += bare(renderer._pix_moving, renderer._keys_moving, frames, halves=2)  # both copies
    else:
        bare_done_s = bare(pix, keys, poses)
    series = sharpness_series(result.frames, image, mask)
    out = {
        "size": f"{width}x{height}",
        "camera": camera,
        "ldi": kind,
        "mode": mode,
        "s_min": float(series.min()),
        "s_jump": float(sharpness_jump(series)),
        "stutter": float(stutter_ratio(result.frames, mask)),
        "device": device,
        "points": int(renderer.n_static + n_moving),
        "moving": int(n_moving),
        "prepare_s": prepare_s,
        "frames_s": render_s - prepare_s,
        "render_s": render_s,
        "cold_s": cold_s,
        "bare_s": bare_s,
        "bare_done_s": bare_done_s,
        "ratio": render_s / bare_s,
        "ratio_done": render_s / bare_done_s,
        "mpts_per_s": 2 * frames * (renderer.n_static + n_moving) / render_s / 1e6,
        "bare_mpts_per_s": 2 * frames * len(pix) / bare_s / 1e6,
        "holes_max": result.stats["hole_fraction_max"],
        "zoom": result.stats["zoom"],
        "rss_before_mib": rss_before,
        "rss_peak_mib": peak_rss_mib(),
        "gpu_peak_mib": gpu_peak,
    }
    if encode:
        with tempfile.TemporaryDirectory() as tmp:
            t3 = time.perf_counter()
            write_mp4(result.frames, os.path.join(tmp, "a.mp4"))
            t4 = time.perf_counter()
            write_gif(result.frames, os.path.join(tmp, "a.gif"))
            t5 = time.perf_counter()
            out.update(mp4_s=t4 - t3, gif_s=t5 - t4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="512x512,1280x720", help="WxH list")
    parser.add_argument("--cameras", default="none,circle")
    parser.add_argument("--ldis", default="ldi,dense")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--threads", default=_THREADS, help="OMP_NUM_THREADS (default: the environment's, else 1)")
    parser.add_argument("--devices", default="cpu,cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--no-encode", action="store_true")
    parser.add_argument(
        "--modes", default="before,after", help="before (the --before-ref renderer) and/or after (this tree)"
    )
    parser.add_argument("--before-ref", default="c14add8", help="git commit whose renderer is 'before'")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per configuration (median kept)")
    parser.add_argument("--one", nargs=6, metavar=("H", "W", "CAMERA", "LDI", "DEVICE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        h, w, camera, kind, device, mode = args.one
        result = run_one(int(h), int(w), camera, kind, device, args.frames, not args.no_encode, args.repeats, mode)
        print(json.dumps(result))
        return

    print(
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')} "
        f"torch.get_num_threads()={torch.get_num_threads()} torch={torch.__version__} "
        f"cpu_count={os.cpu_count()} cuda={torch.cuda.is_available()}"
    )
    header = (
        f"{'device':6} {'size':>9} {'camera':7} {'ldi':6} {'mode':6} {'points':>9} {'moving':>8} {'prep s':>7} "
        f"{'render s':>8} {'cold s':>7} {'bare s':>7} {'ratio':>6} {'ratio*':>6} {'S min':>6} {'S jump':>6} "
        f"{'stutter':>7} {'mp4 s':>6} {'RSS MiB':>8} {'GPU MiB':>8} {'holes':>7}"
    )
    snapshot = None
    if "before" in args.modes.split(","):
        snapshot = tempfile.mkdtemp(prefix="render_before_")
        repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        archive = subprocess.run(
            ["git", "-C", repo, "archive", args.before_ref, "cinema_dag"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", snapshot], input=archive.stdout, check=True)
        print(f"before = cinema_dag of {args.before_ref} (extracted to {snapshot}); after = this tree")
    print(header, flush=True)
    for device in args.devices.split(","):
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            for kind in args.ldis.split(","):
                for camera, mode in [(c, m) for c in args.cameras.split(",") for m in args.modes.split(",")]:
                    if mode not in ("before", "after"):
                        raise SystemExit(f"--modes: expected before and/or after, got {mode!r}")
                    cmd = [
                        sys.executable,
                        os.path.abspath(__file__),
                        "--threads",
                        args.threads,
                        "--frames",
                        str(args.frames),
                    ]
                    cmd += ["--repeats", str(args.repeats)]
                    cmd += ["--one", str(h), str(w), camera, kind, device, mode] + (
                        ["--no-encode"] if args.no_encode else []
                    )
                    env = os.environ.copy()
                    if mode == "before":
                        env["RENDER_BENCH_CODE"] = snapshot
                    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                    if proc.returncode:
                        print(f"{device} {size} {camera} {kind} mode={mode}: failed\n{proc.stderr[-2000:]}")
                        continue
                    r = json.loads(proc.stdout.strip().splitlines()[-1])
                    gpu = f"{r['gpu_peak_mib']:.0f}" if r["gpu_peak_mib"] is not None else "-"
                    mp4 = f"{r['mp4_s']:.2f}" if "mp4_s" in r else "-"
                    print(
                        f"{device:6} {r['size']:>9} {camera:7} {kind:6} {mode:6} {r['points']:>9} {r['moving']:>8} "
                        f"{r['prepare_s']:7.3f} {r['render_s']:8.3f} {r['cold_s']:7.3f} "
                        f"{r['bare_s']:7.3f} {r['ratio']:6.1f} {r['ratio_done']:6.1f} "
                        f"{r['s_min']:6.3f} {r['s_jump']:6.3f} "
                        f"{r['stutter']:7.2f} {mp4:>6} {r['rss_peak_mib']:8.0f} {gpu:>8} {r['holes_max']:7.4f}",
                        flush=True,
                    )
    print(
        "render = set-up (integration) + all frames, median of the warm runs; cold = the first run in a fresh "
        "process (page faults); bare = 2 full point sets per frame, reset + scatter_reduce on precomputed keys "
        "(best of 3); ratio = render / bare; ratio* = render / bare splats actually done; Mpts/s = 2 x points x "
        "frames / render s; S min / S jump / stutter: the moving region's sharpness S(t) relative to the "
        "picture, its largest frame-to-frame change (wrap included) and the largest step over the median step "
        "(moving camera: indicative only); RSS = peak of the whole process (imports, scene, all runs)."
    )


if __name__ == "__main__":
    main()
