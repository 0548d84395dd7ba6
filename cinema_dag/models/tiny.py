"""Tiny random-init models for the ``tiny`` profile: built from configs, saved once, loaded like real ones.

Each builder makes a model (with fixed seeds) and its tokenizer/processor in memory, with configs
taken from the transformers/diffusers test suites, and writes them with ``save_pretrained``
(safetensors). :func:`ensure_tiny` does this once per cache folder, atomically, into
``<cache_dir>/tiny/<component>/``; the registry then loads that folder with
``from_pretrained(..., local_files_only=True)``, the same code that loads real weights.

The sizes are chosen so that one partition's whole chain runs in seconds on a CPU:

=============  ==============================================================================
component      what is built
=============  ==============================================================================
llm            ``LlamaForCausalLM`` (hidden 32, 2 layers) + byte-level BPE trained on the seed corpus
text_to_image  ``StableDiffusionPipeline``: UNet (4, 8), VAE (4, 8) (64x64 image = 32x32 latent),
               CLIP text encoder (hidden 8) + byte-level BPE CLIP tokenizer (``model_max_length=77``)
captioner      ``BlipForConditionalGeneration`` (30x30 images) + ``BertTokenizer`` (WordPiece)
grounding      ``GroundingDinoForObjectDetection`` (Swin, 98x98 images, 32 text tokens)
segmenter      ``SamModel`` (32x32 images) + ``SamProcessor``
depth          ``DPTForDepthEstimation`` (32x32 images) + ``DPTImageProcessorPil``
clip           ``CLIPModel`` (text hidden 32, vision 32x32 images) + the CLIP tokenizer above and
               ``CLIPImageProcessorPil``: a plumbing check for CLIP scores, not a quality score
=============  ==============================================================================
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch

from cinema_dag.atomic import atomic_dir, atomic_write_json
from cinema_dag.disasters import DISASTER_TYPES
from cinema_dag.models.profiles import COMPONENTS, check_component
from cinema_dag.text.template import SEED_METADATA, seed_corpus

__all__ = [
    "TINY_VERSION",
    "MARKER_FILE",
    "ensure_tiny",
    "tiny_path",
    "is_built",
    "build_tiny",
    "build_llm_tokenizer",
    "build_bert_tokenizer",
    "build_clip_tokenizer",
]

#: Bump when a builder changes, so caches made by an older version are rebuilt.
TINY_VERSION = 2
#: Written last into a built folder; its presence (with the right version) means "complete".
MARKER_FILE = "cinema_dag_tiny.json"
#: Seed of every random initialisation (offset per component so they differ).
TINY_SEED = 0

# Words every WordPiece vocabulary gets besides the seed corpus: prompts used in segmentation and
# scraping ("person"), and BLIP's caption vocabulary basics.
_EXTRA_WORDS = ("a", "an", "the", "of", "in", "on", "with", "and", "photo", "picture", "image", "person",
                "people", "man", "woman", "car", "road", "house", "tree", "sky", "water", "fire", "smoke")


def tiny_path(cache_dir: str | os.PathLike[str], component: str) -> Path:
    """Folder of a tiny component: ``<cache_dir>/tiny/<component>``."""
    return Path(cache_dir) / "tiny" / check_component(component)


def is_built(path: Path) -> bool:
    """Whether ``path`` holds a complete tiny model of the current :data:`TINY_VERSION`."""
    marker = path / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("version") == TINY_VERSION
    except json.JSONDecodeError:
        return False


def ensure_tiny(cache_dir: str | os.PathLike[str], component: str) -> Path:
    """Build the tiny ``component`` under ``cache_dir`` unless it is already there; return its folder.

    Safe when several processes race: each builds in its own temporary folder next to the target
    (:func:`cinema_dag.atomic.atomic_dir`); the first complete one to be renamed into place wins and
    the others discard theirs, so a folder being loaded is never replaced under its reader. A folder
    of an older :data:`TINY_VERSION` is replaced.
    """
    final = tiny_path(cache_dir, component)
    if is_built(final):
        return final
    with atomic_dir(final, keep_existing=not final.exists()) as tmp:
        build_tiny(component, tmp)
        atomic_write_json(tmp / MARKER_FILE, {"component": component, "version": TINY_VERSION, "seed": TINY_SEED},
                          indent=None)
    if not is_built(final):
        raise RuntimeError(f"tiny {component!r} at {final} is incomplete after building it; delete it and retry")
    return final


def build_tiny(component: str, dest: str | os.PathLike[str]) -> None:
    """Build the tiny ``component`` and write it (model + tokenizer/processor) into ``dest``."""
    builders: dict[str, Callable[[Path], None]] = {
        "llm": _build_llm,
        "text_to_image": _build_text_to_image,
        "captioner": _build_captioner,
        "grounding": _build_grounding,
        "segmenter": _build_segmenter,
        "depth": _build_depth,
        "clip": _build_clip,
    }
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    seed = TINY_SEED + COMPONENTS.index(check_component(component))
    # fork_rng: seed the initialisation without changing the caller's global RNG state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        builders[component](dest)


# --------------------------------------------------------------------------- tokenizers


def build_llm_tokenizer(corpus: list[str] | None = None, vocab_size: int = 512, model_max_length: int = 256):
    """A byte-level BPE tokenizer (Llama-style specials ``<unk> <s> </s> <pad>``) trained on ``corpus``.

    Byte-level, so any text (Korean included) encodes without unknown tokens. ``<s>`` is prepended
    to every sequence, as Llama's tokenizer does. Defaults to :func:`seed_corpus`.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus if corpus is not None else seed_corpus(), trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=model_max_length,
    )


def build_bert_tokenizer(model_max_length: int):
    """A lower-case WordPiece ``BertTokenizer`` over the seed corpus words, letters and ``##`` pieces.

    Every lower-case ASCII word can be spelt from the single letters and their ``##`` continuations,
    so nothing in a caption or a segmentation prompt becomes ``[UNK]``.
    """
    import re
    import string

    from transformers import BertTokenizer

    vocab: dict[str, int] = {}
    for token in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]:
        vocab[token] = len(vocab)
    for ch in string.ascii_lowercase + string.digits + string.punctuation:
        vocab.setdefault(ch, len(vocab))
    for ch in string.ascii_lowercase + string.digits:
        vocab.setdefault("##" + ch, len(vocab))
    texts = [t for texts in SEED_METADATA.values() for t in texts]
    texts += [" ".join(d.motion_prompts + d.scene_keywords + (d.english,)) for d in DISASTER_TYPES.values()]
    texts.append(" ".join(_EXTRA_WORDS))
    for text in texts:
        for word in re.findall(r"[a-z]+", text.lower()):
            vocab.setdefault(word, len(vocab))
    return BertTokenizer(vocab=vocab, model_max_length=model_max_length)


def build_clip_tokenizer(corpus: list[str] | None = None, vocab_size: int = 1000):
    """A CLIP-style byte-level BPE ``CLIPTokenizer`` trained on ``corpus``, ``model_max_length=77``.

    Lower-case, words end in ``</w>``, as OpenAI CLIP's; the merges are learnt from the seed corpus
    and the prompt prefixes, so a typical prompt is one token per word and fits CLIP's 77 tokens as
    it would with the real tokenizer. All 256 byte symbols (with and without ``</w>``) are in the
    vocabulary, so any text (Hangul included) encodes. The length must be set: the SD pipeline pads
    to ``tokenizer.model_max_length``.
    """
    import json

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    if corpus is None:
        corpus = seed_corpus() + [
            ", ".join((f"a photo of a {d.english} in Korea", *d.scene_keywords)) for d in DISASTER_TYPES.values()
        ]
    specials = ["<|startoftext|>", "<|endoftext|>"]
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    vocab: dict[str, int] = dict(model["vocab"])
    for ch in bytes_to_unicode().values():
        for token in (ch, ch + "</w>"):
            vocab.setdefault(token, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


# --------------------------------------------------------------------------- models


def _build_llm(dest: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_llm_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(dest)
    tokenizer.save_pretrained(dest)


def _build_text_to_image(dest: Path) -> None:
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = build_clip_tokenizer()
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=2,
    )
    vae = AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=2,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=8,
            intermediate_size=16,
            layer_norm_eps=1e-5,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=tokenizer.model_max_length,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,  # as SD 1.5's scheduler config; 0 draws a deprecation warning
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(dest, safe_serialization=True)


def _build_captioner(dest: Path) -> None:
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessorPil, BlipProcessor

    tokenizer = build_bert_tokenizer(model_max_length=32)
    config = BlipConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=37,
            max_position_embeddings=64,
            bos_token_id=tokenizer.cls_token_id,
            pad_token_id=tokenizer.pad_token_id,
            sep_token_id=tokenizer.sep_token_id,
            eos_token_id=tokenizer.sep_token_id,
        ),
        vision_config=dict(
            image_size=30,
            patch_size=2,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=37,
            projection_dim=32,
        ),
        projection_dim=64,
    )
    BlipForConditionalGeneration(config).save_pretrained(dest)
    image_processor = BlipImageProcessorPil(size={"height": 30, "width": 30})
    BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(dest)


#: Text tokens the tiny GroundingDINO reads (its ``max_text_len``); the real models read 256.
TINY_GROUNDING_TEXT_LEN = 32


def _build_grounding(dest: Path) -> None:
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    tokenizer = build_bert_tokenizer(model_max_length=TINY_GROUNDING_TEXT_LEN)
    backbone = SwinConfig(
        window_size=7, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], image_size=98, out_indices=[2, 3, 4]
    )
    config = GroundingDinoConfig(
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=4,
        decoder_ffn_dim=4,
        num_queries=4,
        num_feature_levels=4,
        encoder_n_points=2,
        decoder_n_points=6,
        max_text_len=TINY_GROUNDING_TEXT_LEN,
        backbone_config=backbone,
        text_config=dict(
            model_type="bert",
            hidden_size=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=8,
            max_position_embeddings=TINY_GROUNDING_TEXT_LEN,
            vocab_size=len(tokenizer),
        ),
    )
    GroundingDinoForObjectDetection(config).save_pretrained(dest)
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 98, "longest_edge": 98})
    GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(dest)


def _build_segmenter(dest: Path) -> None:
    from transformers import (
        SamConfig,
        SamImageProcessorPil,
        SamMaskDecoderConfig,
        SamModel,
        SamProcessor,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )

    size = 32
    config = SamConfig(
        vision_config=SamVisionConfig(
            image_size=size,
            patch_size=2,
            hidden_size=36,
            projection_dim=62,
            output_channels=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=72,
            window_size=14,
            global_attn_indexes=[2, 5, 8, 11],
            num_pos_feats=16,
        ),
        prompt_encoder_config=SamPromptEncoderConfig(
            image_size=size, patch_size=2, mask_input_channels=4, hidden_size=32, num_point_embeddings=4
        ),
        mask_decoder_config=SamMaskDecoderConfig(
            hidden_size=32,
            mlp_dim=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            attention_downsample_rate=2,
            num_multimask_outputs=3,
            iou_head_depth=3,
            iou_head_hidden_dim=32,
        ),
    )
    SamModel(config).save_pretrained(dest)
    image_processor = SamImageProcessorPil(
        size={"longest_edge": size},
        pad_size={"height": size, "width": size},
        mask_size={"longest_edge": size // 2},
        mask_pad_size={"height": size // 2, "width": size // 2},
    )
    SamProcessor(image_processor=image_processor).save_pretrained(dest)


def _build_depth(dest: Path) -> None:
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessorPil

    config = DPTConfig(
        image_size=32,
        patch_size=16,
        num_channels=3,
        hidden_size=32,
        fusion_hidden_size=32,
        num_hidden_layers=2,
        backbone_out_indices=[0, 1, 2, 3],
        num_attention_heads=4,
        intermediate_size=37,
        is_hybrid=False,
        neck_hidden_sizes=[16, 32],
    )
    DPTForDepthEstimation(config).save_pretrained(dest)
    DPTImageProcessorPil(size={"height": 32, "width": 32}, keep_aspect_ratio=False).save_pretrained(dest)


def _build_clip(dest: Path) -> None:
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    tokenizer = build_clip_tokenizer()
    size = 32
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=tokenizer.model_max_length,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        vision_config=dict(
            image_size=size, patch_size=4, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
            num_attention_heads=4,
        ),
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(dest)
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(dest)
