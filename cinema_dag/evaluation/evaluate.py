"""One generated set against the reference photos: every metric of the table, or why not.

:class:`Scorers` holds what the metrics need (feature extractor, CLIP, LPIPS), each either ready
or replaced by the reason it is unavailable; :func:`evaluate_images` fills one row's cells with
numbers where it can and ``"unavailable: <why>"`` where it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cells import METRIC_KEYS, Cell, MetricUnavailable, unavailable
from .clip_score import clip_label, clip_scores
from .features import FeatureExtractor
from .fid import DEFAULT_KID_SUBSET_SIZE, DEFAULT_KID_SUBSETS, frechet_distance, kernel_distance
from .images import as_rgb_list
from .pairs import DEFAULT_MAX_PAIRS, DEFAULT_PAIR_SIZE, PairDistance, mean_over_pairs, ssim

__all__ = ["FID_RELIABLE_COUNT", "Scorers", "ReferenceSet", "ArmResult", "load_scorers", "evaluate_images"]

FID_RELIABLE_COUNT = 200
"""Below this many images on a side, FID is flagged as biased in the results (its bias falls as
1/N; the paper's data set has 200 photos per type)."""


@dataclass
class Scorers:
    """What the metrics need; a ``str`` in place of a scorer is the reason it is unavailable.

    Attributes:
        features: FID/KID features (:class:`~cinema_dag.evaluation.features.FeatureExtractor`).
        clip: a loaded ``clip`` component (``LoadedClip``).
        lpips: an LPIPS pair distance.
    """

    features: FeatureExtractor | str
    clip: Any | str
    lpips: PairDistance | str

    def describe(self) -> dict[str, str]:
        """Which extractor and models were used (or why not), for results and metadata."""
        return {
            "fid_extractor": self.features.name if not isinstance(self.features, str) else unavailable(self.features),
            "clip_model": clip_label(self.clip) if not isinstance(self.clip, str) else unavailable(self.clip),
            "lpips": "LPIPS (ImageNet backbone)" if not isinstance(self.lpips, str) else unavailable(self.lpips),
        }


def load_scorers(*, load_clip: Any, device: Any = "cpu", lpips_net: str = "alex") -> Scorers:
    """Load the offline Inception, the CLIP (through ``load_clip()``, e.g. the model registry) and
    LPIPS; each one that cannot be had becomes its reason (a missing-weights error's message too)."""
    from cinema_dag.models.errors import ModelRegistryError

    from .features import InceptionFeatures
    from .lpips import lpips_distance

    def attempt(make, *errors):
        try:
            return make()
        except (MetricUnavailable, *errors) as err:
            return str(err)

    return Scorers(
        features=attempt(lambda: InceptionFeatures(device=device)),
        clip=attempt(load_clip, ModelRegistryError),
        lpips=attempt(lambda: lpips_distance(lpips_net, device)),
    )


@dataclass
class ReferenceSet:
    """The real photos of one disaster type, with their features computed once for every arm.

    Attributes:
        images: ``uint8 (H, W, 3)`` photos.
        features: ``(N, D)`` features, or the reason there are none.
    """

    images: list[np.ndarray]
    features: np.ndarray | str

    @classmethod
    def build(cls, images: Sequence[Any], scorers: Scorers) -> ReferenceSet:
        arrays = as_rgb_list(images, "reference", min_count=0)
        if isinstance(scorers.features, str):
            return cls(arrays, scorers.features)
        return cls(arrays, scorers.features(arrays) if arrays else "no reference photos")


@dataclass
class ArmResult:
    """One evaluated set.

    Attributes:
        cells: metric key -> number or ``"unavailable: …"`` (every key of ``METRICS``).
        n_generated, n_reference: images on each side.
        details: extra numbers (KID std, SSIM pairs, per-image CLIP scores, FID bias warning).
    """

    cells: dict[str, Cell]
    n_generated: int
    n_reference: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"cells": dict(self.cells), "n_generated": self.n_generated, "n_reference": self.n_reference,
                "details": dict(self.details)}


def evaluate_images(
    generated: Sequence[Any],
    prompts: Sequence[str],
    reference: ReferenceSet,
    scorers: Scorers,
    *,
    pair_size: int = DEFAULT_PAIR_SIZE,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    kid_subset_size: int = DEFAULT_KID_SUBSET_SIZE,
    kid_subsets: int = DEFAULT_KID_SUBSETS,
    seed: int = 0,
) -> ArmResult:
    """Every metric of the table for ``generated`` (made from ``prompts``) against ``reference``.

    Args:
        generated: the images of one arm (PIL or ``uint8 (H, W, 3)``).
        prompts: ``prompts[i]`` made ``generated[i]`` (for the CLIP score).
        reference: the real photos (:meth:`ReferenceSet.build`).
        scorers: extractor, CLIP and LPIPS (or their reasons).
        pair_size: SSIM/LPIPS compare both images at ``pair_size`` squared.
        max_pairs: SSIM/LPIPS pairs at most.
        kid_subset_size, kid_subsets: KID's subsets.
        seed: pair and subset draws.

    Returns:
        :class:`ArmResult`: FID and KID need >= 2 images per side, SSIM and LPIPS >= 1 reference.
    """
    # 1. Check inputs
    gen = as_rgb_list(generated, "generated")
    prompts = list(prompts)
    if len(prompts) != len(gen):
        raise ValueError(f"got {len(gen)} generated images but {len(prompts)} prompts")
    n_ref = len(reference.images)
    cells: dict[str, Cell] = {}
    details: dict[str, Any] = {}

    # 2. FID and KID on features
    if isinstance(reference.features, str):
        cells["fid"] = cells["kid"] = unavailable(reference.features)
    elif isinstance(scorers.features, str):
        cells["fid"] = cells["kid"] = unavailable(scorers.features)
    elif len(gen) < 2 or n_ref < 2:
        cells["fid"] = cells["kid"] = unavailable(
            f"needs at least 2 images per side; got {len(gen)} generated, {n_ref} reference")
    else:
        feats = scorers.features(gen)
        cells["fid"] = frechet_distance(feats, reference.features)
        cells["kid"], details["kid_std"] = kernel_distance(
            feats, reference.features, subset_size=kid_subset_size, num_subsets=kid_subsets, seed=seed)
        if min(len(gen), n_ref) < FID_RELIABLE_COUNT:
            details["fid_note"] = (f"biased upwards: {len(gen)} generated vs {n_ref} reference images, "
                                   f"fewer than {FID_RELIABLE_COUNT} per side; compare KID")

    # 3. CLIP score between each image and its prompt
    if isinstance(scorers.clip, str):
        cells["clip_score"] = unavailable(scorers.clip)
    else:
        per_image = clip_scores(scorers.clip, gen, prompts)
        cells["clip_score"] = float(per_image.mean())
        details["clip_per_image"] = [round(float(s), 6) for s in per_image]

    # 4. Pairwise LPIPS and SSIM against the photos
    pair_args = dict(size=pair_size, max_pairs=max_pairs, seed=seed)
    if n_ref == 0:
        cells["lpips"] = cells["ssim"] = unavailable("no reference photos")
    else:
        if isinstance(scorers.lpips, str):
            cells["lpips"] = unavailable(scorers.lpips)
        else:
            cells["lpips"], details["lpips_pairs"] = mean_over_pairs(scorers.lpips, gen, reference.images, **pair_args)
        cells["ssim"], details["ssim_pairs"] = mean_over_pairs(ssim, gen, reference.images, **pair_args)
    return ArmResult(cells={k: cells[k] for k in METRIC_KEYS}, n_generated=len(gen), n_reference=n_ref,
                     details=details)
