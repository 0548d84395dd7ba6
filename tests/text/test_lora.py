"""LoRA training of the prompt generator on the tiny profile's LLM (random weights, CPU, seconds)."""

from __future__ import annotations

import json
import math
import time

import pytest
import torch

from cinema_dag.models import load_component
from cinema_dag.text.corpus import CaptionRow, build_prompt_corpus
from cinema_dag.text.lora import (
    ADAPTER_FILES,
    IGNORE_INDEX,
    TRAINING_CONFIG,
    apply_lora,
    collate,
    held_out_loss,
    latest_adapter,
    load_adapter,
    tokenize_example,
    train_lora,
)
from cinema_dag.text.template import format_instruction

CAPTIONS = [
    ("a flooded street with cars", "flood"),
    ("a river overflowing a bridge", "flood"),
    ("a burning forest with smoke", "wildfire"),
    ("flames on a hill at night", "wildfire"),
    ("a snow covered road with cars", "heavy_snow"),
    ("a collapsed greenhouse in snow", "heavy_snow"),
    ("huge waves hitting a harbor", "typhoon"),
    ("a collapsed building with rubble", "earthquake"),
    ("a cracked dry field", "drought"),
    ("mud and rocks on a road", "landslide"),
]
STEPS = 30


@pytest.fixture(scope="module")
def corpus():
    rows = [CaptionRow(f"{i}.jpg", c, d) for i, (c, d) in enumerate(CAPTIONS)]
    return build_prompt_corpus(rows, include_seed=True, held_out_fraction=0.2)


def _llm(cache):
    return load_component("llm", profile="tiny", cache_dir=cache)


@pytest.fixture(scope="module")
def trained(tiny_cache, corpus, tmp_path_factory):
    """One training run shared by the tests that inspect its result."""
    llm = _llm(tiny_cache)
    before = {k: v.clone() for k, v in llm.model.state_dict().items()}
    rng_before = torch.random.get_rng_state()
    logs: list[tuple[int, float, float]] = []
    out = tmp_path_factory.mktemp("adapters") / "run-1"
    result = train_lora(
        llm, corpus, adapter_dir=out, lr=3e-2, max_steps=STEPS, batch_size=4, max_length=96, seed=0,
        log_every=10, on_log=lambda *a: logs.append(a),
    )
    return {"llm": llm, "result": result, "logs": logs, "before": before, "rng_before": rng_before}


class TestTokenize:
    def test_labels_only_on_response(self, tiny_cache):
        tok = _llm(tiny_cache).tokenizer
        prompt = format_instruction("flood")
        ex = tokenize_example(tok, prompt, f"{prompt} The image captures water.", max_length=64)
        n_prompt = len(tok(prompt)["input_ids"])
        assert ex["input_ids"][0] == tok.bos_token_id and ex["input_ids"][-1] == tok.eos_token_id
        assert ex["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
        assert ex["labels"][n_prompt:] == ex["input_ids"][n_prompt:]
        assert tok.decode(ex["labels"][n_prompt:], skip_special_tokens=True).strip() == "The image captures water."

    def test_truncation_and_guards(self, tiny_cache):
        tok = _llm(tiny_cache).tokenizer
        prompt = format_instruction("flood")
        n_prompt = len(tok(prompt)["input_ids"])
        ex = tokenize_example(tok, prompt, f"{prompt} The image captures a very long text.", max_length=n_prompt + 2)
        assert len(ex["input_ids"]) == n_prompt + 2 and ex["labels"][-2:] == ex["input_ids"][-2:]
        with pytest.raises(ValueError, match="leaves no response token"):
            tokenize_example(tok, prompt, f"{prompt} The image.", max_length=n_prompt)
        with pytest.raises(ValueError, match="must start with its prompt"):
            tokenize_example(tok, prompt, "The image.", max_length=32)

    def test_collate(self):
        examples = [{"input_ids": [1, 5, 6], "labels": [-100, 5, 6]}, {"input_ids": [1, 7], "labels": [-100, 7]}]
        batch = collate(examples, 3)
        assert batch["input_ids"].tolist() == [[1, 5, 6], [1, 7, 3]]
        assert batch["labels"].tolist() == [[-100, 5, 6], [-100, 7, -100]]
        assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]


class TestTrainLora:
    def test_training_loss_falls(self, trained):
        losses = trained["result"].losses
        assert len(losses) == STEPS and all(math.isfinite(x) for x in losses)
        assert sum(losses[-5:]) / 5 < losses[0]

    def test_held_out_loss_beats_base(self, trained):
        result = trained["result"]
        assert result.base_held_out_loss is not None and result.held_out_loss is not None
        assert result.held_out_loss < result.base_held_out_loss

    def test_on_log(self, trained):
        logs = trained["logs"]
        assert [s for s, _, _ in logs] == [10, 20, 30]
        assert [loss for _, loss, _ in logs] == [trained["result"].losses[s - 1] for s, _, _ in logs]
        assert all(tps > 0 for _, _, tps in logs)

    def test_adapter_files_and_config(self, trained, corpus):
        result = trained["result"]
        assert all((result.adapter_dir / f).is_file() for f in ADAPTER_FILES)
        assert not [p for p in result.adapter_dir.parent.iterdir() if p.name.startswith(".")]  # no temp left
        peft_cfg = json.loads((result.adapter_dir / "adapter_config.json").read_text())
        assert peft_cfg["r"] == 8 and peft_cfg["lora_alpha"] == 16 and peft_cfg["peft_type"] == "LORA"
        assert sorted(peft_cfg["target_modules"]) == ["q_proj", "v_proj"]
        cfg = json.loads((result.adapter_dir / TRAINING_CONFIG).read_text())
        assert cfg["data_version"] == corpus.data_version == result.data_version
        assert cfg["base_model_id"] == "cinema-dag/tiny-llm" == result.base_model_id
        assert cfg["hyperparameters"]["max_steps"] == STEPS and cfg["hyperparameters"]["lr"] == 3e-2
        assert cfg["losses"]["train_per_step"] == list(result.losses)
        assert cfg["losses"]["held_out_adapted"] == result.held_out_loss
        assert cfg["corpus"] == {"train": len(corpus.train), "held_out": len(corpus.held_out)}
        assert cfg["timings"]["tokens_per_s"] > 0 and cfg["trainable_params"] == result.trainable_params > 0

    def test_base_model_restored(self, trained):
        model = trained["llm"].model
        after = model.state_dict()
        assert set(after) == set(trained["before"])
        assert all(torch.equal(after[k], v) for k, v in trained["before"].items())
        assert not hasattr(model, "peft_config") and type(model).__name__ == "LlamaForCausalLM"
        assert all(p.requires_grad for p in model.parameters())  # as loaded
        assert not model.training
        # Seeding happened on a forked RNG: the caller's global stream is untouched.
        assert torch.equal(torch.random.get_rng_state(), trained["rng_before"])

    def test_reload_reproduces_and_generates(self, trained, corpus, tiny_cache):
        from peft import PeftModel

        llm = _llm(tiny_cache)  # a fresh base, as another process would load it
        peft_model = load_adapter(llm, trained["result"].adapter_dir)
        assert isinstance(peft_model, PeftModel) and not peft_model.training
        tok = llm.tokenizer
        pairs = zip(corpus.held_out["prompt"], corpus.held_out["text"], strict=True)
        held = [tokenize_example(tok, p, t, 96) for p, t in pairs]
        pad = tok.pad_token_id
        assert held_out_loss(peft_model, held, pad, 4) == pytest.approx(trained["result"].held_out_loss, rel=1e-5)

        enc = tok([format_instruction("flood")], return_tensors="pt")
        out = peft_model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=pad)
        new = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        assert out.shape[1] > enc["input_ids"].shape[1] and isinstance(new, str) and new.strip()
        # The adapter changes what the model says.
        with peft_model.disable_adapter():
            base = peft_model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=pad)
        assert not torch.equal(out, base)

    def test_prompt_generator_takes_the_adapter(self, trained, tiny_cache):
        from cinema_dag.text.prompts import generate_prompts

        llm = _llm(tiny_cache)
        adapter = trained["result"].adapter_dir
        with_adapter = generate_prompts(llm, "flood", num_prompts=2, max_new_tokens=8, adapter_path=adapter)
        without = generate_prompts(llm, "flood", num_prompts=2, max_new_tokens=8)
        assert all(p.adapter_used for p in with_adapter) and not any(p.adapter_used for p in without)
        assert [p.raw_text for p in with_adapter] != [p.raw_text for p in without]

    def test_deterministic(self, tiny_cache, corpus, tmp_path):
        runs = [
            train_lora(
                _llm(tiny_cache), corpus, adapter_dir=tmp_path / f"a{i}", lr=1e-2, max_steps=3, batch_size=2, seed=7
            )
            for i in range(2)
        ]
        assert runs[0].losses == runs[1].losses

    def test_float16_base_trains_with_loss_scaling(self, tiny_cache, corpus, tmp_path):
        llm = load_component("llm", profile="tiny", cache_dir=tiny_cache, dtype=torch.float16)
        result = train_lora(llm, corpus, adapter_dir=tmp_path / "fp16", lr=3e-2, max_steps=10, batch_size=4)
        cfg = json.loads((result.adapter_dir / TRAINING_CONFIG).read_text())
        assert cfg["hyperparameters"]["loss_scaling"] is True and cfg["dtype"] == "float16"
        assert all(math.isfinite(x) for x in result.losses) and result.held_out_loss < result.base_held_out_loss
        assert next(llm.model.parameters()).dtype == torch.float16

    def test_gradient_checkpointing_is_undone(self, tiny_cache, corpus, tmp_path):
        llm = _llm(tiny_cache)
        plain = train_lora(llm, corpus, adapter_dir=tmp_path / "a", lr=1e-2, max_steps=3, batch_size=2)
        ckpt = train_lora(llm, corpus, adapter_dir=tmp_path / "b", lr=1e-2, max_steps=3, batch_size=2,
                          gradient_checkpointing=True)
        assert ckpt.losses == pytest.approx(plain.losses, rel=1e-5)  # same maths, less memory
        assert not llm.model.is_activation_checkpointing
        assert not llm.model.get_input_embeddings()._forward_hooks

    def test_into_existing_folder(self, tiny_cache, corpus, tmp_path):
        # e.g. the empty staging folder of the artefact store, or an older adapter being replaced
        target = tmp_path / "stage"
        target.mkdir()
        (target / "stale.txt").write_text("old")
        result = train_lora(_llm(tiny_cache), corpus, adapter_dir=target, max_steps=1, batch_size=2)
        assert result.adapter_dir == target
        assert sorted(p.name for p in target.iterdir()) == sorted([*ADAPTER_FILES, "README.md"])
        assert [p.name for p in tmp_path.iterdir()] == ["stage"]

    def test_guards(self, tiny_cache, corpus, tmp_path):
        llm = _llm(tiny_cache)
        with pytest.raises(ValueError, match="max_steps must be an integer >= 1; got 0"):
            train_lora(llm, corpus, adapter_dir=tmp_path / "x", max_steps=0)
        with pytest.raises(TypeError, match="PromptCorpus"):
            train_lora(llm, corpus.dataset, adapter_dir=tmp_path / "x")
        assert not (tmp_path / "x").exists()


class TestLoadAdapter:
    def test_shape_mismatch(self, trained):
        from transformers import LlamaConfig, LlamaForCausalLM

        other = LlamaForCausalLM(LlamaConfig(vocab_size=512, hidden_size=48, intermediate_size=64, num_hidden_layers=2,
                                             num_attention_heads=2, num_key_value_heads=2))
        with pytest.raises(ValueError, match="hidden_size"):
            load_adapter(other, trained["result"].adapter_dir)

    def test_incomplete(self, tmp_path, tiny_cache):
        (tmp_path / "adapter_config.json").write_text("{}")
        with pytest.raises(FileNotFoundError, match=r"training_config\.json"):
            load_adapter(_llm(tiny_cache), tmp_path)

    def test_apply_lora_refuses_peft_model(self, trained, tiny_cache):
        peft_model = load_adapter(_llm(tiny_cache), trained["result"].adapter_dir)
        with pytest.raises(ValueError, match="already has a peft adapter"):
            apply_lora(peft_model)


class TestLatestAdapter:
    @staticmethod
    def fake(directory, finished, complete=True):
        directory.mkdir(parents=True)
        for name in ADAPTER_FILES[:2]:
            (directory / name).write_text("{}")
        if complete:
            (directory / TRAINING_CONFIG).write_text(json.dumps({"finished_unix": finished}))
        return directory

    def test_newest_complete(self, tmp_path):
        now = time.time()
        self.fake(tmp_path / "v1", now - 100)
        newest = self.fake(tmp_path / "flood" / "v3", now - 10)
        self.fake(tmp_path / "v2", now - 50)
        self.fake(tmp_path / "v4", now, complete=False)  # still being written
        self.fake(tmp_path / ".v5.tmp-1234", now + 10)  # a temp dir
        assert latest_adapter(tmp_path) == newest

    def test_none(self, tmp_path):
        assert latest_adapter(tmp_path / "missing") is None
        assert latest_adapter(tmp_path) is None

    def test_real_run_found(self, trained):
        assert latest_adapter(trained["result"].adapter_dir.parent) == trained["result"].adapter_dir
