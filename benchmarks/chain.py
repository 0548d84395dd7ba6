"""Time each stage of the generation chain for one partition, and optionally the full-size SD 1.5 UNet.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/chain.py                       # tiny profile, CPU
    python benchmarks/chain.py --profile fast --device cuda            # real weights (must be cached)
    python benchmarks/chain.py --sd15-unet --unet-steps 2              # SD 1.5 UNet, random weights

Prints seconds per stage (load, prompts, images, masks, depth, captions), peak RSS of the process
and, on CUDA, the peak allocated GPU memory. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The UNet of stable-diffusion-v1-5 (its ``unet/config.json``), built with random weights.
SD15_UNET_CONFIG = dict(
    sample_size=64,
    in_channels=4,
    out_channels=4,
    layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768,
    attention_head_dim=8,
    norm_num_groups=32,
    act_fn="silu",
    center_input_sample=False,
    downsample_padding=1,
    flip_sin_to_cos=True,
    freq_shift=0,
    mid_block_scale_factor=1,
    norm_eps=1e-5,
)


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cuda_peak_mib() -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


@contextmanager
def timed(name: str, rows: list[tuple[str, float]]) -> Iterator[None]:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    yield
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    rows.append((name, time.perf_counter() - start))


def run_chain(args: argparse.Namespace) -> None:
    from cinema_dag.disasters import get_disaster
    from cinema_dag.models import COMPONENTS, get_spec, load_component
    from cinema_dag.text.prompts import generate_prompts
    from cinema_dag.vision.caption import caption_images
    from cinema_dag.vision.depth import estimate_depth
    from cinema_dag.vision.generate import generate_images
    from cinema_dag.vision.segment import segment_motion

    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="cinema-dag-bench-")
    disaster = get_disaster(args.disaster)
    rows: list[tuple[str, float]] = []

    if args.profile == "tiny":
        # Build the tiny models first so "load" measures loading, as with real weights.
        with timed("build tiny (first use only)", rows):
            for component in COMPONENTS:
                load_component(component, profile="tiny", cache_dir=cache_dir)
    loaded = {}
    for component in COMPONENTS:
        with timed(f"load {component}", rows):
            loaded[component] = load_component(component, profile=args.profile, cache_dir=cache_dir, device=args.device)

    sd = dict(get_spec("text_to_image", args.profile).defaults)
    with timed("prompts", rows):
        prompts = generate_prompts(loaded["llm"], disaster.key, num_prompts=args.num_images, seed=args.seed)
    with timed("images", rows):
        images = generate_images(
            loaded["text_to_image"],
            [p.prompt for p in prompts],
            [p.negative_prompt for p in prompts],
            height=sd["height"],
            width=sd["width"],
            num_inference_steps=sd["num_inference_steps"],
            guidance_scale=sd["guidance_scale"],
            scheduler=sd.get("scheduler"),
            seed=args.seed,
        )
    with timed("masks", rows):
        masks = segment_motion(loaded["grounding"], loaded["segmenter"], images, disaster.motion_prompts)
    with timed("depth", rows):
        depths = estimate_depth(loaded["depth"], images)
    with timed("captions", rows):
        captions = caption_images(loaded["captioner"], images)

    print(f"profile={args.profile} device={args.device} disaster={disaster.key} images={len(images)} "
          f"size={images[0].size} OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}")
    for name, seconds in rows:
        print(f"  {name:<28s} {seconds:8.3f} s")
    stages = {"prompts", "images", "masks", "depth"}
    print(f"  {'chain (prompts..depth)':<28s} {sum(s for n, s in rows if n in stages):8.3f} s")
    print(f"  masks empty: {sum(m.empty for m in masks)}/{len(masks)}; depth shapes {[d.shape for d in depths][:2]}")
    print(f"  first prompt: {prompts[0].prompt[:100]!r}")
    print(f"  first caption: {captions[0][:60]!r}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB" + (f", CUDA peak {cuda_peak_mib():.0f} MiB" if cuda_peak_mib() else ""))


def run_sd15_unet(args: argparse.Namespace) -> None:
    """One denoising step of the SD 1.5 UNet at 512x512: latent (2, 4, 64, 64) (CFG batch 2)."""
    import torch
    from diffusers import UNet2DConditionModel

    from cinema_dag.models import resolve_device

    device = resolve_device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        unet = UNet2DConditionModel(**SD15_UNET_CONFIG)
    unet = unet.to(device=device).eval()
    if dtype != torch.float32:
        unet = unet.to(dtype=dtype)
    if args.channels_last:
        unet = unet.to(memory_format=torch.channels_last)
    build_s = time.perf_counter() - start
    n_params = sum(p.numel() for p in unet.parameters())
    sample = torch.randn(2, 4, 64, 64, device=device, dtype=dtype)
    text = torch.randn(2, 77, 768, device=device, dtype=dtype)
    times = []
    with torch.inference_mode():
        for step in range(args.unet_warmup + args.unet_steps):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = unet(sample, torch.tensor(999 - step, device=device), encoder_hidden_states=text).sample
            if device.type == "cuda":
                torch.cuda.synchronize()
            if step >= args.unet_warmup:
                times.append(time.perf_counter() - t0)
    assert out.shape == sample.shape
    print(f"SD 1.5 UNet ({n_params / 1e6:.0f} M params) {dtype} on {device}, 512x512 (latent 64x64), CFG batch 2, "
          f"channels_last={args.channels_last}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, "
          f"torch threads={torch.get_num_threads()}")
    print(f"  build {build_s:.1f} s; per step: mean {sum(times) / len(times):.3f} s, min {min(times):.3f} s "
          f"over {len(times)} steps (after {args.unet_warmup} warm-up)")
    print(f"peak RSS {peak_rss_mib():.0f} MiB" + (f", CUDA peak {cuda_peak_mib():.0f} MiB" if cuda_peak_mib() else ""))


def main(argv: list[str] | None = None) -> None:
    from cinema_dag.models import DEFAULT_PROFILE, PROFILES  # cheap: no torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=list(PROFILES))
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument("--disaster", default="flood")
    parser.add_argument("--num-images", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None, help="tiny model cache (default: a new temp folder)")
    parser.add_argument("--sd15-unet", action="store_true", help="time the full-size SD 1.5 UNet instead")
    parser.add_argument("--unet-steps", type=int, default=None, help="timed UNet steps (default 2 CPU, 20 CUDA)")
    parser.add_argument("--unet-warmup", type=int, default=None, help="untimed steps first (default 0 CPU, 3 CUDA)")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args(argv)
    if args.sd15_unet:
        import torch

        on_cuda = args.device in ("cuda", "auto") and torch.cuda.is_available()
        args.device = "cuda" if on_cuda else "cpu"
        args.unet_steps = args.unet_steps or (20 if on_cuda else 2)
        args.unet_warmup = args.unet_warmup if args.unet_warmup is not None else (3 if on_cuda else 0)
        run_sd15_unet(args)
    else:
        run_chain(args)


if __name__ == "__main__":
    main()
