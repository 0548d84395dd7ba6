"""Writer processes for the fault tests: ``python writers.py <mode> '<json args>'``.

Each mode prints one JSON line with what it did. Modes that hang write ``{"pid": …}`` to a ready file
first, so the test can kill that very process by its PID.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def stage_files(root: str, asset: str, partition: str, tag: str, files: int, delay: float,
                cache_root: str | None = None, ready: str | None = None, go: str | None = None) -> dict:
    """Write ``files`` files whose content names ``tag``, slowly, as one new version. With ``ready``
    and ``go``: say ready, then start only when the ``go`` file appears (writers start together)."""
    from cinema_dag.storage import ArtefactStorage

    storage = ArtefactStorage(root, **({"cache_root": cache_root} if cache_root else {}))
    if ready and go:
        Path(ready).write_text(json.dumps({"pid": os.getpid()}))
        while not Path(go).exists():
            time.sleep(0.005)
    with storage.stage(asset, partition, {"tag": tag}) as out:
        entered = time.time()
        for i in range(files):
            (out / f"part_{i:03d}.txt").write_text(f"{tag}:{i}")
            time.sleep(delay)
        wrote = time.time()
    return {"tag": tag, "entered": entered, "wrote": wrote, "committed": time.time()}


def stage_versions(root: str, asset: str, partition: str, versions: int, files: int, cache_root: str) -> dict:
    """Write ``versions`` versions one after the other (for a reader polling meanwhile)."""
    for v in range(versions):
        stage_files(root, asset, partition, f"v{v}", files, 0.0, cache_root)
    return {"versions": versions}


def upload_then_hang(root: str, asset: str, partition: str, files: int, hang_after: int, ready: str,
                     cache_root: str) -> dict:
    """Object storage: start uploading a new version and stop for good after ``hang_after`` files."""
    from cinema_dag.storage import ArtefactStorage

    storage = ArtefactStorage(root, cache_root=cache_root)
    put_file, uploaded = storage._fs.put_file, []

    def put_then_hang(lpath, rpath, **kwargs):
        put_file(lpath, rpath, **kwargs)
        uploaded.append(rpath)
        if len(uploaded) == hang_after:
            Path(ready).write_text(json.dumps({"pid": os.getpid(), "uploaded": uploaded}))
            time.sleep(600)

    storage._fs.put_file = put_then_hang
    with storage.stage(asset, partition, {"tag": "killed"}) as out:
        for i in range(files):
            (out / f"part_{i:03d}.txt").write_text(f"killed:{i}")
    return {"error": "not killed"}


def materialize_flows(root: str, partition: str, config: dict, hang: str | None = None) -> dict:
    """Materialize ``flow_fields`` (in-process executor: this process is the step's); with ``hang``,
    write the first flow, report the PID to that file and stop there."""
    import dagster as dg

    from cinema_dag import artefacts
    from cinema_dag.assets.flow import flow_fields
    from cinema_dag.resources import ArtefactStore

    if hang:
        write_arrays = artefacts.write_arrays

        def write_one_then_hang(folder, arrays, kind):
            write_arrays(folder, arrays[:1], kind)
            Path(hang).write_text(json.dumps({"pid": os.getpid(), "staging": str(folder)}))
            time.sleep(600)

        artefacts.write_arrays = write_one_then_hang
    with dg.instance_for_test() as instance:
        result = dg.materialize([flow_fields], partition_key=partition, resources={"store": ArtefactStore(root=root)},
                                instance=instance, run_config={"ops": {"flow_fields": {"config": config}}})
    return {"success": result.success}


if __name__ == "__main__":
    mode, args = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(globals()[mode](**args)), flush=True)
