"""generated_prompts: the metadata generator (LLM, with the newest LoRA adapter) writes T2I prompts."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import (
    ADAPTER_ASSET,
    GPU_OP_TAGS,
    GPU_POOL,
    GROUP_GENERATION,
    OWNERS,
    timed,
    timing_metadata,
    usable_adapter,
)
from cinema_dag.defaults import DEFAULT_NUM_PROMPTS
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


class PromptConfig(dg.Config):
    num_prompts: int = Field(default=DEFAULT_NUM_PROMPTS, ge=1, le=64,
                             description="Prompts to generate for the partition.")
    seed: int = Field(default=0, description="Sampling seed: the same seed gives the same prompts.")
    max_new_tokens: int | None = Field(default=None, description="Tokens to sample; None = the profile's default.")
    alert_keywords: list[str] = Field(default_factory=list, description="Extra keywords, e.g. from an alert.")
    use_adapter: bool = Field(default=True, description="Use the newest prompt_lora adapter when one exists.")


@dg.asset(
    partitions_def=disaster_types,
    deps=[ADAPTER_ASSET],
    group_name=GROUP_GENERATION, owners=OWNERS[GROUP_GENERATION], code_version="1",
    kinds={"pytorch", "transformers"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def generated_prompts(context: dg.AssetExecutionContext, config: PromptConfig, store: ArtefactStore,
                      models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """Text-to-image prompts in the paper's metadata template, one set per disaster type.

    Uses the newest ``prompt_lora`` adapter that passed its check, else the base model, so it can run
    before any retraining (the UI's "upstream not materialized" warning can be confirmed)."""
    from cinema_dag.artefacts import PROMPTS_FILE, write_json
    from cinema_dag.text.prompts import generate_prompts

    key = context.partition_key
    timings: dict[str, float] = {}
    adapter_path, adapter_version = usable_adapter(context, store) if config.use_adapter else (None, None)

    with timed(context, "load model", timings):
        llm = models.load("llm", device.torch_device(), device.torch_dtype())
    with timed(context, "generate", timings):
        prompts = generate_prompts(
            llm, key, keywords=tuple(config.alert_keywords), num_prompts=config.num_prompts,
            seed=config.seed, max_new_tokens=config.max_new_tokens, adapter_path=adapter_path,
        )
    records = [p.to_dict() for p in prompts]
    with store.stage("generated_prompts", key, {"seed": config.seed, "adapter": adapter_version}) as out:
        write_json(out, PROMPTS_FILE, records)

    table = "\n".join(f"| {i} | {p.prompt[:160]} |" for i, p in enumerate(prompts))
    return dg.MaterializeResult(metadata={
        "num_prompts": len(records),
        "model_id": models.model_id("llm"),
        "profile": models.profile,
        "adapter": adapter_version or "none (base model)",
        "used_adapter": adapter_path is not None,
        "prompts": dg.MetadataValue.md("| # | prompt |\n|---|---|\n" + table),
        "negative_prompt": prompts[0].negative_prompt if prompts else "",
        "path": dg.MetadataValue.path(store.uri("generated_prompts", key)),
        **timing_metadata(timings),
    })
