"""LoRA fine-tuning of the prompt generator ("metadata generator") on the prompt corpus.

The paper fine-tunes LLaMA-2 with LoRA on BLIP metadata (Won et al., JBE 29(5), 2024, §III.2). This
is a plain, explicit torch loop around peft rather than ``Trainer``: every step's loss and
throughput go to a callback (the Dagster layer forwards it to the run log), and nothing else
(checkpoints, reports, global seeding) happens behind the caller's back.

Convention:
    An adapter directory is plain peft ``save_pretrained`` output — ``adapter_config.json`` and
    ``adapter_model.safetensors`` (adapter name ``"default"`` at the top level) — plus
    ``training_config.json`` (hyper-parameters, ``data_version``, base model id and fingerprint,
    losses, timings). The directory appears by an atomic rename only when all three are written,
    so a directory with ``training_config.json`` is complete.

    Loss is on the response tokens only: the instruction ``[INST] Flood [/INST]``, the padding,
    and nothing else is labelled ``-100``. An end-of-sequence token closes each example so the
    model learns to stop.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from cinema_dag.atomic import atomic_dir, atomic_write_json
from cinema_dag.defaults import (
    DEFAULT_LORA_ALPHA,
    DEFAULT_LORA_BATCH_SIZE,
    DEFAULT_LORA_DROPOUT,
    DEFAULT_LORA_LEARNING_RATE,
    DEFAULT_LORA_MAX_LENGTH,
    DEFAULT_LORA_MAX_STEPS,
    DEFAULT_LORA_R,
    DEFAULT_LORA_TARGET_MODULES,
)
from cinema_dag.text.corpus import PromptCorpus

__all__ = [
    "ADAPTER_FILES",
    "IGNORE_INDEX",
    "TRAINING_CONFIG",
    "LoraResult",
    "LanguageModel",
    "tokenize_example",
    "collate",
    "apply_lora",
    "make_optimizer",
    "train_step",
    "held_out_loss",
    "train_lora",
    "load_adapter",
    "latest_adapter",
    "model_fingerprint",
]

#: The file that marks an adapter directory complete (written last).
TRAINING_CONFIG = "training_config.json"
#: Every file a complete adapter directory has.
ADAPTER_FILES: tuple[str, ...] = ("adapter_config.json", "adapter_model.safetensors", TRAINING_CONFIG)

#: Label of tokens that carry no loss (instruction, padding), as in transformers.
IGNORE_INDEX = -100
_FORMAT_VERSION = 1

OnLog = Callable[[int, float, float], None]


class LanguageModel(Protocol):
    """What :func:`train_lora` needs: the registry's ``llm`` component has these attributes."""

    model: nn.Module
    tokenizer: Any


@dataclass(frozen=True)
class LoraResult:
    """What one training run produced.

    Attributes:
        adapter_dir: the complete adapter directory.
        data_version: the corpus version trained on.
        base_model_id: the base model's id (registry id or ``config.name_or_path``).
        losses: training loss of every step, in order.
        base_held_out_loss: mean response-token loss on the held-out split with the adapter off
            (``None`` when there is no held-out example).
        held_out_loss: the same with the trained adapter on.
        tokens_per_s: non-padding tokens trained on per second, over the whole loop.
        train_seconds: wall time of the training loop.
        trainable_params: parameters of the adapter.
    """

    adapter_dir: Path
    data_version: str
    base_model_id: str
    losses: tuple[float, ...]
    base_held_out_loss: float | None
    held_out_loss: float | None
    tokens_per_s: float
    train_seconds: float
    trainable_params: int

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def first_loss(self) -> float:
        return self.losses[0]

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


# --------------------------------------------------------------------------------------------
# Data


def tokenize_example(tokenizer: Any, prompt: str, text: str, max_length: int) -> dict[str, list[int]]:
    """Token ids of ``text`` with labels only on the part after ``prompt``, ending with EOS.

    ``prompt`` is tokenized alone and the longest common prefix with ``text``'s ids is masked, so a
    tokenizer that merges across the boundary or appends EOS still masks exactly the instruction.

    Args:
        tokenizer: a Hugging Face tokenizer (adds BOS itself if it is configured to).
        prompt: the instruction, a prefix of ``text``.
        text: the full example, ``prompt + " " + response``.
        max_length: the most tokens kept (EOS included).

    Returns:
        ``{"input_ids": [L], "labels": [L]}`` with ``L <= max_length``.

    Raises:
        ValueError: ``text`` does not start with ``prompt``, or no response token fits.
    """
    if not text.startswith(prompt):
        raise ValueError(f"text must start with its prompt {prompt!r}; got {text[:80]!r}")
    ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
    prompt_ids = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    n_prompt = 0
    while n_prompt < min(len(ids), len(prompt_ids)) and ids[n_prompt] == prompt_ids[n_prompt]:
        n_prompt += 1
    eos = tokenizer.eos_token_id
    if eos is not None and (not ids or ids[-1] != eos):
        ids.append(eos)
    ids = ids[:max_length]
    if n_prompt >= len(ids):
        raise ValueError(
            f"max_length={max_length} leaves no response token after the {n_prompt}-token prompt {prompt!r}"
        )
    return {"input_ids": ids, "labels": [IGNORE_INDEX] * n_prompt + ids[n_prompt:]}


def collate(examples: Sequence[dict[str, list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch to its longest example.

    Returns:
        ``input_ids`` and ``labels`` :math:`(B, L)` int64 (padding labelled ``-100``) and
        ``attention_mask`` :math:`(B, L)` (1 on real tokens).
    """
    if not examples:
        raise ValueError("collate needs at least one example")
    length = max(len(e["input_ids"]) for e in examples)
    batch = len(examples)
    input_ids = torch.full((batch, length), pad_id, dtype=torch.long)
    labels = torch.full((batch, length), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((batch, length), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        input_ids[i, :n] = torch.tensor(e["input_ids"])
        labels[i, :n] = torch.tensor(e["labels"])
        attention_mask[i, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def _pad_id(tokenizer: Any) -> int:
    # Llama tokenizers have no pad token; any id works because padding is masked out of attention and loss.
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


# --------------------------------------------------------------------------------------------
# Model, optimiser, step


def _lora_config(r: int, alpha: int, dropout: float, target_modules: Sequence[str]) -> Any:
    from peft import LoraConfig, TaskType

    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=list(target_modules),
        bias="none",
        task_type=TaskType.CAUSAL_LM,
    )


def apply_lora(
    model: nn.Module,
    *,
    r: int = DEFAULT_LORA_R,
    alpha: int = DEFAULT_LORA_ALPHA,
    dropout: float = DEFAULT_LORA_DROPOUT,
    target_modules: Sequence[str] = DEFAULT_LORA_TARGET_MODULES,
    gradient_checkpointing: bool = False,
) -> Any:
    """Wrap a causal LM in a trainable peft LoRA adapter (in place: the base layers are wrapped).

    Undo with ``peft_model.unload()``, which puts the original layers back (and, after
    ``gradient_checkpointing=True``, ``model.activation_checkpointing_disable()`` and
    ``model.disable_input_require_grads()``).

    Raises:
        ValueError: ``model`` already carries peft layers, or a hyper-parameter is out of range.
    """
    from peft import PeftModel

    if r < 1 or alpha <= 0 or not 0.0 <= dropout < 1.0:
        raise ValueError(f"need r >= 1, alpha > 0, 0 <= dropout < 1; got r={r}, alpha={alpha}, dropout={dropout}")
    if not target_modules:
        raise ValueError("target_modules must name at least one module, e.g. ('q_proj', 'v_proj')")
    if isinstance(model, PeftModel) or hasattr(model, "peft_config"):
        raise ValueError(
            f"{type(model).__name__} already has a peft adapter; pass the base model "
            "(call .unload() on a PeftModel from load_adapter first)"
        )
    from peft import get_peft_model

    peft_model = get_peft_model(model, _lora_config(r, alpha, dropout, target_modules))
    if gradient_checkpointing:
        # This also hooks the (frozen) embeddings to output tensors that require grad, without which
        # checkpointed blocks would get inputs with no graph. Enabled after wrapping: peft would
        # otherwise register the same hook a second time and lose the handle of the first.
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    return peft_model


def make_optimizer(params: Sequence[nn.Parameter], lr: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW (no weight decay: LoRA matrices are small and start at zero), fused on CUDA."""
    if lr <= 0:
        raise ValueError(f"lr must be > 0; got {lr!r}")
    fused = device.type == "cuda"
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.0, fused=fused if fused else None)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    *,
    max_grad_norm: float = 1.0,
    scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """One optimisation step on one batch; returns the (detached) mean response-token loss.

    Args:
        model: the peft model in train mode.
        batch: :func:`collate` output on the model's device.
        max_grad_norm: gradient clipping norm. Default 1.0.
        scaler: a loss scaler for float16 base models (their small activation gradients underflow
            otherwise); ``None`` for float32 / bfloat16.
    """
    out = model(**batch, use_cache=False)
    params = [p for g in optimizer.param_groups for p in g["params"]]
    if scaler is None:
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
    else:
        scaler.scale(out.loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        scaler.step(optimizer)  # skipped when a gradient overflowed
        scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return out.loss.detach()


@torch.no_grad()
def held_out_loss(
    model: nn.Module, examples: Sequence[dict[str, list[int]]], pad_id: int, batch_size: int
) -> float | None:
    """Mean loss over every labelled token of ``examples`` (token-weighted), or ``None`` if empty."""
    if not examples:
        return None
    device = _device_of(model)
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(examples), batch_size):
            batch = collate(examples[start : start + batch_size], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
            # Position t predicts token t + 1.
            shift_logits = logits[:, :-1].float()
            shift_labels = batch["labels"][:, 1:]
            total += F.cross_entropy(
                shift_logits.reshape(-1, shift_logits.shape[-1]),
                shift_labels.reshape(-1),
                ignore_index=IGNORE_INDEX,
                reduction="sum",
            ).item()
            count += int((shift_labels != IGNORE_INDEX).sum())
    finally:
        model.train(was_training)
    return total / count if count else None


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def model_fingerprint(model: nn.Module) -> dict[str, Any]:
    """The base model's shape (what an adapter depends on) from its config."""
    config = getattr(model, "config", None)
    keys = (
        "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
    )
    return {k: getattr(config, k, None) for k in keys}


def _base_model_id(llm: Any, model: nn.Module) -> str:
    for value in (getattr(llm, "model_id", None), getattr(getattr(model, "config", None), "name_or_path", None)):
        if value:
            return str(value)
    return type(model).__name__


# --------------------------------------------------------------------------------------------
# Training


def _check_train_inputs(corpus: PromptCorpus, **numbers: float) -> None:
    for name in ("max_steps", "batch_size", "max_length", "log_every"):
        if int(numbers[name]) != numbers[name] or numbers[name] < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {numbers[name]!r}")
    if not isinstance(corpus, PromptCorpus):
        raise TypeError(f"corpus must be a PromptCorpus (see build_prompt_corpus); got {type(corpus).__name__}")
    if len(corpus.train) == 0:
        raise ValueError(f"corpus {corpus.data_version} has no training example")


def train_lora(
    llm: LanguageModel,
    corpus: PromptCorpus,
    *,
    adapter_dir: str | os.PathLike[str],
    r: int = DEFAULT_LORA_R,
    alpha: int = DEFAULT_LORA_ALPHA,
    dropout: float = DEFAULT_LORA_DROPOUT,
    target_modules: Sequence[str] = DEFAULT_LORA_TARGET_MODULES,
    lr: float = DEFAULT_LORA_LEARNING_RATE,
    max_steps: int = DEFAULT_LORA_MAX_STEPS,
    batch_size: int = DEFAULT_LORA_BATCH_SIZE,
    max_length: int = DEFAULT_LORA_MAX_LENGTH,
    warmup_steps: int | None = None,
    seed: int = 0,
    log_every: int = 10,
    on_log: OnLog | None = None,
    gradient_checkpointing: bool = False,
) -> LoraResult:
    """Train a LoRA adapter on the corpus and save it atomically to ``adapter_dir``.

    The base model is left as it was: the adapter layers are unloaded before returning (also on
    error), and its ``requires_grad`` flags and train/eval mode are restored. A float16 base model
    is trained with loss scaling; bfloat16 (load with ``dtype=torch.bfloat16``) is the better choice
    on GPUs that have it.

    Args:
        llm: an object with ``model`` (a causal LM, on the device to train on) and ``tokenizer``;
            ``model_id`` is recorded when present.
        corpus: from :func:`cinema_dag.text.corpus.build_prompt_corpus` / ``load_corpus``.
        adapter_dir: where the adapter directory goes (replaced if it exists).
        r, alpha, dropout, target_modules: the LoRA configuration.
        lr: peak AdamW learning rate.
        max_steps: optimisation steps (the training split is cycled in seeded shuffles).
        batch_size: examples per step (also the evaluation batch).
        max_length: tokens per example at most.
        (Defaults: the ``DEFAULT_LORA_*`` values of :mod:`cinema_dag.defaults`.)
        warmup_steps: linear warm-up steps, then linear decay to 0; default 10% of ``max_steps``.
        seed: seeds the adapter's initialisation, dropout and the data order (global RNG state is
            restored afterwards). Default 0.
        log_every: call ``on_log`` every so many steps (and at the last). Default 10.
        on_log: ``on_log(step, loss, tokens_per_s)``, ``step`` counted from 1.
        gradient_checkpointing: trade compute for activation memory (7B-sized models).

    Returns:
        a :class:`LoraResult`.
    """
    # 1. Check inputs
    _check_train_inputs(corpus, max_steps=max_steps, batch_size=batch_size, max_length=max_length, log_every=log_every)
    model: nn.Module = llm.model
    tokenizer = llm.tokenizer
    device = _device_of(model)
    warmup = max_steps // 10 if warmup_steps is None else warmup_steps
    if warmup < 0:
        raise ValueError(f"warmup_steps must be >= 0; got {warmup_steps!r}")

    # 2. Tokenize (cheap; the corpus is thousands of examples at most)
    pad_id = _pad_id(tokenizer)
    def encode(split: Any) -> list[dict[str, list[int]]]:
        return [tokenize_example(tokenizer, p, t, max_length) for p, t in zip(split["prompt"], split["text"])]

    train_ex, held_ex = encode(corpus.train), encode(corpus.held_out)

    hyper = {
        "r": r, "alpha": alpha, "dropout": dropout, "target_modules": list(target_modules), "lr": lr,
        "max_steps": max_steps, "batch_size": batch_size, "max_length": max_length, "warmup_steps": warmup,
        "seed": seed, "optimizer": "AdamW(weight_decay=0)", "max_grad_norm": 1.0,
        "schedule": "linear warmup, linear decay",
        "gradient_checkpointing": gradient_checkpointing, "loss": "response tokens only",
        "loss_scaling": next(model.parameters()).dtype == torch.float16,
    }
    requires_grad = {n: p.requires_grad for n, p in model.named_parameters()}
    was_training = model.training
    started = time.perf_counter()
    fork_devices = [device] if device.type == "cuda" else []

    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        peft_model = None
        try:
            peft_model = apply_lora(
                model, r=r, alpha=alpha, dropout=dropout, target_modules=target_modules,
                gradient_checkpointing=gradient_checkpointing,
            )

            # 3. Held-out loss of the base model
            eval_started = time.perf_counter()
            with peft_model.disable_adapter():
                base_loss = held_out_loss(peft_model, held_ex, pad_id, batch_size)
            eval_seconds = time.perf_counter() - eval_started

            # 4. Optimiser and schedule
            params = [p for p in peft_model.parameters() if p.requires_grad]
            trainable = sum(p.numel() for p in params)
            optimizer = make_optimizer(params, lr, device)
            def lr_factor(s: int) -> float:
                if s < warmup:
                    return (s + 1) / (warmup + 1)
                return max(0.0, (max_steps - s) / max(1, max_steps - warmup))

            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)

            # float16 activations underflow small gradients; bf16 and fp32 have the range and need no scaling.
            base_dtype = next(model.parameters()).dtype
            scaler = torch.amp.GradScaler(device.type) if base_dtype == torch.float16 else None

            # 5. Training loop
            order = _batches(len(train_ex), batch_size, max_steps, seed)
            losses: list[float] = []
            tokens_total = 0
            peft_model.train()
            loop_started = time.perf_counter()
            for step, indices in enumerate(order, start=1):
                step_started = time.perf_counter()
                batch = collate([train_ex[i] for i in indices], pad_id)
                n_tokens = int(batch["attention_mask"].sum())
                batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
                # .item() waits for the device, so the step time below is real.
                loss = train_step(peft_model, optimizer, batch, scaler=scaler).item()
                scheduler.step()
                if not math.isfinite(loss):
                    raise FloatingPointError(f"training loss became {loss} at step {step} (lr={lr}); lower lr")
                losses.append(loss)
                tokens_total += n_tokens
                if on_log is not None and (step % log_every == 0 or step == max_steps):
                    on_log(step, loss, n_tokens / max(time.perf_counter() - step_started, 1e-9))
            train_seconds = time.perf_counter() - loop_started

            # 6. Held-out loss of the adapted model
            eval_started = time.perf_counter()
            adapted_loss = held_out_loss(peft_model, held_ex, pad_id, batch_size)
            eval_seconds += time.perf_counter() - eval_started

            # 7. Save: peft files, then training_config.json, then the atomic rename
            tokens_per_s = tokens_total / max(train_seconds, 1e-9)
            config = {
                "format": _FORMAT_VERSION,
                "base_model_id": _base_model_id(llm, model),
                "base_model_fingerprint": model_fingerprint(model),
                "data_version": corpus.data_version,
                "corpus": {"train": len(train_ex), "held_out": len(held_ex)},
                "hyperparameters": hyper,
                "trainable_params": trainable,
                "losses": {
                    "train_first": losses[0],
                    "train_last": losses[-1],
                    "train_per_step": losses,
                    "held_out_base": base_loss,
                    "held_out_adapted": adapted_loss,
                },
                "timings": {
                    "train_s": train_seconds,
                    "eval_s": eval_seconds,
                    "total_s": time.perf_counter() - started,
                    "tokens_per_s": tokens_per_s,
                    "tokens": tokens_total,
                },
                "device": str(device),
                "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
                "versions": _versions(),
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "finished_unix": time.time(),
            }

            out_dir = Path(adapter_dir)
            with atomic_dir(out_dir) as tmp:
                peft_model.save_pretrained(str(tmp), safe_serialization=True)
                atomic_write_json(tmp / TRAINING_CONFIG, config)  # last: it marks the folder complete
        finally:
            # 8. Give the caller its base model back unchanged.
            if peft_model is not None:
                peft_model.unload()
            if gradient_checkpointing:
                model.activation_checkpointing_disable()
                model.disable_input_require_grads()
            for name, p in model.named_parameters():
                p.requires_grad_(requires_grad.get(name, p.requires_grad))
            model.train(was_training)

    return LoraResult(
        adapter_dir=out_dir,
        data_version=corpus.data_version,
        base_model_id=config["base_model_id"],
        losses=tuple(losses),
        base_held_out_loss=base_loss,
        held_out_loss=adapted_loss,
        tokens_per_s=tokens_per_s,
        train_seconds=train_seconds,
        trainable_params=trainable,
    )


def _batches(n: int, batch_size: int, steps: int, seed: int) -> list[list[int]]:
    """``steps`` batches of indices into ``n`` examples: seeded permutations, concatenated."""
    gen = torch.Generator().manual_seed(seed)
    stream: list[int] = []
    need = steps * batch_size
    while len(stream) < need:
        stream.extend(torch.randperm(n, generator=gen).tolist())
    # A batch larger than the data set repeats examples within the batch; fine for tiny corpora.
    return [stream[i * batch_size : (i + 1) * batch_size] for i in range(steps)]


def _versions() -> dict[str, str]:
    import peft
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}


# --------------------------------------------------------------------------------------------
# Loading


def _read_training_config(adapter_dir: Path) -> dict[str, Any]:
    missing = [f for f in ADAPTER_FILES if not (adapter_dir / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{adapter_dir} is not a complete adapter directory: missing {missing}")
    try:
        return json.loads((adapter_dir / TRAINING_CONFIG).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{adapter_dir / TRAINING_CONFIG} is not valid JSON: {err}") from None


def load_adapter(base_llm: LanguageModel | nn.Module, adapter_dir: str | os.PathLike[str]) -> Any:
    """The base model with the saved adapter on it, in eval mode, ready to ``generate``.

    Like peft, this wraps the base model's layers in place; ``.unload()`` on the result gives the
    plain base model back.

    Args:
        base_llm: the base causal LM, or an object whose ``model`` is one.
        adapter_dir: a directory written by :func:`train_lora`.

    Raises:
        FileNotFoundError: the directory is incomplete.
        ValueError: the adapter was trained on a base model of another shape.
    """
    from peft import PeftModel

    model = base_llm if isinstance(base_llm, nn.Module) else base_llm.model
    adapter_dir = Path(adapter_dir)
    config = _read_training_config(adapter_dir)
    expected, actual = config.get("base_model_fingerprint"), model_fingerprint(model)
    if expected is not None and expected != actual:
        raise ValueError(
            f"adapter {adapter_dir} was trained on {config.get('base_model_id')!r} with {expected}; "
            f"the given base model is {actual}"
        )
    peft_model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    peft_model.eval()
    return peft_model


def latest_adapter(root: str | os.PathLike[str]) -> Path | None:
    """The most recently finished complete adapter directory anywhere under ``root``, or ``None``.

    Temporary directories (names starting with ``.``) are skipped; "most recent" is the
    ``finished_unix`` recorded in ``training_config.json`` (ties: the path, last wins).
    """
    root = Path(root)
    if not root.is_dir():
        return None
    best: tuple[float, str, Path] | None = None
    for marker in root.rglob(TRAINING_CONFIG):
        directory = marker.parent
        if any(part.startswith(".") for part in directory.relative_to(root).parts):
            continue
        if not all((directory / f).is_file() for f in ADAPTER_FILES):
            continue
        finished = float(_read_training_config(directory).get("finished_unix", marker.stat().st_mtime))
        candidate = (finished, str(directory), directory)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else best[2]
