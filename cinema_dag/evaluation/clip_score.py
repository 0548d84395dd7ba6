"""CLIP score: how well each image matches the prompt that made it, with the profile's CLIP.

The score of one image is the cosine similarity of CLIP's image and text embeddings, the scale of
the paper's Table 1 (0.26-0.31). torchmetrics' ``CLIPScore`` reports ``100 * max(cos, 0)``
instead. Prompts longer than CLIP's 77 tokens are truncated, as the T2I model's text encoder does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .images import as_rgb_list

if TYPE_CHECKING:
    from cinema_dag.models.loaded import LoadedClip

__all__ = ["TINY_CLIP_NOTE", "clip_label", "clip_scores"]

TINY_CLIP_NOTE = "tiny random CLIP: plumbing check, not a quality score"


def clip_label(clip: LoadedClip | Any) -> str:
    """What the scores came from, for results: the model id, marked when its weights are random."""
    from cinema_dag.models.profiles import TINY_MODEL_PREFIX

    model_id = str(getattr(clip, "model_id", "unknown CLIP"))
    return f"{model_id} ({TINY_CLIP_NOTE})" if model_id.startswith(TINY_MODEL_PREFIX) else model_id


def clip_scores(clip: LoadedClip, images: Sequence[Any], prompts: Sequence[str], *,
                batch_size: int = 16) -> np.ndarray:
    """Cosine similarity between each image and its prompt.

    Args:
        clip: a loaded ``clip`` component (``CLIPModel`` + ``CLIPProcessor``).
        images: ``N`` images (PIL or ``uint8 (H, W, 3)``).
        prompts: ``N`` prompts, ``prompts[i]`` made ``images[i]``.
        batch_size: pairs per forward pass; the scores do not depend on it or on the order
            (text is padded with an attention mask, each pair is scored on its own).

    Returns:
        ``float64 (N,)`` in [-1, 1].
    """
    import torch

    arrays = as_rgb_list(images, "images")
    prompts = list(prompts)
    if len(prompts) != len(arrays):
        raise ValueError(f"got {len(arrays)} images but {len(prompts)} prompts")
    if any(not isinstance(p, str) or not p.strip() for p in prompts):
        raise ValueError(f"every prompt must be a non-empty string; got {prompts!r}")
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1; got {batch_size}")
    model, processor = clip.model, clip.processor
    weight = next(model.parameters())
    max_length = min(77, int(getattr(model.config.text_config, "max_position_embeddings", 77)))
    scores = np.empty(len(arrays), np.float64)
    with torch.inference_mode():
        for start in range(0, len(arrays), batch_size):
            stop = start + batch_size
            inputs = processor(text=prompts[start:stop], images=arrays[start:stop], return_tensors="pt",
                               padding=True, truncation=True, max_length=max_length)
            # Pixel values follow the model's dtype (float16 on GPUs); token ids stay integers.
            inputs = {k: v.to(weight.device, dtype=weight.dtype) if v.is_floating_point() else v.to(weight.device)
                      for k, v in inputs.items()}
            out = model(**inputs)
            image = torch.nn.functional.normalize(out.image_embeds.float(), dim=-1)
            text = torch.nn.functional.normalize(out.text_embeds.float(), dim=-1)
            scores[start:stop] = (image * text).sum(-1).double().cpu().numpy()
    return scores
