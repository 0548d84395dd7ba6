"""prompt_corpus and prompt_lora: the metadata generator's training data and its LoRA adapter."""

import time

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import (
    ALL,
    GPU_OP_TAGS,
    GPU_POOL,
    GROUP_TRAINING,
    LOSS_CHECK,
    OWNERS,
    timed,
    timing_metadata,
)
from cinema_dag import defaults
from cinema_dag.disasters import DISASTER_KEYS
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


class CorpusConfig(dg.Config):
    held_out_fraction: float = Field(default=defaults.DEFAULT_HELD_OUT_FRACTION, ge=0.0, lt=1.0,
                                     description="Share of examples held out.")
    include_seed: bool = Field(
        default=defaults.DEFAULT_INCLUDE_SEED,
        description="Also add the hand-written template examples, so every type is covered before scraping.")


@dg.asset(deps=["image_captions"], group_name=GROUP_TRAINING, owners=OWNERS[GROUP_TRAINING], code_version="1",
          kinds={"huggingface"})
def prompt_corpus(context: dg.AssetExecutionContext, config: CorpusConfig,
                  store: ArtefactStore) -> dg.MaterializeResult:
    """Instruction examples in the paper's metadata template from every captioned type, with a held-out split."""
    from cinema_dag.artefacts import CAPTIONS_DIR, CORPUS_DIR
    from cinema_dag.text.corpus import build_prompt_corpus, load_captions_dataset, save_corpus

    present = [k for k in DISASTER_KEYS if store.is_complete("image_captions", k)]
    missing = [k for k in DISASTER_KEYS if k not in present]
    if missing:
        context.log.warning(f"image_captions missing for {missing}: training on {present or 'the seed examples only'}")
    rows = []
    for key in present:
        rows.extend(load_captions_dataset(store.require("image_captions", key) / CAPTIONS_DIR))
    corpus = build_prompt_corpus(rows, held_out_fraction=config.held_out_fraction,
                                 include_seed=config.include_seed)
    with store.stage("prompt_corpus", ALL, {"data_version": corpus.data_version}) as out:
        save_corpus(corpus, out / CORPUS_DIR)
    examples = corpus.train["text"][:5]
    return dg.MaterializeResult(metadata={
        "data_version": corpus.data_version,
        "counts": dg.MetadataValue.json(corpus.counts()),
        "caption_rows": len(rows),
        "types_present": ", ".join(present) or "none",
        "types_missing": ", ".join(missing) or "none",
        "skipped_rows": corpus.skipped,
        "duplicates": corpus.duplicates,
        "examples": dg.MetadataValue.md("\n\n".join(f"> {t[:300]}" for t in examples)),
        "path": dg.MetadataValue.path(store.uri("prompt_corpus", ALL)),
    })


class LoraConfig(dg.Config):
    r: int = Field(default=defaults.DEFAULT_LORA_R, ge=1, description="LoRA rank.")
    alpha: int = Field(default=defaults.DEFAULT_LORA_ALPHA, ge=1, description="LoRA alpha.")
    dropout: float = Field(default=defaults.DEFAULT_LORA_DROPOUT, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: list(defaults.DEFAULT_LORA_TARGET_MODULES))
    learning_rate: float = Field(default=defaults.DEFAULT_LORA_LEARNING_RATE, gt=0, description="AdamW learning rate.")
    max_steps: int = Field(default=defaults.DEFAULT_LORA_MAX_STEPS, ge=1, description="Optimizer steps.")
    batch_size: int = Field(default=defaults.DEFAULT_LORA_BATCH_SIZE, ge=1)
    max_length: int = Field(default=defaults.DEFAULT_LORA_MAX_LENGTH, ge=16, description="Tokens per example at most.")
    seed: int = 0


@dg.asset(
    deps=["prompt_corpus"],
    group_name=GROUP_TRAINING, owners=OWNERS[GROUP_TRAINING], code_version="1",
    kinds={"pytorch", "peft"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
    check_specs=[dg.AssetCheckSpec(LOSS_CHECK, asset="prompt_lora", blocking=True,
                                   description="Held-out loss with the adapter is below the base model's.")],
)
def prompt_lora(context: dg.AssetExecutionContext, config: LoraConfig, store: ArtefactStore,
                models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """A LoRA adapter (safetensors + training config + data version) for the prompt-generating LLM.

    ``generated_prompts`` uses it only if its held-out loss beat the base model's (the blocking check).
    """
    from cinema_dag.artefacts import ADAPTER_DIR, CHECK_FILE, CORPUS_DIR, write_json
    from cinema_dag.text.corpus import load_corpus
    from cinema_dag.text.lora import train_lora

    corpus = load_corpus(store.require("prompt_corpus", ALL) / CORPUS_DIR)
    timings: dict[str, float] = {}
    with timed(context, "load model", timings):
        llm = models.load("llm", device.torch_device(), device.torch_dtype())

    def on_log(step: int, loss: float, tokens_per_s: float) -> None:
        context.log.info(f"step {step}/{config.max_steps}: loss {loss:.4f}, {tokens_per_s:,.0f} tokens/s")

    version = f"{corpus.data_version}-{time.strftime('%Y%m%dT%H%M%S')}"
    with store.stage("prompt_lora", ALL, {"version": version}) as out:
        with timed(context, "train", timings, f"{config.max_steps} steps"):
            result = train_lora(
                llm, corpus, adapter_dir=out / ADAPTER_DIR, r=config.r, alpha=config.alpha,
                dropout=config.dropout, target_modules=tuple(config.target_modules), lr=config.learning_rate,
                max_steps=config.max_steps, batch_size=config.batch_size, max_length=config.max_length,
                seed=config.seed, log_every=max(1, config.max_steps // 10), on_log=on_log,
            )
        passed = (result.held_out_loss is not None and result.base_held_out_loss is not None
                  and result.held_out_loss < result.base_held_out_loss)
        # Readers (generated_prompts) use an adapter only if this check passed.
        write_json(out, CHECK_FILE, {LOSS_CHECK: passed, "held_out_loss": result.held_out_loss,
                                       "base_held_out_loss": result.base_held_out_loss})
    device.free_memory()
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "data_version": result.data_version,
            "base_model_id": result.base_model_id,
            "steps": result.steps,
            "first_loss": result.first_loss,
            "final_loss": result.final_loss,
            "held_out_loss": result.held_out_loss if result.held_out_loss is not None else float("nan"),
            "base_held_out_loss": (result.base_held_out_loss if result.base_held_out_loss is not None
                                   else float("nan")),
            "tokens_per_s": result.tokens_per_s,
            "trainable_params": result.trainable_params,
            "path": dg.MetadataValue.path(store.uri("prompt_lora", ALL, ADAPTER_DIR)),
            **timing_metadata(timings),
        },
        check_results=[dg.AssetCheckResult(
            check_name=LOSS_CHECK, passed=passed,
            metadata={"observed": result.held_out_loss if result.held_out_loss is not None else float("nan"),
                      "expected_below": (result.base_held_out_loss if result.base_held_out_loss is not None
                                         else float("nan"))},
        )],
    )
