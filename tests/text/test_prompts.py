"""Prompt generation: cleaning, the on-topic prefix, seeded sampling, LoRA adapters."""

from __future__ import annotations

import json

import pytest
import torch

from cinema_dag.disasters import DISASTER_KEYS
from cinema_dag.models import load_component
from cinema_dag.text.lora import TRAINING_CONFIG, model_fingerprint
from cinema_dag.text.prompts import NEGATIVE_PROMPT, clean_prompt, generate_prompts, prompt_prefix
from cinema_dag.text.template import format_example, format_instruction, seed_corpus


@pytest.fixture(scope="module")
def llm(tiny_cache):
    return load_component("llm", cache_dir=tiny_cache)


class TestTemplate:
    def test_instruction(self):
        assert format_instruction("flood") == "[INST] Flood [/INST]"
        assert format_instruction("대설", ["buried cars"]) == "[INST] Heavy snow, buried cars [/INST]"

    def test_seed_corpus_covers_every_type(self):
        corpus = seed_corpus()
        for key in DISASTER_KEYS:
            assert any(text.startswith(format_instruction(key) + " The image captures") for text in corpus), key
        with pytest.raises(ValueError, match="''"):
            format_example("flood", "")


class TestCleanPrompt:
    @pytest.mark.parametrize(
        "raw, expected",
        [
            ("The image captures a flooded street 0", "The image captures a flooded street."),
            ("The image captures a burning forest α", "The image captures a burning forest."),
            ("The image captures a muddy river and a", "The image captures a muddy river."),
            ("The image captures smoke over hills. 0 α a", "The image captures smoke over hills."),
            ("The  image\n captures\t snow\x07 on cars", "The image captures snow on cars."),
        ],
    )
    def test_trailing_junk_and_whitespace(self, raw, expected):
        assert clean_prompt(raw) == expected

    def test_removes_people(self):
        text = "The image captures a flooded street, residents wading through water, cars submerged. A man waves"
        cleaned = clean_prompt(text)
        assert cleaned == "The image captures a flooded street, cars submerged."
        for word in ("residents", "man", "wading"):
            assert word not in cleaned.split()

    def test_cuts_at_new_example(self):
        assert clean_prompt("The image captures rubble. [INST] Flood [/INST] The image") == "The image captures rubble."
        assert clean_prompt("Snow falls</s>junk") == "Snow falls."

    def test_empty(self):
        assert clean_prompt("0 α a") == ""
        assert clean_prompt("People everywhere") == ""
        with pytest.raises(TypeError, match="None"):
            clean_prompt(None)


class TestGeneratePrompts:
    def test_shape_and_prefix(self, llm):
        prompts = generate_prompts(llm, "flood", num_prompts=3, seed=0, max_new_tokens=12)
        assert len(prompts) == 3
        for i, p in enumerate(prompts):
            assert p.prompt.startswith(prompt_prefix("flood", i))
            assert p.prompt.startswith("a photo of a flood in Korea, ")
            assert p.negative_prompt == NEGATIVE_PROMPT and "people" in p.negative_prompt
            assert p.disaster == "flood" and p.index == i and p.seed == 0
            assert p.model_id == "cinema-dag/tiny-llm" and p.adapter_used is False
            assert p.metadata == "" or p.metadata.startswith("The image captures")
            assert p.prompt.isprintable()
        assert len({p.prompt.split(",")[1] for p in prompts}) == 3, "each index uses another scene keyword"

    def test_to_dict_is_json_ready(self, llm):
        import json

        record = generate_prompts(llm, "drought", num_prompts=1, max_new_tokens=4)[0].to_dict()
        assert json.loads(json.dumps(record)) == record
        assert {"prompt", "negative_prompt", "metadata", "raw_text", "adapter_used", "model_id"} <= set(record)

    def test_deterministic_for_a_seed(self, llm):
        state = torch.random.get_rng_state()
        a = generate_prompts(llm, "wildfire", num_prompts=2, seed=7, max_new_tokens=16)
        b = generate_prompts(llm, "wildfire", num_prompts=2, seed=7, max_new_tokens=16)
        c = generate_prompts(llm, "wildfire", num_prompts=2, seed=8, max_new_tokens=16)
        assert a == b
        assert [p.raw_text for p in a] != [p.raw_text for p in c]
        assert torch.equal(state, torch.random.get_rng_state()), "the global RNG must not change"

    def test_keywords(self, llm):
        prompts = generate_prompts(llm, "heavy_snow", keywords=["Gangwon", "강원"], num_prompts=1, max_new_tokens=4)
        assert prompts[0].prompt.startswith("a photo of a heavy snow in Korea, snow-covered road, Gangwon")
        assert "강원" not in prompts[0].prompt  # Hangul stays out of the CLIP prompt

    def test_sampling_settings_come_from_the_profile_without_a_fallback_of_their_own(self, llm):
        import dataclasses

        by_profile = generate_prompts(llm, "flood", num_prompts=1, seed=3)
        explicit = generate_prompts(llm, "flood", num_prompts=1, seed=3, **dict(llm.defaults))
        assert by_profile == explicit
        without = dataclasses.replace(llm, defaults={k: v for k, v in llm.defaults.items() if k != "top_p"})
        with pytest.raises(ValueError, match="`top_p` was not given and the 'tiny' profile's llm"):
            generate_prompts(without, "flood", num_prompts=1)
        assert generate_prompts(without, "flood", num_prompts=1, seed=3, top_p=llm.defaults["top_p"]) == by_profile

    def test_bad_inputs(self, llm):
        with pytest.raises(ValueError, match="'volcano'"):
            generate_prompts(llm, "volcano")
        with pytest.raises(ValueError, match="0"):
            generate_prompts(llm, "flood", num_prompts=0)

    def test_adapter(self, llm, tiny_cache, tmp_path):
        from peft import LoraConfig, get_peft_model

        # A separate copy of the base model, so making the adapter does not touch `llm`.
        base = load_component("llm", cache_dir=tiny_cache).model
        config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                            task_type="CAUSAL_LM")
        get_peft_model(base, config).save_pretrained(tmp_path / "adapter")
        training_config(tmp_path / "adapter", model_fingerprint(base))

        plain = generate_prompts(llm, "flood", num_prompts=2, seed=3, max_new_tokens=16)
        tuned = generate_prompts(
            llm, "flood", num_prompts=2, seed=3, max_new_tokens=16, adapter_path=tmp_path / "adapter"
        )
        assert all(p.adapter_used for p in tuned)
        assert [p.raw_text for p in tuned] != [p.raw_text for p in plain]
        # The shared model is restored: no LoRA layers left, same prompts as before.
        assert not any("lora" in name for name, _ in llm.model.named_modules())
        assert generate_prompts(llm, "flood", num_prompts=2, seed=3, max_new_tokens=16) == plain

    def test_missing_adapter(self, llm, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"adapter_config\.json"):
            generate_prompts(llm, "flood", adapter_path=tmp_path)

    def test_adapter_of_another_base_model_is_refused(self, llm, tiny_cache, tmp_path):
        from peft import LoraConfig, get_peft_model

        base = load_component("llm", cache_dir=tiny_cache).model
        get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
                       ).save_pretrained(tmp_path / "adapter")
        training_config(tmp_path / "adapter", {**model_fingerprint(base), "hidden_size": 4096})
        with pytest.raises(ValueError, match="hidden_size"):
            generate_prompts(llm, "flood", num_prompts=1, max_new_tokens=4, adapter_path=tmp_path / "adapter")
        assert not any("lora" in name for name, _ in llm.model.named_modules())


def training_config(adapter_dir, fingerprint):
    """The file train_lora writes beside the peft files, with the base model's fingerprint."""
    (adapter_dir / TRAINING_CONFIG).write_text(
        json.dumps({"base_model_id": "test", "base_model_fingerprint": fingerprint})
    )
