"""The model registry: profiles, tiny models built once, offline resolution, clear failures."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
import torch

from cinema_dag.models import (
    COMPONENTS,
    PROFILES,
    LoadedCaptioner,
    LoadedClip,
    LoadedDepth,
    LoadedGrounding,
    LoadedLLM,
    LoadedSegmenter,
    LoadedTextToImage,
    MissingWeightsError,
    UnknownComponentError,
    UnknownProfileError,
    free_memory,
    get_spec,
    load_component,
    resolve_device,
    resolve_dtype,
    resolve_weights,
)
from cinema_dag.models import tiny as tiny_mod
from cinema_dag.models.tiny import MARKER_FILE, TINY_VERSION, ensure_tiny, tiny_path


class TestProfiles:
    def test_every_profile_has_every_component(self):
        assert set(PROFILES) == {"tiny", "fast", "paper"}
        for profile in PROFILES.values():
            assert set(profile.specs) == set(COMPONENTS)

    def test_model_ids(self):
        assert get_spec("llm", "paper").model_id == "meta-llama/Llama-2-7b-hf"
        assert get_spec("text_to_image", "paper").model_id == "stable-diffusion-v1-5/stable-diffusion-v1-5"
        assert get_spec("segmenter", "fast").model_id == "facebook/sam-vit-base"
        assert get_spec("depth", "tiny").is_tiny and not get_spec("depth", "fast").is_tiny
        assert PROFILES["tiny"].is_tiny and not PROFILES["paper"].is_tiny

    def test_model_id_helper(self):
        from cinema_dag.models import profiles

        assert profiles.model_id("paper", "depth") == "Intel/dpt-large"
        assert profiles.model_id("tiny", "text_to_image") == "cinema-dag/tiny-text-to-image"

    def test_defaults(self):
        tiny = get_spec("text_to_image", "tiny").defaults
        assert (tiny["height"], tiny["width"]) == (128, 128) and 2 <= tiny["num_inference_steps"] <= 4
        paper = get_spec("text_to_image", "paper").defaults
        assert (paper["height"], paper["width"], paper["num_inference_steps"]) == (512, 512, 25)
        assert get_spec("llm", "paper").defaults["max_new_tokens"] > get_spec("llm", "tiny").defaults["max_new_tokens"]
        with pytest.raises(TypeError):
            tiny["height"] = 128  # read-only: runs cannot change each other's defaults

    def test_every_llm_has_the_sampling_settings_prompt_generation_requires(self):
        # generate_prompts has no fallback of its own: the profile is the one place they are defined.
        for name in PROFILES:
            assert {"max_new_tokens", "temperature", "top_p"} <= set(get_spec("llm", name).defaults), name

    def test_unknown_profile_lists_profiles(self):
        with pytest.raises(UnknownProfileError, match=r"'huge'.*tiny, fast, paper"):
            get_spec("llm", "huge")

    def test_unknown_component_lists_components(self):
        with pytest.raises(UnknownComponentError, match=r"'vae'.*llm, text_to_image"):
            get_spec("vae", "tiny")

    def test_import_is_cheap(self):
        code = (
            "import sys, cinema_dag.models as m; m.get_profile('paper');"
            "heavy = [k for k in ('torch', 'transformers', 'diffusers') if k in sys.modules];"
            "assert not heavy, heavy"
        )
        subprocess.run([sys.executable, "-c", code], check=True)


class TestDevice:
    def test_resolve_device(self):
        assert resolve_device("cpu") == torch.device("cpu")
        if not torch.cuda.is_available() and not torch.backends.mps.is_available():
            assert resolve_device("auto") == torch.device("cpu")
            with pytest.raises(RuntimeError, match="'cuda'"):
                resolve_device("cuda")
        with pytest.raises(ValueError, match="'tpu'"):
            resolve_device("tpu")

    def test_resolve_dtype(self):
        assert resolve_dtype("auto", "cpu") == torch.float32
        assert resolve_dtype(None, "cuda") == torch.float16
        assert resolve_dtype("bfloat16", "cpu") == torch.bfloat16
        assert resolve_dtype(torch.float64, "cpu") == torch.float64
        with pytest.raises(ValueError, match="'half'"):
            resolve_dtype("half", "cpu")
        free_memory("cpu")  # a no-op on the CPU, must not raise


class TestTinyLoading:
    _LOADED: ClassVar[dict[str, type]] = {
        "llm": LoadedLLM,
        "text_to_image": LoadedTextToImage,
        "captioner": LoadedCaptioner,
        "grounding": LoadedGrounding,
        "segmenter": LoadedSegmenter,
        "depth": LoadedDepth,
        "clip": LoadedClip,
    }

    @pytest.mark.parametrize("component", COMPONENTS)
    def test_loads_from_disk_offline(self, component, tiny_cache, monkeypatch):
        """Every tiny load goes through from_pretrained(<folder>, local_files_only=True)."""
        import diffusers
        import transformers

        calls: list[tuple[str, dict]] = []

        def spy(cls_name, original):
            def wrapper(path, *args, **kwargs):
                calls.append((cls_name, {"path": str(path), **kwargs}))
                return original(path, *args, **kwargs)

            return classmethod(lambda cls, path, *a, **kw: wrapper(path, *a, **kw))

        for mod, names in (
            (transformers, ["AutoTokenizer", "AutoModelForCausalLM", "BlipProcessor", "BlipForConditionalGeneration",
                            "GroundingDinoProcessor", "GroundingDinoForObjectDetection", "SamProcessor", "SamModel",
                            "AutoImageProcessor", "AutoModelForDepthEstimation", "CLIPProcessor", "CLIPModel"]),
            (diffusers, ["StableDiffusionPipeline"]),
        ):
            for name in names:
                cls = getattr(mod, name)
                monkeypatch.setattr(cls, "from_pretrained", spy(name, cls.from_pretrained))

        loaded = load_component(component, cache_dir=tiny_cache)
        assert isinstance(loaded, self._LOADED[component])
        assert loaded.model_id == f"cinema-dag/tiny-{component.replace('_', '-')}"
        assert loaded.source_path == tiny_path(tiny_cache, component)
        assert (loaded.source_path / MARKER_FILE).is_file()
        assert list(loaded.source_path.rglob("*.safetensors")), "weights must be safetensors"
        assert not list(loaded.source_path.rglob("*.bin"))
        assert calls, "nothing was loaded with from_pretrained"
        for name, kwargs in calls:
            assert kwargs["local_files_only"] is True, name
            assert kwargs["path"] == str(loaded.source_path), name
            if name.endswith(("Model", "LM", "Generation", "Detection", "Estimation", "Pipeline")):
                assert kwargs["use_safetensors"] is True, name
        assert loaded.describe()["dtype"] == "float32"

    @pytest.mark.parametrize("component", ["depth", "text_to_image"])
    def test_dtype_is_honoured(self, tiny_cache, component):
        loaded = load_component(component, cache_dir=tiny_cache, dtype="bfloat16")
        model = loaded.pipeline.unet if component == "text_to_image" else loaded.model
        assert loaded.dtype == torch.bfloat16
        assert {p.dtype for p in model.parameters()} == {torch.bfloat16}

    def test_built_once(self, tmp_path, monkeypatch):
        builds: list[str] = []
        original = tiny_mod.build_tiny

        def counting(component, dest):
            builds.append(component)
            original(component, dest)

        monkeypatch.setattr(tiny_mod, "build_tiny", counting)
        first = load_component("depth", cache_dir=tmp_path)
        mtime = (first.source_path / "model.safetensors").stat().st_mtime_ns
        second = load_component("depth", cache_dir=tmp_path)
        assert builds == ["depth"]
        assert (second.source_path / "model.safetensors").stat().st_mtime_ns == mtime
        # Same seed, same weights: the build is deterministic.
        for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
            assert torch.equal(a, b)
        # No temporary folders are left behind.
        assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["depth"]

    def test_stale_version_is_rebuilt(self, tmp_path):
        path = ensure_tiny(tmp_path, "depth")
        (path / MARKER_FILE).write_text(json.dumps({"version": TINY_VERSION - 1}))
        (path / "leftover.txt").write_text("old")
        again = ensure_tiny(tmp_path, "depth")
        assert again == path
        assert json.loads((path / MARKER_FILE).read_text())["version"] == TINY_VERSION
        assert not (path / "leftover.txt").exists()

    def test_racing_builds(self, tmp_path):
        results: list[Path] = []
        errors: list[BaseException] = []

        def build():
            try:
                results.append(ensure_tiny(tmp_path, "segmenter"))
            except BaseException as err:  # collected and re-raised by the assert below
                errors.append(err)

        threads = [threading.Thread(target=build) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(set(results)) == 1 and tiny_mod.is_built(results[0])
        assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["segmenter"]


class TestRealProfiles:
    @pytest.fixture
    def empty_hf(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        for c in COMPONENTS:
            monkeypatch.delenv(f"CINEMA_DAG_WEIGHTS_{c.upper()}", raising=False)
        return tmp_path / "hf" / "hub"

    @pytest.mark.parametrize("allow_download", [False, True])
    def test_missing_weights_fail_at_once(self, empty_hf, allow_download, tmp_path):
        start = time.perf_counter()
        with pytest.raises(MissingWeightsError) as info:
            load_component("depth", profile="fast", cache_dir=tmp_path, allow_download=allow_download)
        assert time.perf_counter() - start < 5
        message = str(info.value)
        expected = ("'depth'", "'fast'", "Intel/dpt-hybrid-midas", "CINEMA_DAG_WEIGHTS_DEPTH", "HF_HOME", "local_paths")
        for part in expected:
            assert part in message
        assert (info.value.component, info.value.model_id, info.value.profile) == (
            "depth",
            "Intel/dpt-hybrid-midas",
            "fast",
        )

    def test_every_paper_component_names_its_model(self, empty_hf):
        for component in COMPONENTS:
            with pytest.raises(MissingWeightsError, match=get_spec(component, "paper").model_id):
                resolve_weights(component, profile="paper")

    def test_local_path_override(self, tiny_cache, empty_hf):
        folder = ensure_tiny(tiny_cache, "depth")
        loaded = load_component("depth", profile="paper", local_paths={"depth": folder})
        assert loaded.model_id == "Intel/dpt-large" and loaded.source_path == folder

    def test_env_var_override(self, tiny_cache, empty_hf, monkeypatch, tmp_path):
        import shutil

        folder = shutil.copytree(ensure_tiny(tiny_cache, "depth"), tmp_path / "my-dpt")
        monkeypatch.setenv("CINEMA_DAG_WEIGHTS_DEPTH", str(folder))
        assert resolve_weights("depth", profile="fast") == folder
        # The tiny profile ignores the env var, so a developer's settings cannot change the tests.
        assert resolve_weights("depth", profile="tiny", cache_dir=tiny_cache) == tiny_path(tiny_cache, "depth")

    def test_bad_local_path(self, empty_hf, tmp_path):
        with pytest.raises(MissingWeightsError, match="does not exist"):
            resolve_weights("llm", profile="paper", local_paths={"llm": tmp_path / "nope"})

    def test_hf_cache_hit_without_network(self, tiny_cache, empty_hf):
        """A model in the HF cache layout (models--org--name/snapshots/<rev>) loads offline."""
        import shutil

        repo = empty_hf / "models--Intel--dpt-large"
        revision = "0" * 40
        shutil.copytree(ensure_tiny(tiny_cache, "depth"), repo / "snapshots" / revision)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(revision)
        loaded = load_component("depth", profile="paper")
        assert loaded.source_path == repo / "snapshots" / revision
        assert loaded.model_id == "Intel/dpt-large"

    def test_hf_cache_without_weights_is_missing(self, empty_hf):
        repo = empty_hf / "models--Intel--dpt-large"
        revision = "1" * 40
        (repo / "snapshots" / revision).mkdir(parents=True)
        (repo / "snapshots" / revision / "config.json").write_text("{}")
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(revision)
        with pytest.raises(MissingWeightsError, match=r"no \.safetensors"):
            resolve_weights("depth", profile="paper")


class TestTinyTokenizers:
    def test_llm_tokenizer_is_byte_level_bpe(self, tiny_cache):
        tok = load_component("llm", cache_dir=tiny_cache).tokenizer
        text = "[INST] Flood [/INST] The image captures 홍수 0 α"
        ids = tok(text).input_ids
        assert ids[0] == tok.bos_token_id
        assert tok.decode(ids, skip_special_tokens=True) == text  # no unknown tokens, Korean included
        assert len(ids) < len(text.encode()) // 2, "BPE merges learnt from the corpus shorten the text"
        assert tok.pad_token is not None and tok.eos_token == "</s>" and tok.padding_side == "left"
        assert tok.model_max_length == 256

    def test_clip_tokenizer(self, tiny_cache):
        pipe = load_component("text_to_image", cache_dir=tiny_cache).pipeline
        tok = pipe.tokenizer
        assert tok.model_max_length == 77
        assert pipe.text_encoder.config.vocab_size == len(tok)
        words = "a photo of a flood in korea , flooded street".split()
        assert tok.convert_ids_to_tokens(tok(" ".join(words)).input_ids)[1:-1] == [w + "</w>" for w in words]

    @pytest.mark.parametrize("component", ["captioner", "grounding"])
    def test_bert_tokenizers_have_a_length(self, tiny_cache, component):
        loaded = load_component(component, cache_dir=tiny_cache)
        tok = loaded.processor.tokenizer
        assert tok.model_max_length <= 64
        assert tok.unk_token_id not in tok("water. flood water. person. muddy hillside").input_ids
