"""Mini-program change records: the latest `updated_at` wins, across files and days."""

import datetime as dt
from decimal import Decimal

from silver_testkit import TEST_KEY, bronze_frame, bronze_rows, by, collect

from transforms.orders.miniprogram import build_miniprogram_orders

ITEMS = (
    '[{"sku":"B1002","name":"牛角包","qty":2,"price_fen":850,"discount_fen":100},'
    '{"sku":"C2001","name":"6英寸草莓蛋糕","qty":1,"price_fen":16800,"discount_fen":0}]'
)


def _record(order_id, status, updated_at, **extra):
    return dict(
        order_id=order_id,
        created_at="2026-11-01 23:30:00",
        updated_at=updated_at,
        status=status,
        fulfillment="DELIVERY",
        store_code="SH101",
        member_id="U000123",
        member_unionid="oUnX",
        member_openid="oOpX",
        member_phone="13812345678",
        items_json=ITEMS,
        freight_fen=500,
        pay_amount_fen=extra.pop("pay", 17800),  # 1600 + 16800 - 1100 coupon + 500
        refund_amount_fen=extra.pop("refund", 0),
        **extra,
    )


def test_latest_change_record_wins_across_files(spark):
    day1 = bronze_rows(
        "mp_orders",
        [
            _record("MP1", "PAID", "2026-11-01 23:31:00"),
            _record("MP2", "PAID", "2026-11-01 23:32:00"),
            _record("MP3", "PAID", "2026-11-01 23:33:00"),
        ],
        file="miniprogram/mp_orders_20261101.jsonl",
        business_date="2026-11-01",
    )
    day2 = bronze_rows(
        "mp_orders",
        [
            _record("MP1", "COMPLETED", "2026-11-02 09:00:00"),
            _record("MP2", "COMPLETED", "2026-11-02 09:00:00"),
            _record("MP2", "PARTIALLY_REFUNDED", "2026-11-02 18:00:00", refund=1000),
            _record("MP3", "CANCELLED", "2026-11-02 08:00:00"),
        ],
        file="miniprogram/mp_orders_20261102.jsonl",
        business_date="2026-11-02",
    )
    result = build_miniprogram_orders(bronze_frame(spark, "mp_orders", day2 + day1), TEST_KEY)
    orders = by(collect(result.orders), "source_order_id")

    completed = orders["MP1"]
    # Created 23:30 local on Nov 1: revenue on Nov 1 although completed on Nov 2.
    assert completed["business_date"] == dt.date(2026, 11, 1)
    assert completed["recognised_date"] == dt.date(2026, 11, 1)
    assert completed["status"] == "completed" and completed["is_revenue"]
    assert completed["gross_amount"] == Decimal("185.00")
    assert completed["discount_amount"] == Decimal("12.00")  # 1.00 line discount + 11.00 coupon
    assert completed["delivery_fee_amount"] == Decimal("5.00")
    assert completed["net_amount"] == Decimal("173.00")  # paid 178 - freight 5
    assert completed["source_files"] == [
        "miniprogram/mp_orders_20261101.jsonl",
        "miniprogram/mp_orders_20261102.jsonl",
    ]

    partial = orders["MP2"]
    assert partial["status"] == "partially_refunded" and partial["is_revenue"]
    assert partial["refund_amount"] == Decimal("10.00")
    assert partial["net_amount"] == Decimal("163.00")

    assert not orders["MP3"]["is_revenue"] and orders["MP3"]["net_amount"] == 0

    lines = collect(result.lines.where("order_id = 'mp:MP2'"), "line_no")
    assert [line["sku"] for line in lines] == ["B1002", "C2001"]
    assert sum(line["net_amount"] for line in lines) == Decimal("163.00")
