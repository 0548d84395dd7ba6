"""The paper's metadata template and a small seed corpus written in its style.

The metadata generator of Won et al. (JBE 29(5), 2024) is an instruction-tuned LLM that, given a
disaster name, writes a one-paragraph description of a disaster photo ("metadata") that Stable
Diffusion then draws. Its training examples look like::

    [INST] Flood [/INST] The image captures a flooded street in a Korean town ...

This module holds that template and a few hand-written examples per disaster type. The examples
serve two purposes: they are the corpus on which the ``tiny`` profile trains its byte-level BPE
tokenizer (so the tokenizer knows the domain words), and they are a fallback training corpus when no
captions were scraped yet.
"""

from __future__ import annotations

from cinema_dag.disasters import DISASTER_KEYS, get_disaster

__all__ = [
    "INSTRUCTION_TEMPLATE",
    "RESPONSE_PREFIX",
    "SEED_METADATA",
    "format_instruction",
    "format_example",
    "seed_corpus",
]

#: The instruction part of one training example; ``{name}`` is the capitalised English disaster name
#: optionally followed by alert keywords.
INSTRUCTION_TEMPLATE = "[INST] {name} [/INST]"

#: Every response in the paper's data starts like this, so generation is primed with it.
RESPONSE_PREFIX = "The image captures"

#: Hand-written metadata per disaster type, in the paper's style (a scene, no people).
SEED_METADATA: dict[str, tuple[str, ...]] = {
    "flood": (
        "The image captures a flooded street in a Korean town after torrential rain, brown water "
        "reaching the doors of shops and submerged cars along the road.",
        "The image captures a muddy river overflowing its banks, the water rushing past a bridge "
        "and covering the fields and a riverside road.",
    ),
    "landslide": (
        "The image captures a collapsed hillside after heavy rain, mud and rocks sliding down onto "
        "a mountain road with broken trees lying across it.",
        "The image captures a debris flow of muddy water and stones pouring down a steep slope "
        "toward a small village at the foot of the mountain.",
    ),
    "drought": (
        "The image captures cracked dry earth at the bottom of a dried reservoir, the water line "
        "far below the old shore under a hazy summer sky.",
        "The image captures a dusty field of withered crops, the soil split into deep cracks and "
        "heat haze shimmering above the ground.",
    ),
    "wildfire": (
        "The image captures a wildfire burning through a pine forest on a mountain ridge, orange "
        "flames and thick grey smoke rising into the sky.",
        "The image captures scorched hills at dusk, smoke drifting over the valley while flames "
        "spread along the dry slope.",
    ),
    "heavy_snow": (
        "The image captures a snow-covered road after heavy snow, cars buried under thick snow and "
        "snowflakes still falling from a grey sky.",
        "The image captures a collapsed greenhouse under the weight of wet snow, the fields white "
        "and heavy snow falling over the farm.",
    ),
    "typhoon": (
        "The image captures huge waves crashing against a harbour wall during a typhoon, storm "
        "clouds racing overhead and trees bent by the wind.",
        "The image captures a coastal town lashed by a typhoon, heavy rain sweeping across the "
        "flooded harbour and the sea white with foam.",
    ),
    "earthquake": (
        "The image captures a collapsed building after an earthquake, rubble and fallen debris "
        "covering the street and dust hanging in the air.",
        "The image captures a cracked road split by an earthquake, broken asphalt and a damaged "
        "wall with a cloud of dust and smoke behind it.",
    ),
}


def format_instruction(disaster: str, keywords: tuple[str, ...] | list[str] = ()) -> str:
    """The instruction for one disaster type, e.g. ``"[INST] Heavy snow, buried cars [/INST]"``.

    Args:
        disaster: a disaster key or name (anything :func:`cinema_dag.disasters.get_disaster` takes).
        keywords: extra words (from an alert, say) appended after the disaster name.
    """
    name = get_disaster(disaster).english.capitalize()
    extra = [k.strip() for k in keywords if k and k.strip()]
    return INSTRUCTION_TEMPLATE.format(name=", ".join([name, *extra]))


def format_example(disaster: str, metadata: str, keywords: tuple[str, ...] | list[str] = ()) -> str:
    """One full training example: instruction, a space, then the metadata text."""
    if not metadata.strip():
        raise ValueError(f"metadata must not be empty; got {metadata!r}")
    return f"{format_instruction(disaster, keywords)} {metadata.strip()}"


def seed_corpus() -> list[str]:
    """Every seed example formatted as a training text, disaster types in ``DISASTER_KEYS`` order."""
    return [format_example(key, text) for key in DISASTER_KEYS for text in SEED_METADATA[key]]
