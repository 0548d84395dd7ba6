"""scraped_images: Korean disaster photos, crawled politely and filtered like the paper's manual review."""

from typing import Any

import dagster as dg
from pydantic import Field

from cinema_dag.assets._common import GROUP_COLLECTION, OWNERS, timed, timing_metadata
from cinema_dag.defaults import DEFAULT_BLUR_THRESHOLD, DEFAULT_HASH_DISTANCE, DEFAULT_MAX_IMAGES, DEFAULT_MIN_SIZE
from cinema_dag.partitions import disaster_types
from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice


class ScrapeConfig(dg.Config):
    start_urls: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Start pages per disaster type; a type not listed crawls its default Korean public sources.",
    )
    allowed_domains: list[str] = Field(
        default_factory=list, description="Hosts whose pages may be followed; empty = those of the start pages.")
    image_domains: list[str] = Field(default_factory=list, description="Further hosts images may come from.")
    max_images: int = Field(default=DEFAULT_MAX_IMAGES, ge=1, le=5000, description="Images kept per type at most.")
    min_size: int = Field(default=DEFAULT_MIN_SIZE, ge=1, description="Smallest width and height kept, in pixels.")
    blur_threshold: float = Field(default=DEFAULT_BLUR_THRESHOLD, ge=0, description="Smallest Laplacian variance kept.")
    hash_distance: int = Field(default=DEFAULT_HASH_DISTANCE, ge=0, le=64,
                               description="pHash distance for near-duplicates.")
    people_detector: str = Field(
        default="grounded",
        description="grounded (GroundingDINO 'person', the profile's model) | hog (OpenCV, no weights) | none")
    text_detector: str = Field(
        default="tesseract", description="tesseract (offline OCR, Korean + English) | none")
    timeout_s: float = Field(default=3600.0, gt=0, description="Wall-clock limit of one crawl process.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Scrapy settings overrides.")


def _people_detector(config: ScrapeConfig, models: ModelRegistry, device: TorchDevice):
    if config.people_detector == "none":
        return None
    if config.people_detector == "hog":
        return "hog"
    if config.people_detector == "grounded":
        from cinema_dag.vision.segment import detect

        grounding = models.load("grounding", device.torch_device(), device.torch_dtype())

        def detect_people(image) -> float:
            found = detect(grounding, image, ["person"])
            return max((d.score for d in found), default=0.0)

        return detect_people
    raise dg.Failure(f"people_detector must be hog, grounded or none; got {config.people_detector!r}")


def _text_detector(context: dg.AssetExecutionContext, config: ScrapeConfig):
    """The embedded-text detector, or None with a recorded reason when it cannot run here."""
    if config.text_detector == "none":
        return None, "off"
    if config.text_detector != "tesseract":
        raise dg.Failure(f"text_detector must be tesseract or none; got {config.text_detector!r}")
    from cinema_dag.vision.quality import tesseract_text_detector

    try:
        return tesseract_text_detector(), "tesseract"
    except RuntimeError as err:  # a missing optional tool: skip this filter, say so
        context.log.warning(f"embedded-text filter skipped: {err}")
        return None, f"skipped: {err}"


@dg.asset(
    partitions_def=disaster_types,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP_COLLECTION, owners=OWNERS[GROUP_COLLECTION], code_version="1",
    kinds={"scrapy"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL),
)
def scraped_images(context: dg.AssetExecutionContext, config: ScrapeConfig, store: ArtefactStore,
                   models: ModelRegistry, device: TorchDevice) -> dg.MaterializeResult:
    """Photos per disaster type with a manifest of kept and rejected images (and why).

    Each crawl runs in its own process (Scrapy's reactor cannot restart), so one run can scrape every
    disaster type; robots.txt is obeyed, downloads are bounded in size and type, and only the allowed
    domains are followed.
    """
    from cinema_dag.scraping.layout import MANIFEST_FILE
    from cinema_dag.scraping.run import scrape
    from cinema_dag.scraping.manifest import write_manifest
    from cinema_dag.vision.quality import filter_images

    detector = _people_detector(config, models, device)
    text_detector, text_filter = _text_detector(context, config)
    summary: dict[str, dict[str, Any]] = {}
    first_manifest = None
    timings: dict[str, float] = {}
    for key in context.partition_keys:
        with store.stage("scraped_images", key) as out:
            with timed(context, "crawl", timings, key):
                report = scrape(
                    key, out, start_urls=config.start_urls.get(key), max_images=config.max_images,
                    allowed_domains=config.allowed_domains or None, image_domains=config.image_domains,
                    timeout_s=config.timeout_s,
                    **{"HTTPCACHE_DIR": str(store.cache_dir(f"scrapy-{key}")), **config.settings},
                )
            context.log.info(f"{key}: {report.images} images from {report.pages} responses "
                             f"({report.finish_reason}); rejected while crawling: {report.rejected}")
            records, paths = report.records(), report.image_paths()
            with timed(context, "filter", timings, key):
                manifest = filter_images(
                    paths, records, min_width=config.min_size, min_height=config.min_size,
                    blur_threshold=config.blur_threshold, hash_distance=config.hash_distance,
                    detect_people=detector, detect_text=text_detector,
                )
            for row in [*manifest.kept, *manifest.rejected]:  # paths relative to the partition folder
                row.path = str(_relative(row.path, out))
                if row.duplicate_of:
                    row.duplicate_of = str(_relative(row.duplicate_of, out))
            write_manifest(manifest, out / MANIFEST_FILE)
        if first_manifest is None:  # the UI table shows the first type's manifest
            first_manifest = manifest
        summary[key] = {"kept": len(manifest.kept), "rejected": len(manifest.rejected),
                        "crawl_rejected": sum(report.rejected.values()), **manifest.reasons()}
        context.log.info(f"{key}: kept {len(manifest.kept)}, rejected {manifest.reasons()}")

    key0 = context.partition_keys[0]
    rows = [*_manifest_rows(first_manifest)][:50]
    return dg.MaterializeResult(metadata={
        "kept": sum(s["kept"] for s in summary.values()),
        "rejected": sum(s["rejected"] for s in summary.values()),
        "per_type": dg.MetadataValue.json(summary),
        "manifest": dg.MetadataValue.table(
            records=[dg.TableRecord(r) for r in rows],
            schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in _MANIFEST_COLUMNS]),
        ),
        "people_detector": config.people_detector,
        "text_filter": text_filter,
        "path": dg.MetadataValue.path(store.uri("scraped_images", key0)),
        **timing_metadata(timings),
    })


_MANIFEST_COLUMNS = ("path", "verdict", "detail", "licence", "page_url")


def _manifest_rows(manifest):
    """The UI table rows of a manifest: kept images first, then rejected ones with their reason."""
    for row in [*manifest.kept, *manifest.rejected]:
        yield {"path": row.path, "verdict": row.reason or "kept", "detail": row.detail[:120],
               "licence": row.licence or "", "page_url": row.page_url or ""}


def _relative(path, folder):
    from pathlib import Path

    path = Path(path)
    return path.relative_to(folder) if path.is_absolute() and path.is_relative_to(folder) else path
