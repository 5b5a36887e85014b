"""One multi-asset builds the silver identity tables together.

They come from one resolution of the identifier graph, so they are produced in one
step and are never out of step with each other. Unpartitioned: identity is global.
Each run reads the landing files identity has not processed yet and re-resolves the
people they touch; `full: true` in the run config rebuilds the graph from all of
bronze (one_ids stay stable either way; see docs/ONEID.md).
"""

import dagster as dg

from orchestration.resources import LakehouseResource
from transforms.identity.pipeline import BRONZE_TABLES

OUTPUTS = {
    "identity_map": "id_type, id_hash -> one_id (pseudonymous identifiers only).",
    "members": "Current pseudonymised profile per one_id (masked phone/name, age band).",
    "pii_vault": "RESTRICTED: clear phone, name, unionid/openid and consent per one_id.",
    "identity_audit": "Per night: merges, splits, shared identifiers, size-cap splits.",
    # The graph kept between nights, so a night touches only what changed.
    "identity_edges": "Graph state: identifier pairs seen on one record.",
    "identity_links": "Graph state: accepted weak links (platform id -> the person's phone).",
    "identity_shared": "Graph state: identifiers the guards took out (store phones, ...).",
    "identity_activity": "Graph state: stores, masked phones, hours per identifier (summed).",
    "identity_phones": "Graph state: each phone's masked form (prefix and last four).",
    "identity_files": "Graph state: the landing files identity has processed.",
    "identity_model": "The weak model's parameter versions (estimated at a full rebuild).",
    "identity_nights": "Commit manifest: each night's table versions, started/done.",
}


class OneIdConfig(dg.Config):
    full: bool = False
    """Rebuild the identifier graph from every bronze row instead of tonight's files."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=["silver", name],
            description=description,
            deps=[dg.AssetKey(["bronze", table]) for table in BRONZE_TABLES],
            group_name="identity",
            kinds={"delta", "spark"},
            tags={"pii": "restricted"} if name == "pii_vault" else {"pii": "pseudonymised"},
        )
        for name, description in OUTPUTS.items()
    ],
    can_subset=False,
)
def oneid(context: dg.AssetExecutionContext, config: OneIdConfig, lakehouse: LakehouseResource):
    """Resolve identities from bronze and publish the silver identity tables."""
    from transforms.identity.pipeline import run_identity

    summary = run_identity(lakehouse.lake(with_spark=True), full=config.full)
    shared = {
        "night": summary.night.isoformat(),
        "mode": summary.mode,
        "files": summary.files,
        "affected_identifiers": summary.affected_identifiers,
        "clusters": summary.clusters,
        "identifiers": summary.identifiers,
        "merges": summary.merges,
        "splits": summary.splits,
        "size_cap_splits": summary.size_cap_splits,
        "shared_identifiers": summary.shared_identifiers,
        "probabilistic_links": summary.probabilistic_links,
        "components_rounds": summary.rounds,
        "rescored_platform_ids": summary.rescored,
        "model_version": summary.model_version,
    }
    if summary.recovered:
        context.log.warning(summary.recovered)
    context.log.info(f"OneID: {shared}")
    for name in OUTPUTS:
        metadata = dict(shared)
        if name == "members":
            metadata["members"] = summary.members
        if name == "pii_vault":
            metadata.update(vault_rows=summary.vault_rows, erased=summary.erased)
        if name == "identity_audit":
            metadata["events"] = dg.MetadataValue.json(summary.events)
        yield dg.MaterializeResult(asset_key=["silver", name], metadata=metadata)
