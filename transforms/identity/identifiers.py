"""From bronze rows to identifier observations: who was seen with what, where and when.

Every source record that carries identifiers becomes one *record* (`record_key`) with
one observation row per (normalised) identifier on it. Two identifiers on the same
record are a deterministic edge of the identity graph: the CRM member record ties
member_id, card, phone, unionid and openid; a POS ticket its card and typed phone (and
the Douyin buyer whose voucher paid for it); a WeCom contact its external id, unionid
and the phone the staff typed; a mini-program order its member's ids. Platform orders
carry one platform user id each, plus weak evidence (masked phone, store, address,
time) that the probabilistic model in `linkage.py` weighs.

Clear values live only in these in-memory frames: `resolution.py` hashes them before
anything is written, and only `profiles.pii_vault` keeps some in clear.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bakehouse.pii import normalize_phone_col
from transforms.identity import config as c

OBSERVATION_COLUMNS = (
    "record_key",
    "source",
    "id_type",
    "id_value",
    "business_date",
    "source_file",  # the landing file (its evidence is replaced if the file is re-sent)
    # Activity evidence for the probabilistic model (null where a source has none):
    # the ERP store, the time, and for platform orders the masked phone and address.
    "store_code",
    "at",
    "masked_phone",
    "address",
)
EVIDENCE_COLUMNS = ("store_code", "at", "masked_phone", "address")
VOIDED = "作废"


def _clean(column: Column | str) -> Column:
    """Trimmed, NFKC-insensitive enough for system-generated ids: empty is null."""
    col = F.col(column) if isinstance(column, str) else column
    trimmed = F.trim(col.cast("string"))
    return F.when(trimmed != "", trimmed)


def _card(column: str) -> Column:
    """Card numbers trimmed, exactly as silver/orders hashes them, so the map joins."""
    return _clean(column)


def _melt(
    frame: DataFrame,
    source: str,
    id_columns: dict[str, Column],
    evidence: dict[str, Column] | None = None,
) -> DataFrame:
    """One observation per non-null identifier of each record of `frame`."""
    evidence = evidence or {}
    pairs = F.array(
        *[
            F.struct(F.lit(id_type).alias("id_type"), value.alias("id_value"))
            for id_type, value in id_columns.items()
        ]
    )
    types = {"at": "timestamp"}
    evidence_columns = [
        evidence.get(name, F.lit(None)).cast(types.get(name, "string")).alias(name)
        for name in EVIDENCE_COLUMNS
    ]
    return (
        frame.select(
            "record_key",
            "business_date",
            "source_file",
            *evidence_columns,
            F.explode(pairs).alias("obs"),
        )
        .select(
            "record_key",
            F.lit(source).alias("source"),
            F.col("obs.id_type").alias("id_type"),
            F.col("obs.id_value").alias("id_value"),
            "business_date",
            "source_file",
            *EVIDENCE_COLUMNS,
        )
        .where(F.col("id_value").isNotNull())
    )


def member_observations(mp_members: DataFrame) -> DataFrame:
    """Every version of a CRM member ties its ids together (old phones stay linked)."""
    records = mp_members.withColumn("record_key", F.concat(F.lit("member:"), "member_id"))
    return _melt(
        records,
        "mp_members",
        {
            c.MEMBER_ID: _clean("member_id"),
            c.CARD: _card("card_no"),
            c.PHONE: normalize_phone_col("phone"),
            c.UNIONID: _clean("unionid"),
            c.OPENID: _clean("openid"),
        },
        {"store_code": F.col("register_store")},
    )


def pos_tickets(pos_sales: DataFrame) -> DataFrame:
    """One row per non-voided ticket with the identifiers typed at the till."""
    return (
        pos_sales.where(F.coalesce(F.col("doc_type"), F.lit("")) != VOIDED)
        .groupBy("store_code", "ticket_no")
        .agg(
            F.max("member_card_no").alias("member_card_no"),
            F.max("member_phone").alias("member_phone"),
            F.max(_clean("voucher_code")).alias("voucher_code"),
            F.min("sold_at").alias("sold_at"),
            F.min("business_date").alias("business_date"),
            F.min("source_file").alias("source_file"),
        )
        .withColumn("record_key", F.concat_ws(":", F.lit("pos"), "store_code", "ticket_no"))
    )


def pos_observations(pos_sales: DataFrame, douyin_orders: DataFrame | None) -> DataFrame:
    """Card and phone of a ticket, and the Douyin buyer whose voucher (券码) paid for it.

    `douyin_orders` should be the whole table: a voucher bought weeks ago pays today.
    """
    tickets = pos_tickets(pos_sales)
    if douyin_orders is not None:
        buyers = douyin_orders.select(
            _clean("voucher_code").alias("voucher_code"),
            _clean("douyin_open_id").alias("douyin_open_id"),
        ).where(F.col("voucher_code").isNotNull() & F.col("douyin_open_id").isNotNull())
        buyers = buyers.groupBy("voucher_code").agg(F.min("douyin_open_id").alias("douyin_open_id"))
        tickets = tickets.join(buyers, "voucher_code", "left")
    else:
        tickets = tickets.withColumn("douyin_open_id", F.lit(None).cast("string"))
    return _melt(
        tickets,
        "pos_sales",
        {
            c.CARD: _card("member_card_no"),
            c.PHONE: normalize_phone_col("member_phone"),
            c.DOUYIN_OPEN_ID: F.col("douyin_open_id"),
        },
        {"store_code": F.col("store_code"), "at": F.col("sold_at")},
    )


def mp_order_observations(mp_orders: DataFrame) -> DataFrame:
    records = mp_orders.withColumn("record_key", F.concat(F.lit("mp:"), "order_id"))
    return _melt(
        records,
        "mp_orders",
        {
            c.MEMBER_ID: _clean("member_id"),
            c.UNIONID: _clean("member_unionid"),
            c.OPENID: _clean("member_openid"),
            c.PHONE: normalize_phone_col("member_phone"),
        },
        {"store_code": F.col("store_code"), "at": F.col("created_at")},
    )


def wecom_observations(wecom_contacts: DataFrame) -> DataFrame:
    records = wecom_contacts.withColumn("record_key", F.concat(F.lit("wecom:"), "external_userid"))
    return _melt(
        records,
        "wecom_contacts",
        {
            c.WECOM_EXTERNAL_ID: _clean("external_userid"),
            c.UNIONID: _clean("unionid"),
            c.PHONE: normalize_phone_col("remark_phone"),
        },
        {"store_code": F.col("store_code"), "at": F.col("added_at")},
    )


def _store_map(erp_stores: DataFrame | None, platform_column: str) -> DataFrame | None:
    """Platform store id -> ERP store code; the ERP master is the only such map."""
    if erp_stores is None:
        return None
    return (
        erp_stores.select(
            _clean(platform_column).alias("platform_store"), F.col("store_code").alias("erp_store")
        )
        .where(F.col("platform_store").isNotNull())
        .groupBy("platform_store")
        .agg(F.max("erp_store").alias("erp_store"))
    )


def _with_erp_store(frame: DataFrame, mapping: DataFrame | None) -> DataFrame:
    if mapping is None:
        return frame.withColumn("store_code", F.col("platform_store"))
    return frame.join(mapping, "platform_store", "left").withColumn(
        "store_code", F.coalesce("erp_store", "platform_store")
    )


# Delivery platforms: (bronze table, platform store column, id type, user column,
# masked address column).
DELIVERY_PLATFORMS = (
    ("meituan_orders", "meituan_store_id", c.MEITUAN_USER_ID, "meituan_user_id", "masked_address"),
    ("eleme_orders", "eleme_store_id", c.ELEME_USER_ID, "eleme_user_id", None),
)


def platform_observations(
    bronze: dict[str, DataFrame], erp_stores: DataFrame | None
) -> list[DataFrame]:
    """A platform order names one platform user (a node, linked by `linkage` if at all),
    with its weak evidence: masked phone, the ERP store, the masked address, the time."""
    parts = []
    for table, store_column, id_type, user_column, address in DELIVERY_PLATFORMS:
        if (orders := bronze.get(table)) is not None:
            frame = orders.withColumn("platform_store", _clean(store_column))
            parts.append(
                _platform_melt(
                    frame,
                    table,
                    _store_map(erp_stores, store_column),
                    id_type,
                    user_column,
                    address=address,
                    keys=("order_id",),
                )
            )
    if (douyin := bronze.get("douyin_orders")) is not None:
        # A voucher's store is where it was redeemed (核销门店).
        frame = douyin.withColumn("voucher_code", _clean("voucher_code"))
        if (verifications := bronze.get("douyin_verifications")) is not None:
            redeemed_at = verifications.groupBy(_clean("voucher_code").alias("voucher_code")).agg(
                F.max(_clean("douyin_poi")).alias("platform_store")
            )
            frame = frame.join(redeemed_at, "voucher_code", "left")
        else:
            frame = frame.withColumn("platform_store", F.lit(None).cast("string"))
        parts.append(
            _platform_melt(
                frame,
                "douyin_orders",
                _store_map(erp_stores, "douyin_poi"),
                c.DOUYIN_OPEN_ID,
                "douyin_open_id",
                address=None,
                keys=("order_id", "voucher_code"),
            )
        )
    return parts


def _platform_melt(
    frame: DataFrame,
    source: str,
    store_map: DataFrame | None,
    id_type: str,
    user_column: str,
    *,
    address: str | None,
    keys: tuple[str, ...],
) -> DataFrame:
    """Observations of one platform's orders (`platform_store` mapped to the ERP code)."""
    frame = _with_erp_store(frame, store_map).withColumn(
        "record_key", F.concat_ws(":", F.lit(source), *keys)
    )
    return _melt(
        frame,
        source,
        {id_type: _clean(user_column)},
        {
            "store_code": F.col("store_code"),
            "at": F.col("ordered_at"),
            "masked_phone": _clean("masked_phone"),
            "address": _clean(address) if address else F.lit(None),
        },
    )


def all_observations(
    bronze: dict[str, DataFrame], *, douyin_orders: DataFrame | None = None
) -> DataFrame:
    """Observations from every bronze table present (a missing source adds nothing).

    `bronze` may hold only some files' rows (a night's); `douyin_orders` is then the
    whole table, for the voucher buyers of tonight's tickets, and `erp_stores` should
    be whole too (it is a master).
    """
    parts: list[DataFrame] = []
    if (members := bronze.get("mp_members")) is not None:
        parts.append(member_observations(members))
    if (pos := bronze.get("pos_sales")) is not None:
        buyers = douyin_orders if douyin_orders is not None else bronze.get("douyin_orders")
        parts.append(pos_observations(pos, buyers))
    if (mp_orders := bronze.get("mp_orders")) is not None:
        parts.append(mp_order_observations(mp_orders))
    if (wecom := bronze.get("wecom_contacts")) is not None:
        parts.append(wecom_observations(wecom))
    parts.extend(platform_observations(bronze, bronze.get("erp_stores")))
    if not parts:
        raise ValueError("no bronze table with identifiers: ingest some landing files first")
    observations = parts[0]
    for part in parts[1:]:
        observations = observations.unionByName(part)
    return observations.select(*OBSERVATION_COLUMNS)
