"""Truth agrees with landing: identifiers, who placed each order, demand versus sales."""

from __future__ import annotations

import json
import re

import polars as pl

from bakehouse.sim.world import build_catalogue
from tests.sim.readers import files, read_csv, read_jsonl, read_meituan


def _identifiers(run) -> dict[str, set[str]]:
    frame = pl.read_parquet(run.truth / "identifiers.parquet")
    return {t: set(g["id_value"]) for (t,), g in frame.group_by("id_type")}


def _normalise_phone(typed: str) -> str:
    digits = re.sub(r"[\s-]", "", typed)
    return digits[3:] if digits.startswith("+86") else digits


def test_every_landing_identifier_maps_to_truth(clean_run) -> None:
    ids = _identifiers(clean_run)
    pos = pl.concat([read_csv(p) for p in files(clean_run.landing, "pos", "pos_sales_")])
    assert set(pos["会员卡号"].drop_nulls()) <= ids["card_no"]
    typed = set(pos["会员手机号"].drop_nulls())
    assert any(not t.isdigit() for t in typed)
    assert {_normalise_phone(t) for t in typed} <= ids["phone"]
    for record in (
        r for p in files(clean_run.landing, "miniprogram", "mp_") for r in read_jsonl(p)
    ):
        member = record.get("member", record)
        assert member["member_id"] in ids["member_id"] and member["openid"] in ids["openid"]
        assert member["unionid"] is None or member["unionid"] in ids["unionid"]
    for record in (r for p in files(clean_run.landing, "wecom", "wecom_") for r in read_jsonl(p)):
        assert record["external_userid"] in ids["wecom_external_userid"]
        if record["remark_phone"]:
            assert _normalise_phone(record["remark_phone"]) in ids["phone"]
    douyin = pl.concat([read_csv(p) for p in files(clean_run.landing, "douyin", "douyin_orders_")])
    assert set(douyin["用户ID"]) <= ids["douyin_open_id"]
    meituan = pl.concat(
        [read_meituan(p) for p in files(clean_run.landing, "meituan", "meituan_")],
        how="vertical_relaxed",
    )
    assert set(meituan["用户ID"]) <= ids["meituan_user_id"]
    eleme = pl.concat([read_csv(p) for p in files(clean_run.landing, "eleme", "eleme_")])
    assert set(eleme["顾客ID"]) <= ids["eleme_user_id"]


def test_identity_noise_is_present(clean_run) -> None:
    identifiers = pl.read_parquet(clean_run.truth / "identifiers.parquet")
    assert identifiers.filter(pl.col("note") == "store_phone_for_walk_ins").height > 0
    assert identifiers.filter(pl.col("note") == "staff_typo").height > 0
    persons = pl.read_parquet(clean_run.truth / "persons.parquet")
    assert persons["uses_card_of"].is_not_null().any()
    assert set(persons["lifecycle"]) == {"new", "loyal", "regular", "lapsing", "churned"}


def test_order_people_cover_every_order(clean_run) -> None:
    truth = pl.concat(
        [pl.read_parquet(p) for p in sorted((clean_run.truth / "order_people").glob("*.parquet"))]
    )
    keys = {c: set(g["order_key"]) for (c,), g in truth.group_by("channel")}
    pos = pl.concat([read_csv(p) for p in files(clean_run.landing, "pos", "pos_sales_")])
    assert set(pos["小票号"]) <= keys["pos"]
    mp = {
        r["order_id"]
        for p in files(clean_run.landing, "miniprogram", "mp_orders_")
        for r in read_jsonl(p)
    }
    assert mp <= keys["miniprogram"]
    douyin = pl.concat([read_csv(p) for p in files(clean_run.landing, "douyin", "douyin_orders_")])
    assert set(douyin["券码"]) <= keys["douyin"]
    meituan = pl.concat(
        [read_meituan(p) for p in files(clean_run.landing, "meituan", "meituan_")],
        how="vertical_relaxed",
    )
    assert set(meituan["订单号"]) <= keys["meituan"]
    assert truth.filter(pl.col("channel") == "pos")["person_id"].is_null().any()
    persons = set(pl.read_parquet(clean_run.truth / "persons.parquet")["person_id"])
    assert set(truth["person_id"].drop_nulls()) <= persons


def test_sold_in_truth_equals_what_the_channels_report(clean_run) -> None:
    """sold = POS sale lines (no voids, returns) + non-cancelled mini-program and delivery items."""
    catalogue = build_catalogue(seed=7)
    sku_of = {}
    for platform_names in (catalogue.meituan_name_in_file, catalogue.eleme_name_in_file):
        sku_of.update(dict(zip(platform_names.tolist(), catalogue.sku.tolist(), strict=True)))
    stores = read_csv(clean_run.landing / "erp" / "erp_stores_20261101.csv")
    store_of = dict(zip(stores["美团门店ID"], stores["门店编码"], strict=True)) | dict(
        zip(stores["饿了么店铺ID"], stores["门店编码"], strict=True)
    )
    sold: dict[tuple[str, str, str], int] = {}

    def add(day: str, store: str, sku: str, qty: int) -> None:
        sold[(day, store, sku)] = sold.get((day, store, sku), 0) + qty

    for path in files(clean_run.landing, "pos", "pos_sales_"):
        frame = read_csv(path).filter(pl.col("单据类型") == "销售")
        for store, time, sku, qty in frame.select(
            "门店编码", "销售时间", "商品编码", "数量"
        ).iter_rows():
            add(time[:10].replace("/", "-"), store, sku, int(qty))
    latest: dict[str, dict] = {}
    for path in files(clean_run.landing, "miniprogram", "mp_orders_"):
        for record in read_jsonl(path):
            latest[record["order_id"]] = record
    for record in latest.values():
        if record["status"] != "CANCELLED":
            for item in record["items"]:
                add(record["created_at"][:10], record["store_code"], item["sku"], item["qty"])
    for path in files(clean_run.landing, "meituan", "meituan_"):
        for row in read_meituan(path).filter(pl.col("订单状态") != "已取消").iter_rows(named=True):
            for item in row["商品"].split(","):
                name, qty = item.rsplit("*", 1)
                add(row["下单时间"][:10], store_of[row["美团门店ID"]], sku_of[name], int(qty))
    for path in files(clean_run.landing, "eleme", "eleme_"):
        for row in read_csv(path).filter(pl.col("订单状态") != "已取消").iter_rows(named=True):
            for item in json.loads(row["商品信息"]):
                add(
                    row["下单时间"][:10],
                    store_of[row["饿了么店铺ID"]],
                    sku_of[item["name"]],
                    item["quantity"],
                )

    demand = pl.concat(
        [pl.read_parquet(p) for p in sorted((clean_run.truth / "demand").glob("*.parquet"))]
    )
    assert (demand["true_demand"] >= demand["sold_qty"]).all()
    assert (demand["lost_sales_qty"] == demand["true_demand"] - demand["sold_qty"]).all()
    assert demand["lost_sales_qty"].sum() > 0 and demand["waste_qty"].sum() > 0
    truth_sold = {
        (str(d), s, k): q
        for d, s, k, q in demand.select(
            "business_date", "store_code", "sku", "sold_qty"
        ).iter_rows()
        if q
    }
    assert truth_sold == {key: q for key, q in sold.items() if q}
