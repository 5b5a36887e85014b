"""POS tickets: sales, voids, returns, Douyin-voucher tickets, re-exported files."""

from decimal import Decimal

from silver_testkit import TEST_KEY, bronze_frame, bronze_rows, by, collect

from bakehouse.pii import pseudonym
from transforms.orders.pos import build_pos_orders


def _line(ticket, doc, line_no, qty, price, received, **extra):
    return dict(
        store_code="SH101",
        ticket_no=ticket,
        doc_type=doc,
        sold_at="2026-11-02 10:00:00",
        line_no=line_no,
        sku="B1002",
        product_name="牛角包",
        qty=qty,
        unit_price=price,
        discount_amount=extra.pop("discount", "0"),
        received_amount=received,
        payment_method=extra.pop("payment", "微信"),
        **extra,
    )


def test_pos_semantics(spark):
    stale = bronze_rows(
        "pos_sales",
        [_line("SH101-20261102-0009", "销售", 1, 1, "8.50", "8.50")],
        file="pos/pos_sales_SH101_20261102.csv",
        business_date="2026-11-02",
        sha="old",
        ingested_at="2030-01-01 01:00:00",
    )
    current = bronze_rows(
        "pos_sales",
        [
            _line(
                "SH101-20261102-0001",
                "销售",
                1,
                2,
                "8.50",
                "15.30",
                discount="1.70",
                member_card_no="M0000000001",
                member_phone="+86 138-1234-5678",
            ),
            _line("SH101-20261102-0001", "销售", 2, 1, "12.00", "12.00"),
            _line("SH101-20261102-0002", "作废", 1, 3, "8.50", "25.50"),
            _line(
                "SH101-20261102-0003",
                "退货",
                1,
                -2,
                "8.50",
                "-17.00",
                original_ticket_no="SH101-20261101-0007",
            ),
            _line(
                "SH101-20261102-0004",
                "销售",
                1,
                1,
                "151.20",
                "151.20",
                payment="抖音券",
                voucher_code="V123",
            ),
        ],
        file="pos/pos_sales_SH101_20261102.csv",
        business_date="2026-11-02",
        sha="new",
        ingested_at="2030-01-02 01:00:00",
    )
    result = build_pos_orders(bronze_frame(spark, "pos_sales", stale + current), TEST_KEY)
    orders = by(collect(result.orders), "source_order_id")
    lines = collect(result.lines)

    # The re-export replaced the old copy entirely: its ticket 0009 is gone.
    assert set(orders) == {f"SH101-20261102-000{n}" for n in (1, 2, 3, 4)}

    sale = orders["SH101-20261102-0001"]
    assert sale["order_id"] == "pos:SH101:SH101-20261102-0001"
    assert sale["is_revenue"] and sale["net_amount"] == Decimal("27.30")
    assert sale["gross_amount"] == Decimal("29.00") and sale["discount_amount"] == Decimal("1.70")
    assert sale["member_phone_pseudonym"] == pseudonym(TEST_KEY, "phone", "13812345678")
    assert sale["member_card_pseudonym"] == pseudonym(TEST_KEY, "card_no", "M0000000001")
    assert sale["is_amount_consistent"]

    void = orders["SH101-20261102-0002"]
    assert not void["is_revenue"] and void["net_amount"] == 0 and void["status"] == "voided"

    ret = orders["SH101-20261102-0003"]
    assert ret["order_type"] == "return" and ret["is_revenue"]
    assert ret["net_amount"] == Decimal("-17.00")
    assert ret["original_order_id"] == "pos:SH101:SH101-20261101-0007"

    voucher = orders["SH101-20261102-0004"]
    assert not voucher["is_revenue"] and voucher["net_amount"] == 0
    assert voucher["counted_in_order_id"] == "douyin:V123"

    # Lines add up to their orders, and void lines count for nothing.
    by_order: dict[str, Decimal] = {}
    for line in lines:
        by_order[line["order_id"]] = by_order.get(line["order_id"], 0) + line["net_amount"]
    for row in orders.values():
        assert by_order[row["order_id"]] == row["net_amount"]
