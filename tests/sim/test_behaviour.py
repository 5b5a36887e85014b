"""The quirks of the business are in the data: returns, voids, change records, vouchers."""

from __future__ import annotations

import json
from collections import defaultdict

import polars as pl

from tests.sim.readers import fen, files, read_csv, read_jsonl, read_meituan


def _pos(run) -> pl.DataFrame:
    return pl.concat([read_csv(p) for p in files(run.landing, "pos", "pos_sales_")])


def test_returns_point_at_earlier_sale_tickets_and_voids_exist(clean_run) -> None:
    pos = _pos(clean_run)
    returns = pos.filter(pl.col("单据类型") == "退货")
    assert returns.height > 0
    assert (returns["数量"].cast(int) < 0).all() and returns["实收金额"].str.starts_with("-").all()
    sales = set(pos.filter(pl.col("单据类型") == "销售")["小票号"])
    assert set(returns["原小票号"]) <= sales
    assert pos.filter(pl.col("单据类型") == "作废").height > 0


def test_pos_line_amounts_reconcile(clean_run) -> None:
    pos = _pos(clean_run)
    for qty, price, discount, amount in pos.select(
        "数量", "单价", "折扣金额", "实收金额"
    ).iter_rows():
        assert int(qty) * fen(price) - fen(discount) == fen(amount)


def test_miniprogram_change_records(clean_run) -> None:
    history: dict[str, list[dict]] = defaultdict(list)
    days_seen: dict[str, set[str]] = defaultdict(set)
    for path in files(clean_run.landing, "miniprogram", "mp_orders_"):
        for record in read_jsonl(path):
            history[record["order_id"]].append(record)
            days_seen[record["order_id"]].add(path.name)
    statuses = {r["status"] for records in history.values() for r in records}
    assert statuses == {"PAID", "COMPLETED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED"}
    assert any(len(days) > 1 for days in days_seen.values())
    for records in history.values():
        stamps = [r["updated_at"] for r in records]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        first = records[0]
        goods = sum(i["qty"] * i["price_fen"] - i["discount_fen"] for i in first["items"])
        coupon = goods + first["freight_fen"] - first["pay_amount_fen"]
        assert (coupon > 0) == bool(first["coupon_ids"]) and coupon >= 0


def test_member_changes_and_cancellations(clean_run) -> None:
    daily = [
        r
        for p in files(clean_run.landing, "miniprogram", "mp_members_2026110")
        for r in read_jsonl(p)
    ]
    assert any(r["is_deleted"] for r in daily)
    assert any(not r["is_deleted"] and r["register_time"].startswith("2026-11") for r in daily)


def test_douyin_redemptions_match_pos_tickets(clean_run) -> None:
    pos = _pos(clean_run).filter(pl.col("支付方式") == "抖音券")
    per_voucher = {
        code: sum(fen(a) for a in group["实收金额"]) for (code,), group in pos.group_by("券码")
    }
    verifications = pl.concat(
        [read_csv(p) for p in files(clean_run.landing, "douyin", "douyin_verifications_")]
    )
    assert verifications.height > 0
    for code, redeemed, merchant, fee in verifications.select(
        "券码", "核销金额", "商家应得", "平台服务费"
    ).iter_rows():
        assert per_voucher[code] == fen(redeemed)
        assert fen(merchant) == fen(redeemed) - fen(fee)
    orders = pl.concat([read_csv(p) for p in files(clean_run.landing, "douyin", "douyin_orders_")])
    assert {"已支付", "已核销", "已退款", "已过期"} <= set(orders["订单状态"])
    assert (orders["达人昵称"].fill_null("") != "").any()
    assert set(verifications["券码"]) <= set(orders["券码"])


def test_meituan_vouchers_on_the_till(clean_run) -> None:
    pos = _pos(clean_run).filter(pl.col("支付方式") == "美团券")
    assert pos.height > 0 and pos["券码"].is_not_null().all()


def test_delivery_amount_identities(clean_run) -> None:
    meituan = pl.concat(
        [read_meituan(p) for p in files(clean_run.landing, "meituan", "meituan_orders_")],
        how="vertical_relaxed",
    )
    columns = (
        "订单状态",
        "商品原价",
        "用户实付",
        "商家活动补贴",
        "平台佣金",
        "配送费",
        "商家应收",
        "退款金额",
    )
    eleme = pl.concat(
        [read_csv(p) for p in files(clean_run.landing, "eleme", "eleme_orders_")]
    ).select(
        "订单状态",
        "订单总价",
        "顾客实付",
        "商户补贴",
        "平台服务费",
        "配送费",
        "商户实收",
        "退款金额",
    )
    for rows in (meituan.select(columns).iter_rows(), eleme.iter_rows()):
        for status, goods, paid, subsidy, commission, fee, settled, refund in rows:
            g, p, s, c, f, st, r = (
                fen(v) for v in (goods, paid, subsidy, commission, fee, settled, refund)
            )
            if status == "已取消":
                assert (g, p, s, c, f, st, r) == (0, 0, 0, 0, 0, 0, 0)
                continue
            assert p == g - s + f - r
            assert st == g - s - c - r
            if status == "已退款":
                assert r == g - s and st == 0
    items = json.loads(
        pl.concat([read_csv(p) for p in files(clean_run.landing, "eleme", "eleme_orders_")])[
            "商品信息"
        ][0]
    )
    assert set(items[0]) == {"name", "quantity", "price"}


def test_b2b_lines_reappear_with_status_and_payment(clean_run) -> None:
    lines = pl.concat([read_csv(p) for p in files(clean_run.landing, "erp", "erp_b2b_orders_")])
    assert {"已下单", "已发货", "已签收"} <= set(lines["状态"])
    repeated = lines.group_by("订单号", "商品编码").len().filter(pl.col("len") > 1)
    assert repeated.height > 0


def test_reexports_and_late_files_are_recorded(clean_run) -> None:
    log = [json.loads(line) for line in (clean_run.truth / "files.jsonl").read_text().splitlines()]
    kinds = {entry["kind"] for entry in log}
    assert {"normal", "late", "reexport"} <= kinds
    for entry in log:
        if entry["kind"] == "late":
            assert entry["written_on"] > entry["business_date"]
            assert sum(e["path"] == entry["path"] for e in log) == 1
        if entry["kind"] == "reexport":
            earlier = [e for e in log if e["path"] == entry["path"] and e["kind"] == "normal"]
            assert earlier and earlier[0]["written_on"] < entry["written_on"]
            assert earlier[0]["bytes"] != entry["bytes"]
    inventory = read_csv(clean_run.landing / "erp" / "erp_inventory_20261101.csv")
    assert set(inventory["报损原因"].fill_null("")) >= {"过期", ""}
