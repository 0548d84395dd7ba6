"""Alert latency: a CAP file dropped into the watched folder → MP4 on disk, through the real sensor
and a real run (``dagster-daemon run`` on a temporary DAGSTER_HOME), split by stage.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/alert_latency.py            # tiny profile, CPU
    python benchmarks/alert_latency.py --threads 2 --repeats 3

What it does: builds the tiny models into a cache first (models cached, as in production), writes
a ``dagster.yaml`` (SQLite, the default run coordinator so a sensor's run launches at once), starts
the daemon with a 1 s sensor interval, drops one warm-up alert and waits for its video (the first
run also warms the page cache), then drops each measured alert atomically (write, rename) and
reads the stages from the run's event log:

* sensor: drop → run created by the sensor tick (includes waiting for the daemon's next loop,
  at most 5 s in Dagster 1.13, ``MIN_INTERVAL_LOOP_TIME``);
* launch: run created → RUN_START (the run worker process starts and loads the code);
* step start: RUN_START → STEP_START (resources);
* the step: model loading and every render stage (``seconds_*`` metadata of the asset);
* end: STEP_SUCCESS → RUN_SUCCESS; and drop → the video at its final path (polled every 20 ms;
  the partition is renamed into place when complete).

A benchmark, not a test: it prints what it measured; the target (≤ 20 s end to end on CPU, tiny)
is checked by reading it. The GPU ``fast``-profile target is not measured without a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = next((p / "shared" / "fixtures" / "cap" / "heavy_rain_bilingual.xml" for p in ROOT.parents
                if (p / "shared" / "fixtures").is_dir()), ROOT / "missing")
ALERT_ID = "KR-TEST-20250717-0001"

DAGSTER_YAML = """\
storage:
  sqlite:
    base_dir: {home}/storage
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
"""


def _fixture_text() -> str:
    if FIXTURE.is_file():
        return FIXTURE.read_text(encoding="utf-8")
    return (ROOT / "tests" / "alerts" / "fixtures" / "landslide_korean_geo.xml").read_text(encoding="utf-8")


def drop_alert(inbox: Path, identifier: str) -> float:
    """Write an alert with ``identifier`` into ``inbox`` atomically; returns the drop time (epoch s)."""
    text = re.sub(r"<identifier>[^<]*</identifier>", f"<identifier>{identifier}</identifier>", _fixture_text(), count=1)
    tmp = inbox.parent / f".{identifier}.xml"
    tmp.write_text(text, encoding="utf-8")
    dropped = time.time()
    os.replace(tmp, inbox / f"{identifier}.xml")
    return dropped


def wait_for_run(instance, identifier: str, video: Path, timeout: float):
    """The finished run of the alert, and when ``video`` first existed at its final path (epoch s).

    The store writes a partition under a temporary name and renames it when complete, so the path
    appearing is the moment a consumer can read the video (its mtime, set while ffmpeg wrote it
    inside the temporary folder, is earlier)."""
    import dagster as dg

    from cinema_dag.automation.sensors import ALERT_ID_TAG, alert_id_tag

    deadline = time.time() + timeout
    appeared = None
    next_query = 0.0
    while time.time() < deadline:
        if appeared is None and video.exists():
            appeared = time.time()
        if time.time() >= next_query:
            records = instance.get_run_records(dg.RunsFilter(tags={ALERT_ID_TAG: alert_id_tag(identifier)}))
            if records and records[0].dagster_run.is_finished:
                return records[0], appeared if appeared is not None else time.time()
            next_query = time.time() + 0.2
        time.sleep(0.02)
    raise TimeoutError(f"no finished run for {identifier} within {timeout:.0f} s")


def stages(instance, record, dropped: float, video: Path, appeared: float) -> dict[str, float]:
    import dagster as dg

    run = record.dagster_run
    events = instance.all_logs(run.run_id)
    first = {}
    for event in events:
        kind = event.dagster_event_type
        if kind is not None and kind not in first:
            first[kind] = event.timestamp
    created = record.create_timestamp.timestamp()
    t = dg.DagsterEventType
    materialization = next(e for e in events if e.dagster_event_type == t.ASSET_MATERIALIZATION)
    metadata = {
        k: v.value for k, v in materialization.dagster_event.event_specific_data.materialization.metadata.items()
    }
    out = {
        "sensor tick (drop → run created)": created - dropped,
        "launch (run created → RUN_START)": first[t.RUN_START] - created,
        "step start (RUN_START → STEP_START)": first[t.STEP_START] - first[t.RUN_START],
        "step: load models": metadata.get("seconds_load_models", float("nan")),
    }
    for name in ("prompt", "image", "mask", "depth", "cinemagraph", "measure", "card", "speech", "encode"):
        out[f"step: {name}"] = metadata.get(f"seconds_{name}", float("nan"))
    out["step: cap out"] = metadata.get("seconds_cap_out", float("nan"))
    out["step total (STEP_START → STEP_SUCCESS)"] = first[t.STEP_SUCCESS] - first[t.STEP_START]
    out["end (STEP_SUCCESS → RUN_SUCCESS)"] = first[t.RUN_SUCCESS] - first[t.STEP_SUCCESS]
    out["video written (drop → MP4 mtime, in the staging folder)"] = video.stat().st_mtime - dropped
    out["END TO END (drop → video on disk)"] = appeared - dropped
    out["drop → RUN_SUCCESS"] = first[t.RUN_SUCCESS] - dropped
    return out


def compare_in_process(threads: int) -> None:
    """The design choice, measured: the per-type chain (7 steps) vs the one-step alert asset, both
    under the in-process executor in this process (models built and cached first; each
    ``materialize`` gets fresh resources, so models load once per run, as in a real run)."""
    import dagster as dg

    from cinema_dag.assets import (
        alerts,
        cinemagraphs,
        depth,
        flow,
        images,
        ldis,
        masks,
        prompts,
    )
    from cinema_dag.resources import ArtefactStore, ModelRegistry, TorchDevice

    work = Path(tempfile.mkdtemp(prefix="cinema-dag-compare-"))

    def resources():
        return {"store": ArtefactStore(root=str(work / "artefacts")),
                "models": ModelRegistry(profile="tiny", cache_dir=str(work / "models")),
                "device": TorchDevice(device="cpu", threads=threads)}

    chain = [prompts.generated_prompts, images.disaster_images, masks.motion_masks, depth.depth_maps,
             ldis.depth_ldis, flow.flow_fields, cinemagraphs.cinemagraphs]
    chain_config = {"ops": {"generated_prompts": {"config": {"num_prompts": 1}},
                            "disaster_images": {"config": {"num_images": 1}},
                            "cinemagraphs": {"config": {"num_frames": 48, "fps": 24, "width": 480, "crf": 23}}}}

    def alert_config(i, accessible):
        return {"ops": {"alert_cinemagraphs": {"config": {
            "alert_id": f"compare-{i}", "keywords": ["호우", "극한호우", "Heavy Rain"], "severity": "Severe",
            "headline": "극한호우 발생", "instruction": "지자체 안내에 따라 안전한 곳으로 대피하십시오.",
            "caption": accessible, "speech": accessible}}}}

    with dg.instance_for_test() as instance:
        def timed_run(assets, config):
            start = time.perf_counter()
            assert dg.materialize(assets, partition_key="flood", run_config=config, resources=resources(),
                                  instance=instance).success
            return time.perf_counter() - start

        timed_run([alerts.alert_cinemagraphs], alert_config(0, True))  # builds the tiny models (not timed)
        rows = {
            "per-type chain, 7 steps (no caption/speech)": timed_run(chain, chain_config),
            "alert asset, 1 step, no caption/speech": timed_run([alerts.alert_cinemagraphs], alert_config(1, False)),
            "alert asset, 1 step, caption + speech + CAP out": timed_run(
                [alerts.alert_cinemagraphs], alert_config(2, True)
            ),
        }
    print(f"in-process comparison (one run each, OMP_NUM_THREADS={threads}, load average "
          f"{os.getloadavg()[0]:.2f}):")
    for name, seconds in rows.items():
        print(f"  {name:<52s} {seconds:7.2f} s")
    shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")),
                        help="OMP_NUM_THREADS / torch threads of the run (default: $OMP_NUM_THREADS or 1)")
    parser.add_argument("--repeats", type=int, default=2, help="measured alerts after the warm-up")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for each run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--compare-in-process", action="store_true",
                        help="instead: time the per-type chain vs the alert asset in this process")
    args = parser.parse_args(argv)
    if args.compare_in_process:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        compare_in_process(args.threads)
        return

    work = Path(tempfile.mkdtemp(prefix="cinema-dag-alert-latency-"))
    home, data, inbox = work / "dagster_home", work / "data", work / "inbox"
    for folder in (home, data, inbox):
        folder.mkdir(parents=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML.format(home=home))
    env = {**os.environ, "DAGSTER_HOME": str(home), "CINEMA_DAG_HOME": str(data),
           "CINEMA_DAG_ALERT_INBOX": str(inbox), "CINEMA_DAG_ALERT_POLL_SECONDS": "1",
           "OMP_NUM_THREADS": str(args.threads), "CINEMA_DAG_TORCH_THREADS": str(args.threads),
           "HF_HUB_OFFLINE": "1", "DAGSTER_DISABLE_TELEMETRY": "1", "PYTHONPATH": str(ROOT),
           "CINEMA_DAG_DEVICE": "cpu"}

    # 1. Models cached: build the tiny models once (not timed), where the run's registry looks.
    start = time.perf_counter()
    build = ("from cinema_dag.models import load_component\n"
             "for c in ('llm','text_to_image','grounding','segmenter','depth'):\n"
             f"    load_component(c, profile='tiny', cache_dir={str(data / 'models')!r})")
    subprocess.run([sys.executable, "-c", build],
                   env=env, check=True, capture_output=True)
    print(f"tiny models built in {time.perf_counter() - start:.1f} s (not part of the latency)")

    # 2. Create the instance's SQLite storage first: the daemon and its code server would otherwise
    #    race to create the same tables. Then the real daemon: sensors + run launcher, 1 s interval.
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from cinema_dag.alerts.keys import alert_store_key
    from cinema_dag.artefacts import VIDEO_FILE
    from cinema_dag.assets._common import ALERT_ASSET

    os.environ["DAGSTER_HOME"] = str(home)
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    instance.get_runs(limit=1)
    instance.all_instigator_state()
    dagster_daemon = str(Path(sys.executable).with_name("dagster-daemon"))
    log = open(work / "daemon.log", "w")  # noqa: SIM115 - the daemon writes to it until it stops
    daemon = subprocess.Popen([dagster_daemon, "run", "-w", str(ROOT / "workspace.yaml")], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)

    results = []
    try:
        with instance:
            # 3. Warm-up alert (page cache, first code load), then the measured ones.
            for i in range(args.repeats + 1):
                identifier = f"{ALERT_ID}-bench{i}"
                dropped = drop_alert(inbox, identifier)
                video = data / "artefacts" / ALERT_ASSET / alert_store_key(identifier) / VIDEO_FILE
                record, appeared = wait_for_run(instance, identifier, video, args.timeout)
                if not record.dagster_run.is_success:
                    raise RuntimeError(f"run {record.dagster_run.run_id} for {identifier} failed; see {work}")
                row = stages(instance, record, dropped, video, appeared)
                results.append(row)
                label = "warm-up" if i == 0 else f"alert {i}"
                print(f"{label}: end to end {row['END TO END (drop → video on disk)']:.2f} s")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()

    measured = results[1:] or results
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} (1 min); OMP_NUM_THREADS={args.threads}, "
          f"torch threads={args.threads}; profile tiny, device cpu; dagster-daemon with DefaultRunCoordinator, "
          f"sensor interval 1 s; alert job in-process (1 step)")
    width = max(len(name) for name in measured[0])
    print(f"{'stage':<{width}s} " + " ".join(f"{'run ' + str(i + 1):>8s}" for i in range(len(measured))) + "   (s)")
    for name in measured[0]:
        print(f"{name:<{width}s} " + " ".join(f"{r[name]:8.2f}" for r in measured))
    best = min(r["END TO END (drop → video on disk)"] for r in measured)
    print(f"\nbest end to end: {best:.2f} s (target ≤ 20 s on CPU, tiny); GPU fast-profile ≤ 3 s: "
          "not measured (no GPU)")
    (work / "results.json").write_text(json.dumps(results, indent=2))
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
