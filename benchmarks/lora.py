"""LoRA training throughput and peak memory of the prompt generator's training step.

Runs the same step as :func:`cinema_dag.text.lora.train_lora` (``apply_lora`` + ``make_optimizer`` +
``train_step``) on random token batches, so the figures are the loop's, not the data pipeline's.

    # the tiny profile's LLM shape on CPU (seconds); state the threads you gave it
    OMP_NUM_THREADS=1 python benchmarks/lora.py --tiny
    # full-size Llama-2-7B architecture, random bf16 weights, LoRA r=8 on q/v, batch 4 x 512, on CUDA
    python benchmarks/lora.py --llama2-7b
    # the same with the reference settings (non-fused AdamW) first, for a side-by-side
    python benchmarks/lora.py --llama2-7b --compare

Figures printed: tokens/s over the timed steps (after warm-up steps) and peak memory (CUDA: peak
allocated by torch; CPU: peak resident set size of the process, reset before each run where Linux
allows it). The reference plain-peft run (H200, torch 2.11, bf16, batch 4 x 512) did 13.2k tokens/s
with a 24.1 GiB peak.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from cinema_dag.text.lora import apply_lora, make_optimizer, train_step

REFERENCE = {"device": "H200", "tokens_per_s": 13_200.0, "peak_gib": 24.1, "what": "plain peft, bf16, r=8 q/v, 4 x 512"}

#: Llama-2-7B (meta-llama/Llama-2-7b-hf config.json).
LLAMA2_7B = dict(
    vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
    num_key_value_heads=32, max_position_embeddings=4096, rms_norm_eps=1e-5,
)
#: The ``tiny`` profile's LLM shape (cinema_dag.models.tiny).
TINY = dict(
    vocab_size=512, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
    num_key_value_heads=2, max_position_embeddings=256,
)


@dataclass
class Variant:
    name: str
    fused_adam: bool
    attn: str
    grad_ckpt: bool
    compile: bool


def _rss_peak_reset() -> bool:
    # Writing 5 to clear_refs resets VmHWM (peak RSS) on Linux >= 4.0.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_peak_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def build_model(shape: dict[str, Any], device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """A random-weight Llama of ``shape``, created directly on ``device`` (no CPU copy of a 7B)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**shape, use_cache=False)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), torch.device(device):
        torch.manual_seed(0)
        model = LlamaForCausalLM._from_config(config, dtype=dtype)
    return model


def run_variant(
    model: torch.nn.Module, variant: Variant, *, batch_size: int, seq_len: int, steps: int, warmup: int, r: int
) -> dict[str, Any]:
    """Time ``steps`` LoRA steps after ``warmup`` untimed ones; the base model is restored after."""
    device = next(model.parameters()).device
    model.set_attn_implementation(variant.attn)
    peft_model = apply_lora(model, r=r, alpha=2 * r, dropout=0.05, gradient_checkpointing=variant.grad_ckpt)
    try:
        params = [p for p in peft_model.parameters() if p.requires_grad]
        if variant.fused_adam:
            optimizer = make_optimizer(params, 2e-4, device)
        else:
            optimizer = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)  # what plain recipes get
        step_model = torch.compile(peft_model) if variant.compile else peft_model
        gen = torch.Generator(device="cpu").manual_seed(0)
        vocab = model.config.vocab_size
        ids = torch.randint(3, vocab, (batch_size, seq_len), generator=gen).to(device)
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
        peft_model.train()

        for _ in range(warmup):
            train_step(step_model, optimizer, batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        else:
            rss_reset = _rss_peak_reset()
            rss_before = _current_rss_bytes()
        losses = []
        started = time.perf_counter()
        for _ in range(steps):
            losses.append(train_step(step_model, optimizer, batch))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - started
        losses = [float(x) for x in losses]
        if device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(device)
            peak_what = "CUDA max allocated"
        else:
            peak = _rss_peak_bytes()
            peak_what = f"process peak RSS (RSS before the timed steps {rss_before / 2**30:.2f} GiB)" + (
                "" if rss_reset else ", peak since start"
            )
        return {
            "variant": variant.name,
            "tokens_per_s": batch_size * seq_len * steps / seconds,
            "step_ms": 1000 * seconds / steps,
            "peak_gib": peak / 2**30,
            "peak_what": peak_what,
            "first_loss": losses[0],
            "last_loss": losses[-1],
            "trainable_params": sum(p.numel() for p in params),
        }
    finally:
        peft_model.unload()
        if variant.grad_ckpt:
            model.activation_checkpointing_disable()
            model.disable_input_require_grads()
        del peft_model
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--tiny", action="store_true", help="the tiny profile's LLM shape (default)")
    size.add_argument("--llama2-7b", action="store_true", help="full-size Llama-2-7B architecture, random bf16")
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    p.add_argument("--dtype", default=None, help="float32 / bfloat16 (default: bf16 on CUDA, fp32 on CPU)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=None, help="default 512 (7B) or 128 (tiny)")
    p.add_argument("--steps", type=int, default=None, help="timed steps; default 5 (7B) or 20 (tiny)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--layers", type=int, default=None, help="override the layer count (a quick smoke of the 7B width)")
    p.add_argument("-r", "--rank", type=int, default=8)
    p.add_argument("--attn", default="sdpa", choices=["sdpa", "eager", "flash_attention_2"])
    p.add_argument("--no-fused-adam", action="store_true", help="plain (foreach) AdamW instead of fused on CUDA")
    p.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing (less memory, slower)")
    p.add_argument("--compile", action="store_true", help="torch.compile the peft model")
    p.add_argument("--compare", action="store_true", help="also run the reference settings first")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    big = args.llama2_7b
    shape = dict(LLAMA2_7B if big else TINY)
    if args.layers is not None:
        shape["num_hidden_layers"] = args.layers
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    dtype = getattr(torch, args.dtype) if args.dtype else (torch.bfloat16 if device.type == "cuda" else torch.float32)
    seq_len = args.seq_len or (512 if big else 128)
    steps = args.steps or (5 if big else 20)
    if seq_len > shape["max_position_embeddings"]:
        raise SystemExit(f"--seq-len {seq_len} exceeds the model's {shape['max_position_embeddings']} positions")

    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    name = "Llama-2-7B architecture" if big else "tiny profile LLM"
    if args.layers is not None:
        name += f" cut to {args.layers} layers"
    print(f"model: {name} (random weights), {dtype}, on {device}")
    if device.type == "cuda":
        print(f"gpu: {torch.cuda.get_device_name(device)}")
    else:
        print(f"cpu: OMP_NUM_THREADS={threads}, torch threads={torch.get_num_threads()}")
    print(f"LoRA r={args.rank} on q_proj/v_proj, batch {args.batch_size} x {seq_len}, "
          f"{args.warmup} warm-up + {steps} timed steps; torch {torch.__version__}")

    from transformers import LlamaForCausalLM  # noqa: F401  (imported before the clock: time the build only)

    built = time.perf_counter()
    model = build_model(shape, device, dtype)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"built in {time.perf_counter() - built:.1f} s: {n_params / 1e6:.2f} M params")

    ours = Variant("ours", fused_adam=not args.no_fused_adam and device.type == "cuda", attn=args.attn,
                   grad_ckpt=args.grad_ckpt, compile=args.compile)
    variants = [Variant("reference", False, "sdpa", False, False)] if args.compare else []
    variants.append(ours)

    results = []
    for v in variants:
        res = run_variant(model, v, batch_size=args.batch_size, seq_len=seq_len, steps=steps,
                          warmup=args.warmup, r=args.rank)
        res["settings"] = (f"adamw={'fused' if v.fused_adam else 'foreach'} attn={v.attn} "
                           f"grad_ckpt={'on' if v.grad_ckpt else 'off'} compile={'on' if v.compile else 'off'}")
        results.append(res)

    print()
    print(f"{'run':<24} {'tokens/s':>10} {'step ms':>9} {'peak GiB':>9}  settings")
    for res in results:
        print(f"{res['variant']:<24} {res['tokens_per_s']:>10,.0f} {res['step_ms']:>9.1f} {res['peak_gib']:>9.2f}  "
              f"{res['settings']}; {res['peak_what']}; loss {res['first_loss']:.3f} -> {res['last_loss']:.3f}")
    if big and args.layers is None:
        print(f"{'reference (' + REFERENCE['device'] + ')':<24} {REFERENCE['tokens_per_s']:>10,.0f} {'':>9} "
              f"{REFERENCE['peak_gib']:>9.2f}  {REFERENCE['what']}")
    return results


if __name__ == "__main__":
    main()
