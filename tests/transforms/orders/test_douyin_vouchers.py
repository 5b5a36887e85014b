"""Douyin vouchers: revenue at redemption in the redeeming store, counted once."""

import datetime as dt
from decimal import Decimal

from silver_testkit import TEST_KEY, bronze_frame, bronze_rows, by, collect

from transforms.masters.products import OBSERVED_NAMES_SCHEMA, build_product_platform_map
from transforms.orders.douyin import build_douyin_orders, voucher_states
from transforms.orders.pos import build_pos_orders
from transforms.orders.union import union_channels
from transforms.vouchers.douyin import build_vouchers, pos_voucher_tickets


def _sold(code, status, host_commission="0"):
    return dict(
        order_id=f"DY-{code}",
        douyin_product_id="35C2001",
        product_title="【全国门店通用】6英寸草莓蛋糕",
        voucher_code=code,
        list_price="168.00",
        paid_amount="142.80",
        platform_subsidy="8.40",
        host_nickname="烘焙达人小林" if host_commission != "0" else "",
        host_commission=host_commission,
        ordered_at="2026-11-01 10:00:00",
        douyin_open_id="dy_user",
        masked_phone="138****5678",
        status=status,
    )


def test_voucher_lifecycle_and_single_count(spark, masters):
    sold = bronze_rows(
        "douyin_orders",
        [_sold("V1", "已支付", "14.28"), _sold("V2", "已过期"), _sold("V3", "已退款")],
        file="douyin/douyin_orders_20261101.csv",
        business_date="2026-11-01",
    )
    redeemed = bronze_rows(
        "douyin_verifications",
        [
            dict(
                voucher_code="V1",
                redeemed_at="2026-11-03 15:00:00",
                douyin_poi="7100000000000000201",
                poi_name="西湖店",
                redeemed_amount="151.20",
                merchant_amount="138.50",
                platform_fee="12.70",
            )
        ],
        file="douyin/douyin_verifications_20261103.csv",
        business_date="2026-11-03",
    )
    till = bronze_rows(
        "pos_sales",
        [
            dict(
                store_code="HZ201",
                ticket_no="HZ201-20261103-0042",
                doc_type="销售",
                sold_at="2026-11-03 15:00:00",
                line_no=1,
                sku="C2001",
                product_name="6英寸草莓蛋糕",
                qty=1,
                unit_price="151.20",
                discount_amount="0",
                received_amount="151.20",
                payment_method="抖音券",
                voucher_code="V1",
            )
        ],
        file="pos/pos_sales_HZ201_20261103.csv",
        business_date="2026-11-03",
    )
    states = voucher_states(
        bronze_frame(spark, "douyin_orders", sold),
        bronze_frame(spark, "douyin_verifications", redeemed),
        masters["store_map"],
    )
    product_map = build_product_platform_map(
        masters["products"], spark.createDataFrame([], OBSERVED_NAMES_SCHEMA)
    )
    pos_sales = bronze_frame(spark, "pos_sales", till)
    channels = union_channels(
        [build_douyin_orders(states, product_map, TEST_KEY), build_pos_orders(pos_sales, TEST_KEY)]
    )
    orders = by(collect(channels.orders), "order_id")

    voucher = orders["douyin:V1"]
    assert voucher["business_date"] == dt.date(2026, 11, 1)  # sold: host commission then
    assert voucher["host_commission_amount"] == Decimal("14.28")
    assert voucher["recognised_date"] == dt.date(2026, 11, 3)  # revenue at redemption
    assert voucher["store_code"] == "HZ201"  # in the redeeming store
    assert voucher["net_amount"] == Decimal("138.50")  # 核销金额 - 平台服务费
    assert voucher["platform_fee_amount"] == Decimal("12.70")
    assert voucher["is_amount_consistent"]
    assert not orders["douyin:V2"]["is_revenue"] and orders["douyin:V2"]["status"] == "expired"
    assert not orders["douyin:V3"]["is_revenue"] and orders["douyin:V3"]["status"] == "refunded"

    ticket = orders["pos:HZ201:HZ201-20261103-0042"]
    assert not ticket["is_revenue"] and ticket["counted_in_order_id"] == "douyin:V1"
    # Till + Douyin together count the cake once.
    assert sum(o["net_amount"] for o in orders.values()) == Decimal("138.50")

    vouchers = by(
        collect(build_vouchers(states, pos_voucher_tickets(pos_sales), product_map, TEST_KEY)),
        "voucher_code",
    )
    linked = vouchers["V1"]
    assert linked["pos_order_id"] == "pos:HZ201:HZ201-20261103-0042"
    assert linked["pos_received_amount"] == linked["redeemed_amount"] == Decimal("151.20")
    assert linked["sku"] == "C2001" and linked["is_revenue"]
    assert linked["redeemed_date"] == dt.date(2026, 11, 3)
    assert vouchers["V2"]["pos_order_id"] is None and not vouchers["V2"]["is_revenue"]
