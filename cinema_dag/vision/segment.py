"""Motion masks by the LangSAM method on transformers: GroundingDINO boxes from text, SAM masks in them.

``lang-sam`` itself cannot be installed here (not on PyPI; a git dependency on ``sam2``; needs
torchvision), so its two stages are rebuilt on ``GroundingDinoForObjectDetection`` and ``SamModel``
with the PIL image processors, and :class:`LangSAM` offers the same ``predict`` API.

Text prompts follow GroundingDINO's convention: lower-case phrases, each ending in ``"."``
(``"water. river. flood water."``); :func:`format_text_prompt` makes that from any phrase list.

Convention: boxes are ``(x0, y0, x1, y1)`` in pixels of the input image; masks are boolean
``(H, W)`` arrays at the input image's size, ``True`` = the region moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np
import torch

from cinema_dag.defaults import DEFAULT_BOX_THRESHOLD, DEFAULT_MASK_THRESHOLD, DEFAULT_TEXT_THRESHOLD

if TYPE_CHECKING:
    from PIL import Image

    from cinema_dag.models.loaded import LoadedGrounding, LoadedSegmenter

__all__ = [
    "Detection",
    "MotionMask",
    "LangSAM",
    "format_text_prompt",
    "detect",
    "segment_boxes",
    "segment_motion",
]

_SPECIAL = ("[SEP]", "[CLS]", "[PAD]", "[UNK]", "[MASK]")


class Detection(NamedTuple):
    """One GroundingDINO box; a named tuple, so ``label, score, box = detection`` works.

    Attributes:
        label: the prompt phrase it matched (see :func:`_match_label`), or the raw text label.
        score: box confidence in [0, 1].
        box: ``(x0, y0, x1, y1)`` in pixels, clipped to the image.
    """

    label: str
    score: float
    box: tuple[float, float, float, float]


@dataclass(eq=False)
class MotionMask:
    """The moving region of one image.

    Attributes:
        mask: bool ``(H, W)``: union of every detected region.
        label_masks: per label, bool ``(H, W)``: union of that label's regions.
        boxes: float32 ``(N, 4)`` xyxy pixel boxes of the N detections.
        scores: float32 ``(N,)`` box scores.
        labels: N labels, aligned with ``boxes``.
        masks: bool ``(N, H, W)``, one SAM mask per box.
        mask_scores: float32 ``(N,)``, SAM's predicted IoU of each mask.
        empty: ``True`` when no box passed the thresholds (then ``mask`` is all ``False``, N = 0).
        prompt: the GroundingDINO text prompt used.
    """

    mask: np.ndarray
    label_masks: dict[str, np.ndarray]
    boxes: np.ndarray
    scores: np.ndarray
    labels: list[str]
    masks: np.ndarray
    mask_scores: np.ndarray
    empty: bool
    prompt: str
    detections: list[Detection] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        """Fraction of pixels that move."""
        return float(self.mask.mean()) if self.mask.size else 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (no pixel arrays): prompt, detections, coverage per label."""
        return {
            "prompt": self.prompt,
            "empty": self.empty,
            "size": [int(self.mask.shape[1]), int(self.mask.shape[0])] if self.mask.ndim == 2 else [],
            "coverage": self.coverage,
            "labels": list(self.labels),
            "scores": [float(s) for s in self.scores],
            "mask_scores": [float(s) for s in self.mask_scores],
            "boxes": [[float(v) for v in box] for box in self.boxes],
            "label_coverage": {label: float(m.mean()) for label, m in self.label_masks.items()},
        }


def _phrases(prompt: str | Sequence[str]) -> list[str]:
    parts = prompt.split(".") if isinstance(prompt, str) else list(prompt)
    if any(not isinstance(p, str) for p in parts):
        raise TypeError(f"prompt phrases must be strings; got {prompt!r}")
    phrases = [" ".join(p.lower().split()) for p in parts]
    phrases = [p.strip(" .") for p in phrases if p.strip(" .")]
    if not phrases:
        raise ValueError(f"the text prompt has no phrase; got {prompt!r}")
    return phrases


def format_text_prompt(prompt: str | Sequence[str]) -> str:
    """GroundingDINO text: lower-case phrases each ending in ``"."``, e.g. ``"water. flood water."``.

    Accepts a phrase list (``("Water", "flood water")``) or a string (``"Water. fire"``).
    """
    return " ".join(p + "." for p in _phrases(prompt))


def _match_label(raw: str, phrases: Sequence[str]) -> str:
    # GroundingDINO labels are the prompt tokens above text_threshold, which can span phrases
    # ("river heat") or carry special tokens; name a detection by the longest prompt phrase its
    # label contains, so per-label masks have stable keys.
    label = raw
    for token in _SPECIAL:
        label = label.replace(token, " ")
    label = " ".join(label.replace(".", " ").split())
    for phrase in sorted(phrases, key=len, reverse=True):
        if f" {phrase} " in f" {label} ":
            return phrase
    return label or "unlabelled"


def _check_thresholds(box_threshold: float, text_threshold: float) -> None:
    if not 0.0 <= text_threshold <= 1.0:
        raise ValueError(f"`text_threshold` must be in [0, 1] but is {text_threshold}")
    if box_threshold < 0.0:
        raise ValueError(f"`box_threshold` must be >= 0 but is {box_threshold}")


def detect(
    grounding: "LoadedGrounding",
    image: "Image.Image",
    prompt: str | Sequence[str],
    *,
    box_threshold: float = DEFAULT_BOX_THRESHOLD,
    text_threshold: float = DEFAULT_TEXT_THRESHOLD,
) -> list[Detection]:
    """GroundingDINO boxes for a text prompt in one image, best score first.

    Args:
        grounding: a loaded ``grounding`` component.
        image: a PIL image (converted to RGB).
        prompt: phrases (``["person"]``, ``"water. fire."``); see :func:`format_text_prompt`.
        box_threshold: minimum box score (transformers' ``threshold``); above 1 finds nothing.
        text_threshold: minimum token score for a word to be part of a label.

    Returns:
        ``Detection(label, score, box)`` list, possibly empty.
    """
    _check_thresholds(box_threshold, text_threshold)
    phrases = _phrases(prompt)
    text = " ".join(p + "." for p in phrases)
    image = image.convert("RGB")
    model, processor = grounding.model, grounding.processor
    # Texts longer than the model's text length would fail inside the model; truncate instead.
    inputs = processor(
        images=image,
        text=text,
        return_tensors="pt",
        truncation=True,
        max_length=model.config.max_text_len,
    ).to(model.device)
    inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
    with torch.inference_mode():
        outputs = model(**inputs)
    result = processor.post_process_grounded_object_detection(
        outputs,
        input_ids=inputs["input_ids"],
        threshold=box_threshold,
        text_threshold=text_threshold,
        target_sizes=[(image.height, image.width)],
    )[0]
    boxes = result["boxes"].float().cpu().numpy()
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, image.width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, image.height)
    scores = result["scores"].float().cpu().numpy()
    detections = [
        Detection(_match_label(raw, phrases), float(score), tuple(float(v) for v in box))
        for raw, score, box in zip(result["text_labels"], scores, boxes)
    ]
    return sorted(detections, key=lambda d: -d.score)


def segment_boxes(
    segmenter: "LoadedSegmenter",
    image: "Image.Image",
    boxes: np.ndarray | Sequence[Sequence[float]],
    *,
    mask_threshold: float = DEFAULT_MASK_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """SAM masks for xyxy pixel boxes in one image.

    Args:
        segmenter: a loaded ``segmenter`` component.
        image: a PIL image (converted to RGB), size ``W x H``.
        boxes: ``(N, 4)`` xyxy boxes in pixels.
        mask_threshold: logit threshold for a pixel to be in the mask.

    Returns:
        masks bool ``(N, H, W)`` and SAM's predicted IoU per mask, float32 ``(N,)``; ``(0, H, W)``
        and ``(0,)`` when there are no boxes (SAM is not run).
    """
    image = image.convert("RGB")
    box_array = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if len(box_array) == 0:
        return np.zeros((0, image.height, image.width), dtype=bool), np.zeros((0,), dtype=np.float32)
    model, processor = segmenter.model, segmenter.processor
    inputs = processor(images=image, input_boxes=[box_array.tolist()], return_tensors="pt").to(model.device)
    with torch.inference_mode():
        outputs = model(
            pixel_values=inputs["pixel_values"].to(model.dtype),
            input_boxes=inputs["input_boxes"].to(model.dtype),
            multimask_output=False,
        )
    masks = processor.post_process_masks(
        outputs.pred_masks.float().cpu(),
        inputs["original_sizes"].cpu(),
        inputs["reshaped_input_sizes"].cpu(),
        mask_threshold=mask_threshold,
        binarize=True,
    )[0]  # (N, 1, H, W)
    iou = outputs.iou_scores[0, :, 0].float().cpu().numpy()  # (N,)
    return masks[:, 0].numpy().astype(bool), iou


def _per_image_prompts(prompts: Any, n: int) -> list[str | Sequence[str]]:
    if isinstance(prompts, str):
        return [prompts] * n
    prompts = list(prompts)
    if prompts and all(isinstance(p, str) for p in prompts):
        return [prompts] * n  # one phrase list for every image
    if len(prompts) != n:
        raise ValueError(f"got {n} images but {len(prompts)} per-image prompts")
    return prompts


def segment_motion(
    grounding: "LoadedGrounding",
    segmenter: "LoadedSegmenter",
    images: Sequence["Image.Image"],
    prompts: str | Sequence[str] | Sequence[str | Sequence[str]],
    *,
    box_threshold: float = DEFAULT_BOX_THRESHOLD,
    text_threshold: float = DEFAULT_TEXT_THRESHOLD,
    mask_threshold: float = DEFAULT_MASK_THRESHOLD,
) -> list[MotionMask]:
    """The regions that move in each image: GroundingDINO boxes for the prompt, SAM masks in them.

    Args:
        grounding: a loaded ``grounding`` component.
        segmenter: a loaded ``segmenter`` component.
        images: PIL images.
        prompts: what moves. A string (``"water. river."``) or a phrase list
            (``DisasterType.motion_prompts``) applies to every image; a list of such, one per
            image, gives each image its own.
        box_threshold / text_threshold: see :func:`detect`.
        mask_threshold: see :func:`segment_boxes`.

    Returns:
        One :class:`MotionMask` per image; an image with no box above ``box_threshold`` gets an
        all-``False`` mask with ``empty=True`` (no error).
    """
    images = list(images)
    _check_thresholds(box_threshold, text_threshold)
    per_image = _per_image_prompts(prompts, len(images))
    results = []
    for image, prompt in zip(images, per_image):
        text = format_text_prompt(prompt)
        detections = detect(grounding, image, prompt, box_threshold=box_threshold, text_threshold=text_threshold)
        boxes = np.array([d.box for d in detections], dtype=np.float32).reshape(-1, 4)
        masks, mask_scores = segment_boxes(segmenter, image, boxes, mask_threshold=mask_threshold)
        labels = [d.label for d in detections]
        label_masks: dict[str, np.ndarray] = {}
        for label, m in zip(labels, masks):
            label_masks[label] = label_masks.get(label, np.zeros_like(m)) | m
        results.append(
            MotionMask(
                mask=masks.any(axis=0) if len(masks) else np.zeros((image.height, image.width), dtype=bool),
                label_masks=label_masks,
                boxes=boxes,
                scores=np.array([d.score for d in detections], dtype=np.float32),
                labels=labels,
                masks=masks,
                mask_scores=mask_scores,
                empty=not detections,
                prompt=text,
                detections=detections,
            )
        )
    return results


class LangSAM:
    """lang-sam's ``LangSAM`` API on our loaded GroundingDINO + SAM.

    Example:
        >>> model = LangSAM(load_component("grounding"), load_component("segmenter"))  # doctest: +SKIP
        >>> out = model.predict([image], ["water."])                                   # doctest: +SKIP
        >>> out[0]["masks"].shape                                                      # doctest: +SKIP
        (2, 480, 640)
    """

    def __init__(self, grounding: "LoadedGrounding", segmenter: "LoadedSegmenter") -> None:
        self.grounding = grounding
        self.segmenter = segmenter

    def __repr__(self) -> str:
        return f"LangSAM(grounding={self.grounding.model_id!r}, segmenter={self.segmenter.model_id!r})"

    def predict(
        self,
        images_pil: Sequence["Image.Image"],
        texts_prompt: Sequence[str],
        box_threshold: float = DEFAULT_BOX_THRESHOLD,
        text_threshold: float = DEFAULT_TEXT_THRESHOLD,
    ) -> list[dict[str, Any]]:
        """One dict per image, as lang-sam returns: ``boxes`` (N, 4), ``scores`` (N,),
        ``labels`` and ``text_labels`` (N phrases), ``masks`` bool (N, H, W) and ``mask_scores`` (N,).

        ``texts_prompt`` has one prompt string per image. As in lang-sam, ``masks`` and
        ``mask_scores`` are empty lists when no box passes the thresholds.
        """
        images_pil, texts_prompt = list(images_pil), list(texts_prompt)
        if len(images_pil) != len(texts_prompt) or any(not isinstance(t, str) for t in texts_prompt):
            raise ValueError(
                f"need one prompt string per image; got {len(images_pil)} images and prompts {texts_prompt!r}"
            )
        results = segment_motion(
            self.grounding,
            self.segmenter,
            images_pil,
            [_phrases(t) for t in texts_prompt],  # lists: one prompt per image, not a phrase list
            box_threshold=box_threshold,
            text_threshold=text_threshold,
        )
        out = []
        for r in results:
            out.append(
                {
                    "boxes": r.boxes,
                    "scores": r.scores,
                    "labels": list(r.labels),
                    "text_labels": list(r.labels),
                    "masks": r.masks if not r.empty else [],
                    "mask_scores": r.mask_scores if not r.empty else [],
                }
            )
        return out
