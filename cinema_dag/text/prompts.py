"""Stable Diffusion prompts from the LLM "metadata generator" (the paper's LoRA-tuned LLM).

The LLM is given the paper's instruction (``[INST] Flood [/INST] The image captures``, with alert
keywords appended to the disaster name) and samples a description of a disaster scene. That text is
cleaned (:func:`clean_prompt`) and put behind a **fixed on-topic prefix** derived from the disaster
type, e.g. ``"a photo of a flood in Korea, flooded street, "``. Why the prefix:

* a random ``tiny`` model writes gibberish, and even a tuned one can drift; the prefix keeps every
  prompt about the right disaster;
* CLIP reads only 77 tokens, so the words that must count come first and survive truncation.

The paper's "Do not include any humans" directive becomes SD's negative prompt
(:data:`NEGATIVE_PROMPT`), and people are also removed from the generated text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from cinema_dag.defaults import DEFAULT_NUM_PROMPTS
from cinema_dag.disasters import get_disaster
from cinema_dag.text.template import RESPONSE_PREFIX, format_instruction

if TYPE_CHECKING:
    from cinema_dag.models.loaded import LoadedLLM

__all__ = [
    "NEGATIVE_PROMPT",
    "PEOPLE_WORDS",
    "GeneratedPrompt",
    "prompt_prefix",
    "clean_prompt",
    "generate_prompts",
]

#: The paper's "Do not include any humans", expressed as an SD negative prompt, plus the usual
#: artefacts a disaster alert image must not show (text, watermarks).
NEGATIVE_PROMPT = (
    "people, person, humans, man, woman, child, crowd, face, body, hands, "
    "text, letters, caption, watermark, logo, signature, "
    "blurry, lowres, jpeg artifacts, deformed, cartoon, drawing"
)

#: Words that mention people; a clause containing one is dropped from the generated metadata.
PEOPLE_WORDS: frozenset[str] = frozenset(
    """
    people person persons human humans man men woman women child children kid kids boy boys girl girls
    baby babies crowd crowds resident residents villager villagers citizen citizens pedestrian
    pedestrians passerby passersby someone somebody everyone anyone family families worker workers
    firefighter firefighters rescuer rescuers soldier soldiers volunteer volunteers driver drivers
    victim victims survivor survivors tourist tourists farmer farmers policeman policemen officer
    officers he she they his her their him them figure figures silhouette silhouettes face faces
    """.split()
)

# Tokens a sampled text must not end with: the paper saw a stray "0" or "α"/"a" at the end.
_TRAILING_JUNK = frozenset({"a", "an", "the", "and", "or", "of", "with", "in", "on", "to", "at", "by", "for", "α"})
# Instruction and special-token markers a model may emit when it starts a new example.
_MARKERS = re.compile(r"\[/?INST\]|</?s>|<unk>|<pad>|<\|[^|>]*\|>|\[(?:PAD|UNK|CLS|SEP|MASK)\]")
_CLAUSE_SPLIT = re.compile(r"(?<=[.,;:!?])\s+")
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class GeneratedPrompt:
    """One SD prompt for one disaster type.

    Attributes:
        disaster: the disaster key (``"flood"``).
        prompt: what SD gets: the fixed prefix, then the cleaned metadata (may be empty).
        negative_prompt: :data:`NEGATIVE_PROMPT`.
        metadata: the cleaned LLM text (``"The image captures ..."``), or ``""`` if nothing survived.
        raw_text: the LLM's sampled continuation, uncleaned (for debugging and metadata).
        seed: the sampling seed of the batch this prompt came from.
        index: position in the batch.
        adapter_used: whether a LoRA adapter was applied to the LLM.
        model_id: the LLM's id (see ``LoadedComponent.model_id``).
    """

    disaster: str
    prompt: str
    negative_prompt: str
    metadata: str
    raw_text: str
    seed: int
    index: int
    adapter_used: bool
    model_id: str

    def to_dict(self) -> dict[str, object]:
        """Every field, JSON-ready (for ``prompts.json``)."""
        return asdict(self)


def prompt_prefix(disaster: str, index: int = 0, keywords: Sequence[str] = ()) -> str:
    """The fixed on-topic start of every prompt, e.g. ``"a photo of a flood in Korea, flooded street"``.

    ``index`` picks one of the type's scene keywords (cycling), so a batch shows different scenes;
    alert ``keywords`` follow it, ASCII ones only: SD's CLIP tokenizer has no Hangul words, so a
    Korean place name would only spend the 77-token budget on byte tokens (the LLM instruction
    still gets every keyword).
    """
    d = get_disaster(disaster)
    scene = d.scene_keywords[index % len(d.scene_keywords)]
    extra = [k.strip() for k in keywords if k and k.strip() and k.isascii()]
    return ", ".join([f"a photo of a {d.english} in Korea", scene, *extra])


def _is_junk(token: str) -> bool:
    word = token.strip(".,;:!?\"'()[]{}-–—…").lower()
    if not word:
        return True
    if word in _TRAILING_JUNK:
        return True
    # Lone characters and anything without a latin letter ("0", "α", "2.") are the stray tokens a
    # sampled text ends with; real words in our prompts are latin.
    return len(word) == 1 or not _WORD.search(word)


def clean_prompt(text: str) -> str:
    """Clean one LLM output into SD-ready metadata.

    In order: cut at the first instruction/special marker (the model began a new example), drop
    control and replacement characters, normalise whitespace, drop every clause (split at ``.,;:!?``)
    that mentions people (:data:`PEOPLE_WORDS`), strip trailing junk tokens (``0``, ``α``, a lone
    ``a``, dangling ``and``/``of``...), and end with a full stop. Returns ``""`` if nothing is left.

    Example:
        >>> clean_prompt("The image captures a flooded street, people wading through water.  0 α")
        'The image captures a flooded street.'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}: {text!r}")
    # 1. Cut at a marker: anything after it is a new, unrelated example.
    marker = _MARKERS.search(text)
    if marker is not None:
        text = text[: marker.start()]
    # 2. Printable characters only (random and byte-level models emit control bytes and U+FFFD).
    text = "".join(
        ch if not unicodedata.category(ch).startswith("C") else " " for ch in text if ch != "\ufffd"
    )
    text = " ".join(text.split())
    # 3. Drop clauses about people.
    clauses = [c for c in _CLAUSE_SPLIT.split(text) if c]
    kept = [c for c in clauses if not any(w.lower() in PEOPLE_WORDS for w in _WORD.findall(c))]
    text = " ".join(kept)
    # 4. Strip trailing junk tokens, then trailing clause punctuation.
    tokens = text.split()
    while tokens and _is_junk(tokens[-1]):
        tokens.pop()
    text = " ".join(tokens).rstrip(" ,;:-–—")
    if not text:
        return ""
    return text if text.endswith((".", "!", "?")) else text + "."


def _setting(llm: LoadedLLM, name: str, value: float | None) -> float:
    """``value``, else the profile's default for ``name`` (the profile is the one place it is defined)."""
    if value is not None:
        return value
    if name not in llm.defaults:
        raise ValueError(f"`{name}` was not given and the {llm.profile!r} profile's llm ({llm.model_id}) has no "
                         f"default for it; pass it or add it to the profile (cinema_dag.models.profiles)")
    return llm.defaults[name]


def generate_prompts(
    llm: LoadedLLM,
    disaster_key: str,
    *,
    keywords: Sequence[str] = (),
    num_prompts: int = DEFAULT_NUM_PROMPTS,
    seed: int = 0,
    max_new_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    adapter_path: str | Path | None = None,
) -> list[GeneratedPrompt]:
    """Sample ``num_prompts`` SD prompts for a disaster type from the metadata LLM.

    Args:
        llm: a loaded ``llm`` component.
        disaster_key: a disaster key or name (``"flood"``, ``"홍수"``...).
        keywords: alert keywords appended to the instruction and to the prompt prefix.
        num_prompts: how many prompts (:data:`~cinema_dag.defaults.DEFAULT_NUM_PROMPTS`).
        seed: sampling seed; the same seed, model and arguments give the same prompts. The global
            torch RNG is left as it was.
        max_new_tokens / temperature / top_p: sampling settings; ``None`` takes the profile's
            (``llm.defaults``, :mod:`cinema_dag.models.profiles`), the only place they are defined.
        adapter_path: an adapter folder written by :func:`cinema_dag.text.lora.train_lora`, applied
            for this call only (the loaded model is restored); loaded by
            :func:`~cinema_dag.text.lora.load_adapter`, which checks it is complete and was trained
            on a base model of this shape.

    Returns:
        ``num_prompts`` :class:`GeneratedPrompt`, each ``prompt`` starting with
        :func:`prompt_prefix` (``index`` = position).

    Raises:
        FileNotFoundError: ``adapter_path`` is not a complete adapter folder.
        ValueError: a bad argument, a sampling setting neither given nor in the profile, or an
            adapter trained on a base model of another shape.
    """
    # 1. Check inputs
    disaster = get_disaster(disaster_key)
    if num_prompts < 1:
        raise ValueError(f"`num_prompts` must be >= 1 but is {num_prompts}")
    max_new_tokens = int(_setting(llm, "max_new_tokens", max_new_tokens))
    temperature = float(_setting(llm, "temperature", temperature))
    top_p = float(_setting(llm, "top_p", top_p))
    if max_new_tokens < 1:
        raise ValueError(f"`max_new_tokens` must be >= 1 but is {max_new_tokens}")
    if not (temperature > 0 and 0 < top_p <= 1):
        raise ValueError(f"need temperature > 0 and 0 < top_p <= 1; got {temperature} and {top_p}")
    keywords = [k.strip() for k in keywords if k and k.strip()]

    # 2. Build the paper's instruction, primed with the start of every response
    instruction = f"{format_instruction(disaster.key, keywords)} {RESPONSE_PREFIX}"
    tokenizer = llm.tokenizer
    inputs = tokenizer([instruction], return_tensors="pt", return_token_type_ids=False).to(llm.device)
    prompt_len = inputs["input_ids"].shape[1]

    # 3. Sample (optionally through the adapter), seeded without touching the global RNG
    model = llm.model
    peft_model = None
    if adapter_path is not None:
        from cinema_dag.text.lora import load_adapter  # noqa: PLC0415 - peft loads only with an adapter

        peft_model = load_adapter(model, adapter_path)
    try:
        generator_model = peft_model if peft_model is not None else model
        devices = [llm.device] if llm.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            out = generator_model.generate(
                **inputs,
                do_sample=True,
                temperature=temperature,
                top_p=top_p,
                max_new_tokens=max_new_tokens,
                num_return_sequences=num_prompts,
                pad_token_id=tokenizer.pad_token_id,
            )
    finally:
        if peft_model is not None:
            # PeftModel injects LoRA layers into the shared base model in place; take them out so
            # the cached model is the plain base model again for the next call.
            peft_model.unload()
    raw_texts = tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=True)

    # 4. Clean and prefix
    results = []
    for i, raw in enumerate(raw_texts):
        metadata = clean_prompt(f"{RESPONSE_PREFIX} {raw.strip()}")
        if metadata.rstrip(".") == RESPONSE_PREFIX:
            metadata = ""  # nothing but the priming words survived cleaning
        prefix = prompt_prefix(disaster.key, i, keywords)
        results.append(
            GeneratedPrompt(
                disaster=disaster.key,
                prompt=f"{prefix}, {metadata}" if metadata else prefix,
                negative_prompt=NEGATIVE_PROMPT,
                metadata=metadata,
                raw_text=raw,
                seed=seed,
                index=i,
                adapter_used=peft_model is not None,
                model_id=llm.model_id,
            )
        )
    return results
