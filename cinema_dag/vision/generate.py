"""Disaster images from prompts with Stable Diffusion, reproducibly seeded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from PIL import Image

    from cinema_dag.models.loaded import LoadedTextToImage

__all__ = ["SCHEDULERS", "generate_images", "make_scheduler"]

#: Scheduler names accepted by :func:`generate_images` and their diffusers classes.
SCHEDULERS: dict[str, str] = {
    "ddim": "DDIMScheduler",
    "dpm": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "pndm": "PNDMScheduler",
    "unipc": "UniPCMultistepScheduler",
}


def make_scheduler(name: str, config: Any) -> Any:
    """A new scheduler of kind ``name`` (see :data:`SCHEDULERS`) from another scheduler's ``config``."""
    import diffusers

    if name not in SCHEDULERS:
        raise ValueError(f"Unknown scheduler {name!r}; use one of {', '.join(SCHEDULERS)}")
    # PNDM's Runge-Kutta warm-up needs more steps than short runs have; SD's own configs skip it.
    extra = {"skip_prk_steps": True} if name == "pndm" else {}
    return getattr(diffusers, SCHEDULERS[name]).from_config(config, **extra)


def generate_images(
    pipe: LoadedTextToImage | Any,
    prompts: Sequence[str],
    negative_prompts: Sequence[str] | str | None = None,
    *,
    height: int,
    width: int,
    num_inference_steps: int,
    guidance_scale: float,
    seed: int,
    scheduler: str | None = None,
    callback: Callable[[int, int], None] | None = None,
) -> list[Image.Image]:
    """One image per prompt; image ``i`` is seeded with ``seed + i``.

    Each image gets its own CPU ``torch.Generator`` and its own pipeline call, so an image depends
    only on its prompt, its seed and the settings (not on batch size or position), and the same
    seed gives the same image on any device.

    Args:
        pipe: a loaded ``text_to_image`` component, or a diffusers ``StableDiffusionPipeline``.
        prompts: the prompts.
        negative_prompts: one per prompt, one for all, or ``None``.
        height, width: image size in pixels; both divisible by 8 (the VAE's latent grid).
        num_inference_steps: denoising steps, >= 1.
        guidance_scale: classifier-free guidance; <= 1 disables it (one UNet pass per step).
        seed: seed of the first image.
        scheduler: a :data:`SCHEDULERS` name to use for this call, or ``None`` for the pipeline's.
            The pipeline's own scheduler is restored afterwards.
        callback: called as ``callback(i, n)`` after image ``i`` of ``n`` is done (progress logs).

    Returns:
        RGB PIL images of ``width`` x ``height``, in prompt order.
    """
    # 1. Check inputs
    prompts = list(prompts)
    if height % 8 != 0 or width % 8 != 0 or height <= 0 or width <= 0:
        raise ValueError(f"`height` and `width` have to be positive and divisible by 8 but are {height} and {width}.")
    if num_inference_steps < 1:
        raise ValueError(f"`num_inference_steps` must be >= 1 but is {num_inference_steps}")
    if isinstance(negative_prompts, str) or negative_prompts is None:
        negatives: list[str | None] = [negative_prompts] * len(prompts)
    else:
        negatives = list(negative_prompts)
        if len(negatives) != len(prompts):
            raise ValueError(f"got {len(prompts)} prompts but {len(negatives)} negative prompts")
    if any(not isinstance(p, str) or not p.strip() for p in prompts):
        raise ValueError(f"every prompt must be a non-empty string; got {prompts!r}")

    # 2. Define call parameters
    pipeline: Any = getattr(pipe, "pipeline", pipe)  # a diffusers pipeline (untyped)
    original_scheduler = pipeline.scheduler
    if scheduler is not None:
        pipeline.scheduler = make_scheduler(scheduler, original_scheduler.config)

    # 3. Generate image by image
    images = []
    try:
        for i, (prompt, negative) in enumerate(zip(prompts, negatives, strict=True)):
            generator = torch.Generator("cpu").manual_seed(seed + i)
            out = pipeline(
                prompt=prompt,
                negative_prompt=negative if guidance_scale > 1 else None,
                height=height,
                width=width,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                generator=generator,
                output_type="pil",
            )
            images.append(out.images[0].convert("RGB"))
            if callback is not None:
                callback(i, len(prompts))
    finally:
        pipeline.scheduler = original_scheduler
    return images
