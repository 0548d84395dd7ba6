"""Captions dataset and the instruction corpus that teaches the LLM to write disaster metadata.

The paper (Won et al., JBE 29(5), 2024, §III.2) captions real Korean disaster photos with BLIP and
fine-tunes LLaMA-2 on that "metadata" so that ``[INST] Flood [/INST]`` is answered with a scene
description in a fixed template (scene, time of day, lighting, mood, objects). This module turns
caption rows into such examples, deterministically:

1. :func:`build_captions_dataset`: caption rows → a ``datasets.Dataset`` with a fixed schema.
2. :func:`caption_to_metadata`: one caption + disaster type → one metadata paragraph.
3. :func:`build_prompt_corpus`: rows → de-duplicated examples, split train/held-out by a content
   hash (an example's split depends on its own text only, so it never moves between runs), with a
   ``data_version`` that is the hash of the whole corpus.
4. :func:`save_corpus` / :func:`load_corpus`: a ``datasets.DatasetDict`` on disk, written atomically.

Convention:
    Corpus columns: ``example_id`` (16 hex of the text's SHA-256), ``disaster_type`` (key),
    ``prompt`` (``"[INST] Flood [/INST]"``), ``response`` (``"The image captures …"``), ``text``
    (``prompt + " " + response``, exactly :func:`cinema_dag.text.template.format_example`),
    ``image_path`` and ``source_page`` (provenance of the first row that produced it; empty for
    seed examples). Splits: ``"train"`` and ``"held_out"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from cinema_dag.atomic import atomic_dir, atomic_write_json
from cinema_dag.defaults import DEFAULT_HELD_OUT_FRACTION, DEFAULT_INCLUDE_SEED
from cinema_dag.disasters import DISASTER_KEYS, get_disaster
from cinema_dag.text.template import RESPONSE_PREFIX, SEED_METADATA, format_example, format_instruction

__all__ = [
    "CAPTION_COLUMNS",
    "CORPUS_COLUMNS",
    "TRAIN_SPLIT",
    "HELD_OUT_SPLIT",
    "CaptionRow",
    "PromptCorpus",
    "build_captions_dataset",
    "save_captions_dataset",
    "load_captions_dataset",
    "clean_caption",
    "caption_to_metadata",
    "build_prompt_corpus",
    "corpus_data_version",
    "save_corpus",
    "load_corpus",
]

#: Columns of the captions dataset, in order; every value is a string.
CAPTION_COLUMNS: tuple[str, ...] = (
    "image_path",
    "caption",
    "disaster_type",
    "source_page",
    "image_url",
    "licence",
)

#: Columns of each split of the prompt corpus, in order; every value is a string.
CORPUS_COLUMNS: tuple[str, ...] = (
    "example_id",
    "disaster_type",
    "prompt",
    "response",
    "text",
    "image_path",
    "source_page",
)

TRAIN_SPLIT = "train"
HELD_OUT_SPLIT = "held_out"
_META_FILE = "corpus_meta.json"

_CAPTION_FEATURES = datasets.Features({c: datasets.Value("string") for c in CAPTION_COLUMNS})
_CORPUS_FEATURES = datasets.Features({c: datasets.Value("string") for c in CORPUS_COLUMNS})


@dataclass(frozen=True)
class CaptionRow:
    """One captioned photo.

    Attributes:
        image_path: where the image file is (relative to the artefact store or absolute).
        caption: the captioner's text, e.g. ``"a flooded street with cars in the water"``.
        disaster_type: a disaster key or name; normalised to the key.
        source_page: the web page the image was found on.
        image_url: the image's own URL.
        licence: the licence or terms under which it was collected.
    """

    image_path: str
    caption: str
    disaster_type: str
    source_page: str = ""
    image_url: str = ""
    licence: str = ""


@dataclass(frozen=True)
class PromptCorpus:
    """The instruction corpus: a ``DatasetDict`` with ``train`` and ``held_out`` splits.

    Attributes:
        dataset: the splits, columns :data:`CORPUS_COLUMNS`.
        data_version: 16 hex characters identifying the content (texts and split assignment).
        skipped: rows that produced no example (caption empty after cleaning).
        duplicates: rows whose example was already produced by an earlier row.
    """

    dataset: datasets.DatasetDict
    data_version: str
    skipped: int = 0
    duplicates: int = 0

    @property
    def train(self) -> datasets.Dataset:
        return self.dataset[TRAIN_SPLIT]

    @property
    def held_out(self) -> datasets.Dataset:
        return self.dataset[HELD_OUT_SPLIT]

    def __len__(self) -> int:
        return len(self.train) + len(self.held_out)

    def counts(self) -> dict[str, int]:
        """Examples per split and per disaster type, for logs and asset metadata."""
        out = {TRAIN_SPLIT: len(self.train), HELD_OUT_SPLIT: len(self.held_out)}
        for key in DISASTER_KEYS:
            n = sum(1 for split in self.dataset.values() for d in split["disaster_type"] if d == key)
            if n:
                out[key] = n
        return out


# --------------------------------------------------------------------------------------------
# Captions dataset


def _as_row(row: CaptionRow | Mapping[str, Any], index: int) -> dict[str, str]:
    """Validate one caption row and return it as a dict of strings with the disaster key."""
    data = row.__dict__ if isinstance(row, CaptionRow) else dict(row)
    missing = [c for c in ("image_path", "caption", "disaster_type") if not data.get(c)]
    if missing:
        raise ValueError(f"caption row {index} lacks {missing}: {data!r}")
    unknown = sorted(set(data) - set(CAPTION_COLUMNS))
    if unknown:
        raise ValueError(f"caption row {index} has unknown fields {unknown}; allowed: {CAPTION_COLUMNS}")
    out = {c: str(data.get(c) or "") for c in CAPTION_COLUMNS}
    out["disaster_type"] = get_disaster(out["disaster_type"]).key
    return out


def build_captions_dataset(rows: Iterable[CaptionRow | Mapping[str, Any]]) -> datasets.Dataset:
    """Caption rows as a ``datasets.Dataset`` with the fixed string schema :data:`CAPTION_COLUMNS`.

    Args:
        rows: :class:`CaptionRow` objects or mappings with the same field names; ``image_path``,
            ``caption`` and ``disaster_type`` are required, the others default to ``""``.

    Returns:
        a dataset of ``len(rows)`` rows in the given order, ``disaster_type`` normalised to the key.

    Raises:
        ValueError: a row lacks a required field or has an unknown one.
        UnknownDisasterTypeError: a row names no known disaster type.
    """
    records = [_as_row(r, i) for i, r in enumerate(rows)]
    # from_dict, not from_list: an empty list would lose the schema.
    return datasets.Dataset.from_dict({c: [r[c] for r in records] for c in CAPTION_COLUMNS}, features=_CAPTION_FEATURES)


def save_captions_dataset(dataset: datasets.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` with ``save_to_disk`` to ``path`` atomically (temp dir, then rename)."""
    if tuple(dataset.column_names) != CAPTION_COLUMNS:
        raise ValueError(f"captions dataset columns must be {CAPTION_COLUMNS}; got {dataset.column_names}")
    # An empty dataset must still get one shard, or load_from_disk fails on it.
    shards = 1 if len(dataset) == 0 else None
    with atomic_dir(path) as tmp:
        dataset.save_to_disk(str(tmp), num_shards=shards)
    return Path(path)


def load_captions_dataset(path: str | os.PathLike[str]) -> datasets.Dataset:
    """Read a captions dataset written by :func:`save_captions_dataset` and check its schema."""
    ds = datasets.load_from_disk(str(path))
    if not isinstance(ds, datasets.Dataset) or tuple(ds.column_names) != CAPTION_COLUMNS:
        raise ValueError(f"{path} is not a captions dataset (columns {CAPTION_COLUMNS})")
    return ds


# --------------------------------------------------------------------------------------------
# Caption → metadata

# BLIP's well-known artefacts ("arafed", "araffe" …) and framing phrases that say nothing about the scene.
_ARTEFACT = re.compile(r"\b(?:araf+e?d?|araf+(?:e|y)?|arafly)\b")
_FRAMING = re.compile(
    r"^(?:(?:there (?:is|are)|this is|it is|here is|"
    r"(?:an? |the )?(?:close up |aerial |blurry )?(?:image|picture|photo|photograph|view|shot) of)\s+)+"
)
_REPEAT = re.compile(r"\b(\w+)(?:\s+\1\b)+")

# (phrase, words) in priority order: the first slot whose word occurs earliest in the caption wins.
_SCENES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("a coastal town", ("sea", "ocean", "beach", "coast", "harbor", "harbour", "port", "pier", "waves", "boat",
                        "boats")),
    ("a riverside", ("river", "stream", "riverbank", "bridge", "creek", "dam")),
    ("a mountain forest", ("forest", "mountain", "mountains", "hill", "hills", "hillside", "slope", "woods", "pine",
                           "ridge", "valley")),
    ("a rural area", ("farm", "field", "fields", "rural", "greenhouse", "crops", "paddy", "village", "orchard",
                      "reservoir")),
    ("a residential area", ("house", "houses", "home", "homes", "apartment", "apartments", "neighborhood",
                            "neighbourhood")),
    ("a city street", ("street", "road", "city", "town", "downtown", "building", "buildings", "highway", "alley",
                       "parking", "sidewalk")),
)
_TIMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("at night", ("night", "nighttime", "dark")),
    ("at dusk", ("dusk", "sunset", "evening", "twilight")),
    ("at dawn", ("dawn", "sunrise")),
    ("in the morning", ("morning",)),
    ("in the daytime", ("day", "daytime", "sunny", "afternoon", "noon")),
)
_LIGHTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("an orange glow from the flames", ("fire", "flames", "flame", "burning", "blaze")),
    ("dim light through the smoke", ("smoke", "smoky", "haze", "hazy")),
    ("dim light under dark storm clouds", ("storm", "stormy", "clouds", "cloudy", "overcast", "rain", "rainy")),
    ("cold, flat light reflected by the snow", ("snow", "snowy", "snowing", "ice", "icy")),
    ("harsh, bright sunlight", ("sunny", "sun", "sunlight", "bright", "dry")),
    ("darkness with artificial lights", ("night", "lights", "dark")),
)
# Lighting when the caption names none: what such a scene usually looks like.
_DEFAULT_LIGHT: dict[str, str] = {
    "flood": "dim light under an overcast sky",
    "landslide": "dim light under an overcast sky",
    "drought": "harsh, bright sunlight",
    "wildfire": "an orange glow from the flames",
    "heavy_snow": "cold, flat light reflected by the snow",
    "typhoon": "dim light under dark storm clouds",
    "earthquake": "dusty, diffuse daylight",
}
_MOOD: dict[str, str] = {
    "flood": "tense and somber",
    "landslide": "grim and unsettling",
    "drought": "desolate and oppressive",
    "wildfire": "urgent and dangerous",
    "heavy_snow": "quiet and isolating",
    "typhoon": "violent and chaotic",
    "earthquake": "devastated and still",
}
# Default scene when the caption names none, by disaster type.
_DEFAULT_SCENE: dict[str, str] = {
    "flood": "a city street",
    "landslide": "a mountain forest",
    "drought": "a rural area",
    "wildfire": "a mountain forest",
    "heavy_snow": "a rural area",
    "typhoon": "a coastal town",
    "earthquake": "a city street",
}
_OBJECTS: tuple[str, ...] = (
    "car", "cars", "truck", "trucks", "bus", "boat", "boats", "house", "houses", "building", "buildings",
    "bridge", "road", "roads", "street", "river", "water", "tree", "trees", "rocks", "rock", "mud",
    "debris", "rubble", "wall", "roof", "roofs", "greenhouse", "field", "fields", "crops", "smoke",
    "flames", "fire", "snow", "waves", "clouds", "sky", "hill", "hillside", "mountain", "forest",
    "reservoir", "sea", "ground", "earth", "fence", "pole", "poles", "power lines", "signs", "sign",
)
_MAX_OBJECTS = 4


def clean_caption(caption: str) -> str:
    """A captioner's text without artefacts and framing, lower-case, single-spaced, no final stop.

    Example:
        >>> clean_caption("There is arafed a a flooded street with cars. ")
        'a flooded street with cars'
    """
    text = caption.strip().lower()
    text = _ARTEFACT.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _FRAMING.sub("", text)
    text = _REPEAT.sub(r"\1", text)
    return text.strip(" .,;:!?")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:-[a-z]+)*", text)


def _earliest(words: list[str], table: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    """The phrase of ``table`` whose keyword occurs first in ``words`` (ties: table order)."""
    best: tuple[int, int, str] | None = None
    for rank, (phrase, keys) in enumerate(table):
        positions = [i for i, w in enumerate(words) if w in keys]
        if positions and (best is None or (positions[0], rank) < best[:2]):
            best = (positions[0], rank, phrase)
    return None if best is None else best[2]


def _objects(text: str) -> list[str]:
    """Object words in caption order, plurals preferred over a singular already seen, at most 4."""
    found: list[tuple[int, str]] = []
    for obj in _OBJECTS:
        m = re.search(rf"\b{re.escape(obj)}\b", text)
        if m:
            found.append((m.start(), obj))
    out: list[str] = []
    for _, obj in sorted(found):
        stem = obj.rstrip("s")
        if any(o.rstrip("s") == stem for o in out):
            continue
        out.append(obj)
    return out[:_MAX_OBJECTS]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def caption_to_metadata(caption: str, disaster_type: str) -> str:
    """One metadata paragraph in the paper's template, derived from a caption.

    The caption gives the subject, and, where it names them, the scene, time of day, lighting and
    objects; the disaster type fills the scene and lighting it leaves open and sets the mood.

    Args:
        caption: the captioner's text (raw; it is cleaned here).
        disaster_type: a disaster key or name.

    Returns:
        text that starts with ``RESPONSE_PREFIX`` (``"The image captures"``).

    Raises:
        ValueError: the caption is empty after cleaning.

    Example:
        >>> caption_to_metadata("a flooded street with cars at night", "flood")  # doctest: +NORMALIZE_WHITESPACE
        'The image captures a flooded street with cars at night during a flood. The scene is set in
        a city street. The lighting is darkness with artificial lights. The mood of the
        image is tense and somber. Objects in the image: street and cars.'
    """
    disaster = get_disaster(disaster_type)
    subject = clean_caption(caption)
    if not subject:
        raise ValueError(f"caption {caption!r} is empty after cleaning")
    words = _words(subject)
    scene = _earliest(words, _SCENES) or _DEFAULT_SCENE[disaster.key]
    time = _earliest(words, _TIMES)
    light = _earliest(words, _LIGHTS) or _DEFAULT_LIGHT[disaster.key]
    objects = _objects(subject)

    english_words = disaster.english.split()
    article = "an" if disaster.english[0] in "aeiou" else "a"
    during = "" if all(w in words for w in english_words) else f" during {article} {disaster.english}"
    parts = [
        f"{RESPONSE_PREFIX} {subject}{during}.",
        f"The scene is set in {scene}{' ' + time if time and time not in subject else ''}.",
        f"The lighting is {light}.",
        f"The mood of the image is {_MOOD[disaster.key]}.",
    ]
    if objects:
        parts.append(f"Objects in the image: {_join(objects)}.")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# Prompt corpus


def _example_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _bucket(example_id: str) -> float:
    """A uniform number in [0, 1) fixed by the example's content (its split never changes)."""
    return int(example_id, 16) / 16**16


def corpus_data_version(dataset: datasets.DatasetDict) -> str:
    """16 hex of the SHA-256 over the sorted ``(split, text)`` pairs: order-independent."""
    pairs = sorted((split, t) for split in (TRAIN_SPLIT, HELD_OUT_SPLIT) for t in dataset[split]["text"])
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def build_prompt_corpus(
    rows: Iterable[CaptionRow | Mapping[str, Any]] | datasets.Dataset,
    *,
    held_out_fraction: float = DEFAULT_HELD_OUT_FRACTION,
    include_seed: bool = DEFAULT_INCLUDE_SEED,
) -> PromptCorpus:
    """Instruction examples from caption rows, de-duplicated and split train/held-out.

    Args:
        rows: caption rows (see :func:`build_captions_dataset`) or a captions dataset.
        held_out_fraction: share of examples held out, in [0, 1); an example is held out when the
            hash of its text falls below it.
        include_seed: also add the hand-written examples of :mod:`cinema_dag.text.template`
            (so the corpus covers every type even before anything was scraped).

    Returns:
        a :class:`PromptCorpus`. With two or more examples, at least one is held out and at least
        one is trained on (the lowest / highest hash moves if the fraction gave none).

    Raises:
        ValueError: ``held_out_fraction`` outside [0, 1), or no example at all.
    """
    # 1. Check inputs
    if not 0.0 <= held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in [0, 1); got {held_out_fraction!r}")

    # 2. Rows → examples, first occurrence wins
    examples: dict[str, dict[str, str]] = {}
    skipped = duplicates = 0

    def add(disaster: str, metadata: str, image_path: str, source_page: str) -> None:
        nonlocal duplicates
        text = format_example(disaster, metadata)
        eid = _example_id(text)
        if eid in examples:
            duplicates += 1
            return
        examples[eid] = {
            "example_id": eid,
            "disaster_type": disaster,
            "prompt": format_instruction(disaster),
            "response": metadata,
            "text": text,
            "image_path": image_path,
            "source_page": source_page,
        }

    for i, raw in enumerate(rows):
        row = _as_row(raw, i)
        if not clean_caption(row["caption"]):
            skipped += 1
            continue
        metadata = caption_to_metadata(row["caption"], row["disaster_type"])
        add(row["disaster_type"], metadata, row["image_path"], row["source_page"])
    if include_seed:
        for key in DISASTER_KEYS:
            for metadata in SEED_METADATA[key]:
                add(key, metadata, "", "")
    if not examples:
        raise ValueError(f"no examples: every one of the {skipped} rows had an empty caption")

    # 3. Split by content hash; order by id so the stored order does not depend on row order
    ordered = sorted(examples.values(), key=lambda e: e["example_id"])
    held = [e for e in ordered if _bucket(e["example_id"]) < held_out_fraction]
    train = [e for e in ordered if _bucket(e["example_id"]) >= held_out_fraction]
    if len(ordered) >= 2 and not held:
        held, train = train[:1], train[1:]
    if len(ordered) >= 2 and not train:
        held, train = held[:-1], held[-1:]

    dataset = datasets.DatasetDict({TRAIN_SPLIT: _corpus_split(train), HELD_OUT_SPLIT: _corpus_split(held)})
    return PromptCorpus(dataset, corpus_data_version(dataset), skipped=skipped, duplicates=duplicates)


def _corpus_split(examples: list[dict[str, str]]) -> datasets.Dataset:
    # from_dict, not from_list: an empty list would lose the schema.
    return datasets.Dataset.from_dict({c: [e[c] for e in examples] for c in CORPUS_COLUMNS}, features=_CORPUS_FEATURES)


def save_corpus(corpus: PromptCorpus, path: str | os.PathLike[str]) -> Path:
    """Write the corpus (``DatasetDict.save_to_disk`` + ``corpus_meta.json``) atomically to ``path``."""

    meta = {
        "data_version": corpus.data_version,
        "counts": corpus.counts(),
        "skipped": corpus.skipped,
        "duplicates": corpus.duplicates,
    }
    with atomic_dir(path) as tmp:
        # One shard per split (a corpus is small), which also keeps an empty held-out split loadable.
        corpus.dataset.save_to_disk(str(tmp), num_shards={name: 1 for name in corpus.dataset})
        atomic_write_json(tmp / _META_FILE, meta)  # last: load_corpus needs it
    return Path(path)


def load_corpus(path: str | os.PathLike[str]) -> PromptCorpus:
    """Read a corpus written by :func:`save_corpus`, checking its splits and ``data_version``.

    Raises:
        FileNotFoundError: ``path`` has no ``corpus_meta.json`` (not a corpus, or not complete).
        ValueError: the splits or columns are wrong, or the content does not match the stored version.
    """
    meta_path = Path(path, _META_FILE)
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} is not a prompt corpus: {_META_FILE} is missing")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    dataset = datasets.load_from_disk(str(path))
    if not isinstance(dataset, datasets.DatasetDict) or set(dataset) != {TRAIN_SPLIT, HELD_OUT_SPLIT}:
        raise ValueError(f"{path}: expected splits {[TRAIN_SPLIT, HELD_OUT_SPLIT]}")
    for name, split in dataset.items():
        if tuple(split.column_names) != CORPUS_COLUMNS:
            raise ValueError(f"{path}: split {name!r} has columns {split.column_names}, expected {CORPUS_COLUMNS}")
    version = corpus_data_version(dataset)
    if version != meta["data_version"]:
        raise ValueError(f"{path}: content hashes to {version!r} but {_META_FILE} says {meta['data_version']!r}")
    return PromptCorpus(dataset, version, skipped=meta.get("skipped", 0), duplicates=meta.get("duplicates", 0))
