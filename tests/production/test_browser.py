"""The Dagster UI in a real browser: `dagster dev` on loopback, driven by headless Chromium (Debian's
chromium + chromium-driver, through Selenium; no browser download).

It opens the asset graph, expands the groups and finds every asset of the code location, then
materializes one partition of ``generated_prompts`` from the asset's page (Materialize → partition →
Launch) and waits for the run to succeed in the UI. Screenshots go to ``$CINEMA_DAG_TEST_ARTEFACTS``
(``.ci/run`` keeps ``test-artefacts/``), else to the test's tmp folder.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef
from loopback_services import free_port, missing, stop_process_group

from cinema_dag.definitions import defs

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ASSET, PARTITION = "generated_prompts", "flood"
# The flags that work on these machines: no sandbox as root, no GPU, no calls home.
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1600,1000"]


@pytest.fixture
def artefacts(tmp_path):
    folder = Path(os.environ.get("CINEMA_DAG_TEST_ARTEFACTS", tmp_path)) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def dagster_ui(tmp_path, tiny_cache):
    """`dagster dev` (webserver, daemon, code server) on a free loopback port with a fresh instance.

    The instance is the repository's embedded dagster.yaml (queue, gpu pool, retries, monitoring) with
    its storage moved into a temporary DAGSTER_HOME.
    """
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        missing("chromium and chromedriver", "chromium chromium-driver")
    home, data = tmp_path / "dagster_home", tmp_path / "cinema_home"
    home.mkdir()
    data.mkdir()
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config.pop("storage"), config.pop("local_artifact_storage")  # default: SQLite under DAGSTER_HOME
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (data / "models").symlink_to(tiny_cache, target_is_directory=True)
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CINEMA_DAG_HOME": str(data), "CINEMA_DAG_DEVICE": "cpu",
           "CINEMA_DAG_PROFILE": "tiny", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "DAGSTER_DISABLE_TELEMETRY": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    log = tmp_path / "dagster_dev.log"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1",
         "-p", str(port)], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)  # its own group: the webserver, daemon and code server stop together
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {server.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"dagster dev not serving after 240 s:\n{log.read_text()[-4000:]}")
            time.sleep(1)
        yield base, home, log
    finally:
        stop_process_group(server)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="cinema-dag-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """Finds and clicks what a person sees: displayed elements by their text."""

    def __init__(self, driver, timeout: float = 60):
        self.driver, self.timeout = driver, timeout

    def visible(self, text: str, tag: str = "*"):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        # The innermost element holding the text (a button: the button itself, whatever it wraps).
        xpath = (f"//{tag}[contains(., '{text}')]" if tag != "*"
                 else f"//*[contains(., '{text}') and not(*[contains(., '{text}')])]")
        found = []
        for element in self.driver.find_elements(By.XPATH, xpath):
            try:
                if element.is_displayed():
                    found.append(element)
            except StaleElementReferenceException:
                continue
        return found

    def wait_for(self, text: str, tag: str = "*", timeout: float | None = None):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.3).until(
            lambda _: self.visible(text, tag) or False, message=f"no visible {text!r} on {self.driver.current_url}")

    def click(self, text: str, tag: str = "*", timeout: float | None = None, topmost: bool = False) -> None:
        """Clicks the first displayed element with the text, or with topmost the last one.

        Popovers and dialogs render at the end of the document, above the page: topmost picks
        the list item, not the same word on the page behind it.
        """
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        def attempt(_):
            try:
                elements = self.visible(text, tag)
                if elements:
                    elements[-1 if topmost else 0].click()
                    return True
            except (StaleElementReferenceException, ElementNotInteractableException,
                    ElementClickInterceptedException):
                pass  # re-rendered or covered for a moment: look again
            return False

        WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.3).until(
            attempt, message=f"could not click {text!r} on {self.driver.current_url}")


@pytest.mark.slow
def test_ui_shows_every_asset_and_materializes_a_partition(dagster_ui, browser, artefacts):
    from selenium.webdriver.common.by import By

    base, home, log = dagster_ui
    page = Page(browser)
    graph = defs().get_repository_def().asset_graph
    assets = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    groups = sorted({graph.get(k).group_name for k in graph.get_all_asset_keys()})

    # 1. The asset graph: one box per group, in the graph's order; expanded, every asset.
    browser.get(f"{base}/asset-groups")
    for group in groups:
        page.wait_for(group, timeout=180)  # the first load waits for the code location
    graph_settings = browser.find_elements(By.CSS_SELECTOR, "[aria-label=settings]")[-1]
    graph_settings.find_element(By.XPATH, "..").click()
    page.click("Expand all groups")
    missing_assets = [a for a in assets if not page.visible(a)]
    deadline = time.monotonic() + 30
    while missing_assets and time.monotonic() < deadline:
        time.sleep(0.5)
        missing_assets = [a for a in assets if not page.visible(a)]
    browser.save_screenshot(str(artefacts / "asset_graph.png"))
    assert not missing_assets, f"not in the asset graph: {missing_assets}"

    # 2. Materialize one partition from the asset's page.
    browser.get(f"{base}/assets/{ASSET}")
    try:
        page.click("Materialize", tag="button")
        _choose_partition(page, PARTITION)
        page.click(f"Launch runs to materialize {ASSET}")  # close the partition list
        page.click("Launch 1 run", tag="button")
    except Exception:
        browser.save_screenshot(str(artefacts / "launch_failed.png"))
        raise

    # 3. The run appears in the UI and succeeds there.
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        deadline = time.monotonic() + 60
        while not (runs := instance.get_runs()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(runs) == 1, f"the UI launched {len(runs)} runs"
        run = runs[0]
        browser.get(f"{base}/runs/{run.run_id}")
        deadline = time.monotonic() + 600
        while not instance.get_run_by_id(run.run_id).is_finished and time.monotonic() < deadline:
            time.sleep(2)
        finished = instance.get_run_by_id(run.run_id)
        browser.refresh()
        page.wait_for("Finished execution of run", timeout=60)
        browser.save_screenshot(str(artefacts / "run.png"))
        assert finished.status == dg.DagsterRunStatus.SUCCESS, log.read_text()[-4000:]
        assert finished.tags["dagster/partition"] == PARTITION
        assert page.visible("Success"), "the run page does not show Success"
        assert instance.get_materialized_partitions(dg.AssetKey(ASSET)) == {PARTITION}

    browser.get(f"{base}/assets/{ASSET}")
    page.wait_for("num_prompts")  # the materialization's metadata, shown on the asset's page
    browser.save_screenshot(str(artefacts / "asset_after_run.png"))


def _choose_partition(page: Page, partition: str, attempts: int = 4) -> None:
    """Opens the launch dialog's partition list and picks one partition.

    On a loaded machine the "upstream not materialized" confirmation can arrive late, and the
    list can close again when the dialog re-renders: look at what is on screen and act on it.
    """
    from selenium.common.exceptions import TimeoutException

    for _ in range(attempts):
        if _appears(page, "Confirm", "button", 5):
            page.click("Confirm", tag="button")  # "upstream prompt_lora not materialized": it is optional
        page.click("Select a partition")
        if _appears(page, partition, "*", 15):
            try:
                page.click(partition, timeout=15, topmost=True)
                return
            except TimeoutException:
                continue  # the list closed under the click: open it again
    raise AssertionError(f"the partition list never showed {partition!r} on {page.driver.current_url}")


def _appears(page: Page, text: str, tag: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.visible(text, tag):
            return True
        time.sleep(0.3)
    return False
