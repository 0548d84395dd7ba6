"""disaster_images: Stable Diffusion renders the generated prompts."""

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import (
    GENERATION_SETTINGS,
    GPU_OP_TAGS,
    GPU_POOL,
    GROUP_GENERATION,
    OWNERS,
    timed,
    timing_metadata,
)
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


class ImageConfig(dg.Config):
    num_images: int = Field(default=2, ge=1, le=256, description="Images per partition (prompts are cycled).")
    height: int | None = Field(default=None, description="Pixels, divisible by 8; None = the profile's default.")
    width: int | None = Field(default=None, description="Pixels, divisible by 8; None = the profile's default.")
    num_inference_steps: int | None = Field(default=None, description="Denoising steps; None = profile default.")
    guidance_scale: float | None = Field(default=None, description="Classifier-free guidance; None = profile default.")
    scheduler: str | None = Field(
        default=None, description="dpm | ddim | euler | euler_a | pndm; None = profile default."
    )
    seed: int = Field(default=0, description="Image i uses seed + i: the same seed gives the same images.")
    photos_dir: str | None = Field(
        default=None,
        description="Take the photos (*.jpg, *.jpeg, *.png, sorted, up to num_images) from this folder instead of "
                    "generating them, e.g. scraped real photos. A labelme <stem>.json or a <stem>_mask.png beside a "
                    "photo overrides the automatic mask (and, with hint lines, the automatic motion hints).")


@dg.asset(
    partitions_def=disaster_types,
    deps=["generated_prompts"],
    group_name=GROUP_GENERATION, owners=OWNERS[GROUP_GENERATION], code_version="1",
    kinds={"pytorch", "diffusers"},
    pool=GPU_POOL, op_tags=GPU_OP_TAGS,
)
def disaster_images(context: dg.AssetExecutionContext, config: ImageConfig, store: ArtefactStore,
                    models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """Disaster-scene images from the generated prompts (Stable Diffusion, seeded, reproducible)."""
    from cinema_dag.artefacts import IMAGES_FILE, PROMPTS_FILE, read_json, write_images, write_json
    from cinema_dag.previews import png_markdown
    from cinema_dag.vision.generate import generate_images

    key = context.partition_key
    if config.photos_dir:
        return _photos_from_folder(context, config, store, key)
    prompts = read_json(store.require("generated_prompts", key), PROMPTS_FILE)
    if not prompts:
        raise dg.Failure(f"generated_prompts for {key!r} is empty: nothing to render")
    chosen = [prompts[i % len(prompts)] for i in range(config.num_images)]
    timings: dict[str, float] = {}
    with timed(context, "load model", timings):
        pipe = models.load("text_to_image", device.torch_device(), device.torch_dtype())
    settings = _settings(config, pipe.defaults)
    with timed(context, "generate", timings, f"{config.num_images} images"):
        images = generate_images(
            pipe, [p["prompt"] for p in chosen], [p["negative_prompt"] for p in chosen],
            seed=config.seed, **settings,
        )
    records = [{"index": i, "prompt": p["prompt"], "negative_prompt": p["negative_prompt"],
                "seed": config.seed + i} for i, p in enumerate(chosen)]
    with store.stage("disaster_images", key, {"seed": config.seed, **settings}) as out:
        write_images(out, images)
        write_json(out, IMAGES_FILE, {"settings": settings, "images": records})
    device.free_memory()
    return dg.MaterializeResult(metadata={
        "num_images": len(images),
        "size": f"{images[0].width}x{images[0].height}",
        "model_id": models.model_id("text_to_image"),
        "settings": dg.MetadataValue.json(settings),
        "preview": dg.MetadataValue.md(png_markdown(images)),
        "path": dg.MetadataValue.path(store.uri("disaster_images", key)),
        **timing_metadata(timings),
    })


def _settings(config: ImageConfig, defaults) -> dict:
    """Config values, with the profile's defaults where the config leaves them out (None)."""
    return {f: getattr(config, f) if getattr(config, f) is not None else defaults.get(f) for f in GENERATION_SETTINGS}


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def _photos_from_folder(context: dg.AssetExecutionContext, config: ImageConfig, store: ArtefactStore,
                        key: str) -> dg.MaterializeResult:
    """disaster_images from a folder of photos; user annotations beside them are kept as overrides
    (:data:`~cinema_dag.artefacts.USER_MASK` files, ``arrows`` in images.json) for motion_masks and flow_fields."""
    from pathlib import Path

    from cinema_dag.artefacts import (
        IMAGES_FILE,
        USER_MASK,
        read_images_from_paths,
        write_images,
        write_json,
        write_mask,
    )
    from cinema_dag.cinemagraph.labelme import annotation_beside
    from cinema_dag.previews import png_markdown

    assert config.photos_dir is not None  # only called for a photo folder
    folder = Path(config.photos_dir)
    if not folder.is_dir():
        raise dg.Failure(f"photos_dir {str(folder)!r} is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and not p.stem.endswith("_mask"))
    paths = paths[: config.num_images]
    if not paths:
        raise dg.Failure(f"photos_dir {str(folder)!r} has no {', '.join(PHOTO_SUFFIXES)} photos")
    images = read_images_from_paths(paths)
    records = []
    with store.stage("disaster_images", key, {"photos_dir": str(folder)}) as out:
        write_images(out, images)
        for i, (path, image) in enumerate(zip(paths, images, strict=True)):
            try:
                mask, arrows, source = annotation_beside(path, (image.height, image.width))
            except ValueError as err:
                raise dg.Failure(str(err)) from None
            if mask is not None:
                write_mask(out, i, mask, USER_MASK)
            records.append({"index": i, "photo": str(path), "annotation": source,
                            "arrows": None if arrows is None else arrows.tolist()})
        write_json(out, IMAGES_FILE, {"settings": {"photos_dir": str(folder)}, "images": records})
    context.log.info(f"{len(images)} photos from {folder}; {sum(bool(r['annotation']) for r in records)} annotated")
    return dg.MaterializeResult(metadata={
        "num_images": len(images),
        "photos_dir": str(folder),
        "annotated": sum(bool(r["annotation"]) for r in records),
        "preview": dg.MetadataValue.md(png_markdown(images)),
        "path": dg.MetadataValue.path(store.uri("disaster_images", key)),
    })
