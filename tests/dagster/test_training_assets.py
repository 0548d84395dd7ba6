"""Acceptance of the training half as Dagster assets: scrape (two types, one run) → captions →
corpus → LoRA (with its blocking check) → generated_prompts using the adapter. Loopback only."""

import dagster as dg
import pytest
from fixture_site import FixtureSite, encode, photo

from cinema_dag.assets.captions import image_captions
from cinema_dag.assets.prompts import generated_prompts
from cinema_dag.assets.scraping import scraped_images
from cinema_dag.assets._common import LOSS_CHECK
from cinema_dag.assets.training import prompt_corpus, prompt_lora
from cinema_dag.automation.jobs import ALL_TYPES_TAGS
from cinema_dag.text.corpus import load_captions_dataset

ASSETS = [scraped_images, image_captions, prompt_corpus, prompt_lora, generated_prompts]


@pytest.fixture
def site():
    site = FixtureSite()
    site.file("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    site.page("/flood.html", """<html><head><title>홍수 피해</title></head><body>
        <img src="/img/f1.jpg" alt="집중호우로 침수된 도로"><img src="/img/f2.jpg" alt="하천범람 현장">
        <img src="/private/f3.jpg" alt="홍수 비공개"></body></html>""")
    site.page("/slide.html", """<html><head><title>산사태</title></head><body>
        <img src="/img/w1.jpg" alt="산사태 피해 현장"></body></html>""")
    for i, path in enumerate(["/img/f1.jpg", "/img/f2.jpg", "/private/f3.jpg", "/img/w1.jpg"]):
        site.file(path, encode(photo(40 + i), "JPEG", quality=92), "image/jpeg")
    yield site
    site.close()


def scrape_config(site):
    return {
        "start_urls": {"flood": [site.url("/flood.html")], "landslide": [site.url("/slide.html")]},
        "allowed_domains": ["127.0.0.1"],
        "people_detector": "none",   # the tiny GroundingDINO is random: it would reject at random
        "text_detector": "none",
        "timeout_s": 120,
        "settings": {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0.0},
    }


def test_retraining_chain_then_prompts_use_the_adapter(site, resources, instance, metadata, tmp_path):
    run_config = {"ops": {
        "scraped_images": {"config": scrape_config(site)},
        "prompt_lora": {"config": {"max_steps": 40, "learning_rate": 5e-3}},
    }}
    # Two disaster types in one run (the nightly job's shape), each crawl in its own process.
    tags = {**ALL_TYPES_TAGS, "dagster/asset_partition_range_start": "flood",
            "dagster/asset_partition_range_end": "landslide"}
    job = dg.Definitions(assets=ASSETS, resources=resources,
                         jobs=[dg.define_asset_job("j", selection=ASSETS[:4])]).resolve_job_def("j")
    result = job.execute_in_process(instance=instance, run_config=run_config, tags=tags)
    assert result.success

    scraped = metadata(result, "scraped_images")
    assert scraped["per_type"]["flood"]["kept"] == 2 and scraped["per_type"]["landslide"]["kept"] == 1
    assert "/private/" not in " ".join(site.fetched())  # robots.txt obeyed

    root = tmp_path / "artefacts"
    flood = load_captions_dataset(root / "image_captions" / "flood" / "dataset")
    assert len(flood) == 2
    assert set(flood.column_names) >= {"image_path", "caption", "disaster_type", "source_page", "image_url", "licence"}
    assert set(flood["disaster_type"]) == {"flood"}

    corpus = metadata(result, "prompt_corpus")
    assert "flood" in corpus["types_present"] and "earthquake" in corpus["types_missing"]

    lora = metadata(result, "prompt_lora")
    assert lora["final_loss"] < lora["first_loss"]
    assert (root / "prompt_lora" / "all" / "adapter" / "adapter_model.safetensors").exists()
    check = [e for e in result.get_asset_check_evaluations() if e.check_name == LOSS_CHECK]
    assert len(check) == 1 and check[0].passed == (lora["held_out_loss"] < lora["base_held_out_loss"])

    prompts = dg.materialize([generated_prompts], partition_key="flood", resources=resources, instance=instance)
    used = metadata(prompts, "generated_prompts")
    assert used["used_adapter"] is check[0].passed
    if check[0].passed:
        assert used["adapter"] == lora["version"]
