"""One multi-asset builds the four silver identity tables together.

They come from one resolution of the whole identifier graph, so they are produced in
one step and are never out of step with each other. Unpartitioned: identity is
global; each run re-resolves from all of bronze and keeps one_ids stable against the
previous run (see docs/ONEID.md).
"""

import dagster as dg

from orchestration.resources import LakehouseResource
from transforms.identity.pipeline import BRONZE_TABLES

OUTPUTS = {
    "identity_map": "id_type, id_hash -> one_id (pseudonymous identifiers only).",
    "members": "Current pseudonymised profile per one_id (masked phone/name, age band).",
    "pii_vault": "RESTRICTED: clear phone, name, unionid/openid and consent per one_id.",
    "identity_audit": "Per night: merges, splits, shared identifiers, size-cap splits.",
}


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
def oneid(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Resolve identities from bronze and publish the silver identity tables."""
    from transforms.identity.pipeline import run_identity

    summary = run_identity(lakehouse.lake(with_spark=True))
    shared = {
        "night": summary.night.isoformat(),
        "clusters": summary.clusters,
        "identifiers": summary.identifiers,
        "merges": summary.merges,
        "splits": summary.splits,
        "size_cap_splits": summary.size_cap_splits,
        "shared_identifiers": summary.shared_identifiers,
        "probabilistic_links": summary.probabilistic_links,
        "components_rounds": summary.rounds,
    }
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


defs = dg.Definitions(assets=[oneid])
