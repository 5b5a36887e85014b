"""B2B: latest line state, revenue on delivery once signed, returns reverse, receivables."""

import datetime as dt
from decimal import Decimal

from silver_testkit import TEST_KEY, bronze_frame, bronze_rows, by, collect

from bakehouse.pii import pseudonym
from transforms.b2b.customers import build_b2b_customers
from transforms.b2b.orders import build_b2b_orders, latest_b2b_lines
from transforms.orders.b2b import build_b2b_channel_orders


def _line(order_id, sku, status, paid_date=None, amount="1130.00"):
    return dict(
        order_id=order_id,
        customer_code="K001",
        order_date="2026-11-01",
        delivery_date="2026-11-02",
        sku=sku,
        qty=100,
        unit_price="11.30",
        amount=amount,
        vat_rate="0.13",
        status=status,
        paid_date=paid_date,
    )


def test_b2b_orders_and_customers(spark):
    customers = build_b2b_customers(
        bronze_frame(
            spark,
            "erp_b2b_customers",
            bronze_rows(
                "erp_b2b_customers",
                [
                    dict(
                        customer_code="K001",
                        customer_name="华联超市",
                        customer_type="KA",
                        payment_terms_days=30,
                        contact_name="刘经理",
                        contact_phone="139-0000-1111",
                    ),
                ],
                file="erp/erp_b2b_customers_20261201.csv",
                business_date="2026-12-01",
            ),
        ),
        TEST_KEY,
    )
    customer = collect(customers)[0]
    assert customer["contact_name_masked"] == "刘**"
    assert customer["contact_phone_masked"] == "139****1111"
    assert customer["contact_phone_pseudonym"] == pseudonym(TEST_KEY, "phone", "13900001111")

    nov1 = bronze_rows(
        "erp_b2b_orders",
        [
            _line("SO1", "P3002", "已下单"),
            _line("SO1", "B1001", "已下单"),
            _line("SO2", "B1001", "已下单"),
        ],
        file="erp/erp_b2b_orders_20261101.csv",
        business_date="2026-11-01",
    )
    nov2 = bronze_rows(
        "erp_b2b_orders",
        [_line("SO1", "P3002", "已签收"), _line("SO1", "B1001", "已签收")],
        file="erp/erp_b2b_orders_20261102.csv",
        business_date="2026-11-02",
    )
    dec10 = bronze_rows(
        "erp_b2b_orders",
        [_line("SO1", "B1001", "已退货"), _line("SO2", "B1001", "已签收", paid_date="2026-12-01")],
        file="erp/erp_b2b_orders_20261210.csv",
        business_date="2026-12-10",
    )
    lines = latest_b2b_lines(bronze_frame(spark, "erp_b2b_orders", nov1 + nov2 + dec10))
    detail = collect(build_b2b_orders(lines, customers), ["order_id", "sku"])
    kept = {(r["order_id"], r["sku"]): r for r in detail}
    signed = kept[("SO1", "P3002")]
    assert signed["is_revenue"] and signed["recognised_date"] == dt.date(2026, 11, 2)
    assert signed["amount_ex_vat"] == Decimal("1000.00") and signed["vat_amount"] == Decimal(
        "130.00"
    )
    assert signed["due_date"] == dt.date(2026, 12, 2)
    assert signed["as_of_date"] == dt.date(2026, 12, 10)
    assert signed["is_receivable_open"] and signed["is_overdue"] and signed["days_overdue"] == 8
    returned = kept[("SO1", "B1001")]
    assert returned["status"] == "returned" and not returned["is_revenue"]
    paid = kept[("SO2", "B1001")]
    assert not paid["is_receivable_open"] and not paid["is_overdue"]

    orders = by(collect(build_b2b_channel_orders(lines).orders), "order_id")
    so1 = orders["b2b:SO1"]
    assert so1["is_revenue"] and so1["net_amount"] == Decimal("1130.00")
    assert so1["refund_amount"] == Decimal("1130.00") and so1["gross_amount"] == Decimal("2260.00")
    assert so1["recognised_date"] == dt.date(2026, 11, 2)
