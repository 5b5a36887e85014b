"""`bakehouse rekey`: rebuild the lake's pseudonyms under a new PII key, keeping one_ids.

Every pseudonym is HMAC-SHA256(key, "<id_type>:<value>") (`bakehouse.pii`), so a new
key gives every identifier a new pseudonym. Run blindly, the next night would see only
strangers and split every person. Rekeying is therefore one deliberate operation:

1. The old key must be the one the lake records (`bakehouse.preflight` fingerprint),
   and the new key (the configured one: `BAKEHOUSE_PII_KEY` or the home's key file)
   must differ from it.
2. Every identifier bronze holds is hashed under both keys: the map old pseudonym ->
   new pseudonym, for each id type. Bronze keeps the clear values (as the vault does
   for members); nothing clear is written anywhere.
3. The current identity map and the audit are re-expressed through that map, so
   one_ids (also those minted last night, which derive from pseudonyms), their
   first_seen and the audit history carry over; identifiers bronze no longer holds
   cannot be mapped and are counted.
4. Silver is rebuilt from bronze under the new key (`transforms.build.build_full`),
   then identity (`run_identity(full=True)` from the re-expressed map).
5. Last, the new key's fingerprint is recorded. Until then the lake still records the
   old key, so an interrupted rekey is simply run again with the same arguments.

Gold is not rebuilt here yet (the dbt project does not exist in this tree): tables
found in the gold layer are listed in the result as stale, to be rebuilt by dbt.
"""

from __future__ import annotations

import hmac
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bakehouse.config import Settings
from bakehouse.lake import Lake
from bakehouse.preflight import (
    PreflightError,
    key_fingerprint,
    record_fingerprint,
    stored_fingerprint,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


class RekeyError(RuntimeError):
    """A rekey that must not start; `str()` is one line. Nothing was written."""


@dataclass
class RekeyResult:
    """What a rekey did. Counts are identifiers (map rows) unless named otherwise."""

    old_fingerprint: str
    new_fingerprint: str
    night: date | None = None
    identifiers_mapped: int = 0
    identifiers_unmapped: int = 0
    one_ids_before: int = 0
    one_ids_kept: int = 0
    audit_rows_mapped: int = 0
    rebuild_merges_splits: int = 0  # people the rebuild itself merged or split (normally 0)
    silver_rebuilt: list[str] = field(default_factory=list)
    # layer.table left as they were and not empty (gold, until dbt is wired in here)
    not_rebuilt: list[str] = field(default_factory=list)
    seconds: float = 0.0


def pseudonym_mapping(lake: Lake, old_key: bytes, new_key: bytes) -> DataFrame:
    """(id_type, id_hash, new_hash): every identifier in bronze under both keys.

    Built from the same observations OneID hashes (`all_observations`), so it covers
    exactly the pseudonyms identity can have written.
    """
    from pyspark.sql import functions as F

    from transforms.identity.identifiers import all_observations
    from transforms.identity.pipeline import read_bronze
    from transforms.identity.resolution import hash_observations

    bronze = read_bronze(lake)
    values = (
        all_observations(bronze, douyin_orders=bronze.get("douyin_orders"))
        .select("id_type", "id_value")
        .where(F.col("id_value").isNotNull())
        .distinct()
    )
    old = hash_observations(values, old_key).select("id_type", "id_value", "id_hash")
    new = hash_observations(values, new_key).select(
        "id_type", "id_value", F.col("id_hash").alias("new_hash")
    )
    return old.join(new, ["id_type", "id_value"]).select("id_type", "id_hash", "new_hash")


def remap_identity_map(previous: DataFrame, mapping: DataFrame) -> tuple[DataFrame, DataFrame]:
    """The map re-expressed under the new key, and the rows that could not be mapped."""
    from pyspark.sql import functions as F

    from transforms.identity.resolution import node_id

    joined = previous.join(mapping, ["id_type", "id_hash"], "left")
    mapped = (
        joined.where(F.col("new_hash").isNotNull())
        .withColumn("id_hash", F.col("new_hash"))
        .withColumn("node", node_id(F.col("id_type"), F.col("new_hash")))
    )
    columns = [c for c in previous.columns if c != "node"]
    columns = ["node", *columns]
    unmapped = joined.where(F.col("new_hash").isNull()).select(*previous.columns)
    return mapped.select(*columns), unmapped


def remap_audit(audit: DataFrame, mapping: DataFrame) -> DataFrame:
    """Audit rows with their `id_hash` under the new key (null where it cannot map)."""
    from pyspark.sql import functions as F

    columns = audit.columns
    pairs = mapping.select(
        F.col("id_type").alias("_type"), F.col("id_hash").alias("_old"), "new_hash"
    )
    joined = audit.join(
        pairs,
        (audit["id_type"] == pairs["_type"]) & (audit["id_hash"] == pairs["_old"]),
        "left",
    )
    return joined.withColumn("id_hash", F.col("new_hash")).select(*columns)


def check_keys(settings: Settings, old_key: bytes, new_key: bytes) -> tuple[str, str]:
    """The old and new fingerprints, if this rekey may start; else RekeyError."""
    try:
        stored = stored_fingerprint(settings)
    except PreflightError as error:
        raise RekeyError(str(error)) from None
    old, new = key_fingerprint(old_key), key_fingerprint(new_key)
    if stored is None:
        raise RekeyError(
            "the lake records no key fingerprint yet: nothing was built under a known key, "
            "so there is nothing to rekey (the next run records the current key)"
        )
    if not hmac.compare_digest(stored, old):
        raise RekeyError(
            f"the old key given (fingerprint {old[:12]}…) is not the key this lake was built "
            f"with (fingerprint {stored[:12]}…)"
        )
    if hmac.compare_digest(old, new):
        raise RekeyError(
            f"the configured PII key is the lake's key already (fingerprint {old[:12]}…): "
            "set BAKEHOUSE_PII_KEY (or the home's key file) to the new key first"
        )
    return old, new


def rekey(lake: Lake, old_key: bytes, new_key: bytes) -> RekeyResult:
    """Rebuild silver and identity under `new_key`, keeping one_ids; record its fingerprint.

    Args:
        lake: a Lake with a Spark session, over an existing home.
        old_key: the key the lake was built with (its fingerprint must match).
        new_key: the key to rebuild under (the configured key).

    Raises:
        RekeyError: the keys do not fit the lake (nothing written then).
    """
    started = time.perf_counter()
    settings = lake.settings
    old_fp, new_fp = check_keys(settings, old_key, new_key)
    result = RekeyResult(old_fingerprint=old_fp, new_fingerprint=new_fp)
    versions_before = {
        (layer, table): lake.version(layer, table)
        for layer in ("silver", "gold")
        for table in lake.tables(layer)
    }

    from transforms.identity.graph import Checkpointer

    (settings.home / "scratch").mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="rekey-", dir=settings.home / "scratch"))
    cut = Checkpointer(scratch)  # frames are materialised before their tables are rewritten
    try:
        _rekey_tables(lake, old_key, new_key, result, cut)
    finally:
        cut.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    record_fingerprint(settings, new_key)

    for (layer, table), version in versions_before.items():
        if lake.version(layer, table) == version:
            # An empty table holds no pseudonyms; the build log holds none at all.
            if lake.row_count(layer, table) and (layer, table) != ("silver", "build_log"):
                result.not_rebuilt.append(f"{layer}.{table}")
        elif layer == "silver":
            result.silver_rebuilt.append(table)
    result.seconds = time.perf_counter() - started
    return result


def _rekey_tables(lake: Lake, old_key: bytes, new_key: bytes, result: RekeyResult, cut) -> None:
    """Steps 2-4 of the module docstring; `cut` materialises a frame (a Checkpointer)."""
    from pyspark.sql import functions as F

    from transforms.identity.pipeline import (
        IDENTITY_AUDIT,
        IDENTITY_MAP,
        SILVER,
        run_identity,
    )

    translated = None
    audit = None
    if lake.exists(SILVER, IDENTITY_MAP):
        mapping = cut(pseudonym_mapping(lake, old_key, new_key))
        # The current map, not the last earlier night's as the weekly rebuild uses: the
        # one_ids minted last night derive from pseudonyms, so only the current map
        # carries every one_id over. The audit is re-keyed whole instead.
        current = lake.read(SILVER, IDENTITY_MAP)
        result.night = current.agg(F.max("night")).collect()[0][0]
        result.one_ids_before = current.select("one_id").distinct().count()
        translated, unmapped = remap_identity_map(current, mapping)
        translated = cut(translated)
        result.identifiers_mapped = translated.count()
        result.identifiers_unmapped = unmapped.count()
        if lake.exists(SILVER, IDENTITY_AUDIT):
            history = lake.read(SILVER, IDENTITY_AUDIT)
            result.audit_rows_mapped = history.where(F.col("id_hash").isNotNull()).count()
            audit = remap_audit(history, mapping).toArrow()  # in memory: the table is rewritten

    if lake.exists("silver", "orders"):
        from transforms.build import build_full

        build_full(lake, new_key)
    if translated is not None or lake.exists("bronze", "mp_members"):
        summary = run_identity(
            lake, night=result.night, key=new_key, full=True, previous_map=translated
        )
        result.rebuild_merges_splits = summary.merges + summary.splits
    if audit is not None:
        # The rebuild rewrote the last night's audit rows by comparing with the current
        # map; the history as it happened is the re-keyed one.
        lake.write_arrow(audit, SILVER, IDENTITY_AUDIT, mode="overwrite")
    if translated is not None:
        after = lake.read(SILVER, IDENTITY_MAP).select("one_id").distinct()
        result.one_ids_kept = after.join(translated.select("one_id").distinct(), "one_id").count()
