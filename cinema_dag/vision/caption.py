"""BLIP captions of images: the first step from real disaster photos to prompt metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import torch

from cinema_dag.defaults import DEFAULT_CAPTION_BATCH_SIZE, DEFAULT_CAPTION_MAX_NEW_TOKENS
if TYPE_CHECKING:
    from PIL import Image

    from cinema_dag.models.loaded import LoadedCaptioner

__all__ = ["caption_images"]


def caption_images(
    captioner: "LoadedCaptioner",
    images: Sequence["Image.Image"],
    *,
    max_new_tokens: int = DEFAULT_CAPTION_MAX_NEW_TOKENS,
    prompt: str | None = None,
    batch_size: int = DEFAULT_CAPTION_BATCH_SIZE,
) -> list[str]:
    """Caption each image with BLIP (greedy decoding, so the result is deterministic).

    Args:
        captioner: a loaded ``captioner`` component (``BlipForConditionalGeneration`` + processor).
        images: PIL images, any size and mode (converted to RGB; the processor resizes them).
        max_new_tokens: the longest caption in tokens.
        prompt: optional text prefix the caption continues (BLIP's conditional captioning, e.g.
            ``"a photograph of"``); the returned caption then starts with it.
        batch_size: images per forward pass.

    Returns:
        One caption per image, whitespace-normalised, in input order.
    """
    # 1. Check inputs
    if max_new_tokens < 1:
        raise ValueError(f"`max_new_tokens` must be >= 1 but is {max_new_tokens}")
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1 but is {batch_size}")
    if prompt is not None and not prompt.strip():
        raise ValueError(f"`prompt` must be None or non-empty but is {prompt!r}")
    images = list(images)
    if not images:
        return []

    model, processor = captioner.model, captioner.processor
    captions: list[str] = []
    # 2. Caption batch by batch
    for start in range(0, len(images), batch_size):
        batch = [img.convert("RGB") for img in images[start : start + batch_size]]
        kwargs = {"text": [prompt] * len(batch)} if prompt is not None else {}
        inputs = processor(images=batch, return_tensors="pt", **kwargs).to(model.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        texts = processor.batch_decode(out, skip_special_tokens=True)
        captions.extend(" ".join(t.split()) for t in texts)
    return captions
