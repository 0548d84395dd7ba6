"""Benchmark of the evaluation metrics (per 100 images) and of the cinemagraph loop measures (per video).

Run:  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/evaluation.py
      .venv/bin/python benchmarks/evaluation.py --threads 2 --images 100 --video-size 512 --frames 60
      .venv/bin/python benchmarks/evaluation.py --only video          (just the loop measures)

What is timed (CPU unless ``--device cuda``), on real photos bundled with scikit-image:

* ``ssim``: one SSIM per (generated, reference) pair at the pair size (256²): 100 pairs;
* ``inception``: InceptionV3 features of 100 images of ``--image-size``² (resize to 299 included);
* ``fid`` / ``kid``: the distances between two 100 x 2048 feature sets;
* ``clip (tiny)``: the tiny random CLIP, 100 (image, prompt) pairs;
* ``clip (ViT-B/32 arch)``: the openai/clip-vit-base-patch32 architecture with random weights (no
  weights exist here; the time is the architecture's, the score would mean nothing);
  ``--clip-large`` adds ViT-L/14;
* ``lpips``: timed only where its backbone is available; otherwise the reason is printed.

Loop measures: one ``--frames``-frame ``--video-size``² loop per camera (``none``, ``circle``),
rendered (``CinemagraphRenderer.render``) and encoded as the ``cinemagraphs`` asset does (MP4 +
GIF + poster), then measured as the asset does: frame N rendered once more, for the moving camera
the still-camera pass that measures its flicker (``render_still_pass``: a few frames of the video's
own renderer with the camera still, as the asset renders by default; ``--still-pass-frames``
frames, 0 = none), then ``measure_loop`` and ``check_loop``. Target: the measures add at most 10 %
to render + encode; the overhead is printed with and without the pass.

Every figure is given twice: wall-clock seconds, and CPU seconds of this process and its children
(ffmpeg) -- on a shared machine the wall clock also counts other programs' turns on the cores,
while CPU time counts only this work (with one thread, CPU time is what an idle machine's wall
clock would show).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

# Threads must be fixed before torch (and its OpenMP runtime) is imported.
_THREADS = os.environ.get("OMP_NUM_THREADS") or "1"
if "--threads" in sys.argv:
    _THREADS = sys.argv[sys.argv.index("--threads") + 1]
os.environ["OMP_NUM_THREADS"] = _THREADS
if int(_THREADS) > 1:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cinema_dag.defaults import DEFAULT_STILL_PASS_FRAMES  # noqa: E402
from cinema_dag.evaluation import (  # noqa: E402
    DEFAULT_PAIR_SIZE,
    InceptionFeatures,
    MetricUnavailable,
    clip_scores,
    frechet_distance,
    kernel_distance,
    lpips_distance,
    mean_over_pairs,
    ssim,
)


def _photos(count: int, size: int) -> list[np.ndarray]:
    """``count`` distinct photo crops (scikit-image's bundled photos, shifted crops), ``size``²."""
    import skimage.data

    sources = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket(),
               skimage.data.immunohistochemistry(), skimage.data.hubble_deep_field()]
    out = []
    for i in range(count):
        src = sources[i % len(sources)]
        side = min(src.shape[:2]) * (90 - (i // len(sources)) % 20) // 100
        top = (src.shape[0] - side) * ((i * 7) % 11) // 10
        left = (src.shape[1] - side) * ((i * 3) % 11) // 10
        out.append(cv2.resize(src[top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA))
    return out


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished children (ffmpeg)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Clock:
    """Wall and CPU seconds since the last :meth:`lap`."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), _cpu()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), _cpu()
        out = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return out


def _timed(label: str, rows: list[tuple[str, float, float, str]], per: float, fn, note: str = ""):
    clock = Clock()
    value = fn()
    wall, cpu = clock.lap()
    rows.append((label, wall * per, cpu * per, note))
    return value


def _random_clip(config, device):
    """A CLIP of ``config``'s architecture with random weights, and a processor for it."""
    from transformers import CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    from cinema_dag.models.tiny import build_clip_tokenizer

    tokenizer = build_clip_tokenizer()
    config.text_config.vocab_size = len(tokenizer)
    model = CLIPModel(config).to(device).eval()
    size = config.vision_config.image_size
    processor = CLIPProcessor(image_processor=CLIPImageProcessorPil(
        size={"shortest_edge": size}, crop_size={"height": size, "width": size}), tokenizer=tokenizer)

    class Loaded:  # what clip_scores needs of a LoadedClip
        pass

    loaded = Loaded()
    loaded.model, loaded.processor, loaded.model_id = model, processor, "random"
    return loaded


def bench_metrics(args: argparse.Namespace) -> list[tuple[str, float, float, str]]:
    from transformers import CLIPConfig

    from cinema_dag.models import load_component

    n = args.images
    per = 100.0 / n
    rows: list[tuple[str, float, float, str]] = []
    generated, reference = _photos(n, args.image_size), _photos(2 * n, args.image_size)[n:]
    prompts = [f"a photo of a flood in Korea, flooded street, scene {i}" for i in range(n)]
    device = torch.device(args.device)

    ssim(generated[0], generated[0])  # warm-up (imports scikit-image), not timed
    _timed("ssim (100 pairs)", rows, 100.0 / n, lambda: mean_over_pairs(
        ssim, generated, reference, size=DEFAULT_PAIR_SIZE, max_pairs=n), f"{DEFAULT_PAIR_SIZE}² luma, skimage")
    if "inception" not in args.skip:
        extractor = InceptionFeatures(device=device)
        extractor([generated[0]])  # warm-up, not timed
        feats_a = _timed("inception features", rows, per, lambda: extractor(generated),
                         f"{args.image_size}² in, 299² net")
        feats_b = extractor(reference)
    else:
        rng = np.random.default_rng(0)
        feats_a, feats_b = rng.normal(size=(n, 2048)), rng.normal(size=(n, 2048)) + 0.1
    _timed("fid (100 vs 100)", rows, 1.0, lambda: frechet_distance(
        np.resize(feats_a, (100, 2048)), np.resize(feats_b, (100, 2048))), "2048-d features given")
    _timed("kid (100 vs 100)", rows, 1.0, lambda: kernel_distance(
        np.resize(feats_a, (100, 2048)), np.resize(feats_b, (100, 2048))), "2048-d features given")

    tiny = load_component("clip", cache_dir=args.cache_dir, device=device)
    clip_scores(tiny, generated[:2], prompts[:2])
    _timed("clip score (tiny)", rows, per, lambda: clip_scores(tiny, generated, prompts), "random weights")
    architectures = [] if "clip-arch" in args.skip else [("clip score (ViT-B/32 arch)", dict(image_size=224,
                                                                                           patch_size=32))]
    if args.clip_large:
        architectures.append(("clip score (ViT-L/14 arch)", dict(
            image_size=224, patch_size=14, hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
            num_attention_heads=16)))
    for label, vision in architectures:
        text = {} if "B/32" in label else dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12)
        clip = _random_clip(CLIPConfig(vision_config=vision, text_config=text,
                                       projection_dim=512 if "B/32" in label else 768), device)
        clip_scores(clip, generated[:2], prompts[:2])
        _timed(label, rows, per, lambda clip=clip: clip_scores(clip, generated, prompts),
               "random weights: time only")
    try:
        distance = lpips_distance(device=device)
        _timed("lpips (100 pairs)", rows, 100.0 / n, lambda: mean_over_pairs(
            distance, generated, reference, size=DEFAULT_PAIR_SIZE, max_pairs=n), "alex")
    except MetricUnavailable as err:
        rows.append(("lpips", float("nan"), float("nan"), f"not measured: {err}"))
    return rows


def _scene(size: int):
    """A real photo over a ground plane (far at the top), a near block, the lower third flowing."""
    import skimage.data

    from cinema_dag.cinemagraph import build_ldi, motion_field

    image = cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    yy = np.mgrid[0:size, 0:size][0].astype(np.float32)
    depth = (1.0 / (1 / 8 + (1 / 1.2 - 1 / 8) * yy / (size - 1))).astype(np.float32)
    depth[size // 5: size * 3 // 5, size // 4: size // 2] = 1.0
    mask = np.zeros((size, size), bool)
    mask[size * 2 // 3:, :] = True
    return image, build_ldi(image, depth), motion_field("flood", mask, depth)


def bench_video(args: argparse.Namespace) -> list[dict]:
    from cinema_dag.cinemagraph import CinemagraphRenderer, camera_path, write_gif, write_mp4, write_poster
    from cinema_dag.cinemagraph.quality import check_loop, measure_loop, render_still_pass

    image, ldi, flow = _scene(args.video_size)
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for camera in ("none", "circle"):
            path = camera_path(camera, args.frames)
            clock = Clock()
            renderer = CinemagraphRenderer(ldi, flow, num_frames=args.frames, camera=path, device=args.device)
            result = renderer.render()
            render = clock.lap()
            write_mp4(result.frames, os.path.join(folder, f"{camera}.mp4"), fps=25, crf=18)
            write_gif(result.frames, os.path.join(folder, f"{camera}.gif"), fps=25, max_side=480)
            write_poster(result.frames[0], os.path.join(folder, f"{camera}.png"))
            encode = clock.lap()
            frame_n = renderer.render_frame(args.frames)[0].cpu().numpy()
            extra_frame = clock.lap()
            still = (render_still_pass(renderer, args.still_pass_frames)
                     if not path.is_still and args.still_pass_frames else None)
            still_pass = clock.lap()
            quality = measure_loop(result.frames, frame_n, image, flow, result.stats, still_camera=path.is_still,
                                   still_frames=still)
            check_loop(quality)
            measures = clock.lap()
            base = (render[0] + encode[0], render[1] + encode[1])
            out.append({
                "camera": camera,
                **{f"{name}_{kind}_s": value[i] for name, value in
                   (("render", render), ("encode", encode), ("frame_n", extra_frame), ("still_pass", still_pass),
                    ("measures", measures))
                   for i, kind in enumerate(("wall", "cpu"))},
                "overhead_wall": (extra_frame[0] + still_pass[0] + measures[0]) / base[0],
                "overhead_cpu": (extra_frame[1] + still_pass[1] + measures[1]) / base[1],
                "overhead_without_still_pass_wall": (extra_frame[0] + measures[0]) / base[0],
                "overhead_without_still_pass_cpu": (extra_frame[1] + measures[1]) / base[1],
                "quality": quality.to_dict(),
            })
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=int(_THREADS), help="OMP/torch threads (set before import)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--images", type=int, default=100, help="images per metric run (figures scale to 100)")
    parser.add_argument("--image-size", type=int, default=512, help="side of the generated/reference images")
    parser.add_argument("--video-size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--still-pass-frames", type=int, default=DEFAULT_STILL_PASS_FRAMES,
                        help="frames of the moving camera's still-camera flicker pass (0 = no pass)")
    parser.add_argument("--only", choices=["metrics", "video"], default=None)
    parser.add_argument("--skip", nargs="*", default=[], choices=["inception", "clip-arch"],
                        help="parts not to time (the smoke test skips the slow ones)")
    parser.add_argument("--clip-large", action="store_true", help="also time the ViT-L/14 CLIP architecture")
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "cinema-dag-bench-models"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} torch threads={torch.get_num_threads()} "
          f"device={args.device} torch {torch.__version__} cores={os.cpu_count()} "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    results: dict = {}
    if args.only != "video":
        rows = bench_metrics(args)
        results["metrics"] = rows
        print(f"\nmetrics, seconds per 100 images ({args.images} timed, {args.image_size}² photos): wall / CPU")
        for label, wall, cpu, note in rows:
            shown = "      n/a        " if wall != wall else f"{wall:8.3f} / {cpu:8.3f}"
            print(f"  {label:28s} {shown}   {note}")
    if args.only != "metrics":
        videos = bench_video(args)
        results["video"] = videos
        print(f"\nloop measures, {args.frames}-frame {args.video_size}² video, seconds wall / CPU:")
        for v in videos:
            print(f"  camera {v['camera']:7s} render {v['render_wall_s']:6.2f} / {v['render_cpu_s']:6.2f}  "
                  f"encode {v['encode_wall_s']:6.2f} / {v['encode_cpu_s']:6.2f}  "
                  f"frame N {v['frame_n_wall_s']:5.3f} / {v['frame_n_cpu_s']:5.3f}  "
                  f"still pass {v['still_pass_wall_s']:5.3f} / {v['still_pass_cpu_s']:5.3f}  "
                  f"measures {v['measures_wall_s']:5.3f} / {v['measures_cpu_s']:5.3f}")
            print(f"    overhead {100 * v['overhead_wall']:4.1f} % / {100 * v['overhead_cpu']:4.1f} % (target <= 10 %);"
                  f" without the still pass {100 * v['overhead_without_still_pass_wall']:4.1f} % / "
                  f"{100 * v['overhead_without_still_pass_cpu']:4.1f} %")
            q = v["quality"]
            print(f"    seam {q['seam_error']}  wrap {q['wrap_step_ratio']:.3f}"
                  f"  unfilled after {q['unfilled_after_fill']}  flicker {q['flicker']} ({q['flicker_from']})"
                  f"  motion {q['motion_fraction']:.3f}  S min {q['sharpness_min']:.3f}"
                  f"  jump {q['sharpness_jump']:.3f}")
    return results


if __name__ == "__main__":
    main()
