"""video_catalogue: one lineage row per video, library and alert videos alike (JSON)."""

import dagster as dg

from cinema_dag.assets._common import (
    ALERT_ASSET,
    ALL,
    CANCEL_ID_KEY,
    CANCELLED_ALERT_KEY,
    CATALOGUE_ASSET,
    GROUP_ALERTS,
    OWNERS,
)
from cinema_dag.resources import ArtefactStore


def _cancelled(context: dg.AssetExecutionContext) -> dict[str, str]:
    """Alert id → the Cancel that withdrew it, from the alert sensors' observations on the alert asset."""
    cancelled: dict[str, str] = {}
    cursor = None
    while True:
        page = context.instance.fetch_observations(dg.AssetKey(ALERT_ASSET), limit=1000, cursor=cursor)
        for record in page.records:
            metadata = record.asset_observation.metadata if record.asset_observation else {}
            if CANCELLED_ALERT_KEY in metadata:
                cancel = metadata.get(CANCEL_ID_KEY)
                cancelled[str(metadata[CANCELLED_ALERT_KEY].value)] = str(cancel.value) if cancel else ""
        if not page.has_more:
            return cancelled
        cursor = page.cursor


@dg.asset(deps=["cinemagraphs", ALERT_ASSET], group_name=GROUP_ALERTS, owners=OWNERS[GROUP_ALERTS], code_version="1",
          kinds={"json"})
def video_catalogue(context: dg.AssetExecutionContext, store: ArtefactStore) -> dg.MaterializeResult:
    """``catalogue.json``: for every library video (each type's ``cinemagraphs``) and every alert
    video, its alert id, prompt, negative prompt, seeds, camera path, model ids, adapter version,
    code version, creation time and SHA-1, and for an alert video the Cancel that withdrew it (if any)."""
    from pathlib import Path

    from cinema_dag.alerts.catalogue import (
        CATALOGUE_FIELDS,
        UNKNOWN,
        CatalogueRow,
        code_version,
        library_rows,
    )
    from cinema_dag.artefacts import CATALOGUE_FILE, IMAGES_FILE, LIBRARY_FILE, LINEAGE_FILE, read_json, write_json

    rows: list[CatalogueRow] = []
    version = code_version()
    for partition in store.partitions("cinemagraphs"):
        folder = store.require("cinemagraphs", partition)
        manifest = store.manifest("cinemagraphs", partition)
        images = (read_json(store.require("disaster_images", partition), IMAGES_FILE).get("images", [])
                  if store.is_complete("disaster_images", partition) else [])
        rows += library_rows(partition, folder, read_json(folder, LIBRARY_FILE), images,
                             created_at=manifest["written_at"],
                             uri_of=lambda name, p=partition: store.uri("cinemagraphs", p, name))
    cancelled = _cancelled(context)
    for key in store.partitions(ALERT_ASSET):
        lineage = read_json(store.require(ALERT_ASSET, key), LINEAGE_FILE)
        fields = {f: lineage[f] for f in CATALOGUE_FIELDS if f in lineage}
        rows.append(CatalogueRow(**{"code_version": UNKNOWN, **fields,
                                    "cancelled_by": cancelled.get(lineage["alert_id"])}))
    records = [r.to_dict() for r in rows]
    with store.stage(CATALOGUE_ASSET, ALL, {"videos": len(records)}) as out:
        write_json(out, CATALOGUE_FILE, records)
    table = "\n".join(f"| {r['kind']} | {r['disaster_type']} | {r['alert_id'] or ''} | {r['camera']} | "
                      f"{r['seed']} | {Path(r['video']).name} | {r['sha1'][:10]} |" for r in records[:50])
    return dg.MaterializeResult(metadata={
        "videos": len(records),
        "library_videos": sum(r["kind"] == "library" for r in records),
        "alert_videos": sum(r["kind"] == "alert" for r in records),
        "cancelled_alert_videos": sum(r["cancelled_by"] is not None for r in records),
        "code_version": version,
        "catalogue": dg.MetadataValue.md("| kind | type | alert | camera | seed | video | sha1 |\n"
                                         "|---|---|---|---|---|---|---|\n" + table),
        "path": dg.MetadataValue.path(store.uri(CATALOGUE_ASSET, ALL, CATALOGUE_FILE)),
    })
