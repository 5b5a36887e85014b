"""Meituan and Ele.me: item parsing, the amount identities, refunds, unmapped names."""

from decimal import Decimal

from silver_testkit import TEST_KEY, bronze_frame, bronze_rows, by, collect

from transforms.masters.products import build_product_platform_map
from transforms.orders.delivery import observed_product_names
from transforms.orders.eleme import build_eleme_orders, eleme_items, latest_eleme_orders
from transforms.orders.meituan import build_meituan_orders, latest_meituan_orders, meituan_items
from transforms.orders.union import build_unmapped, union_channels


def _meituan(order_id, status, items, goods, subsidy, commission, refund, **extra):
    delivery = Decimal("5.00") if status != "已取消" else Decimal(0)
    paid = goods - subsidy + delivery - refund
    receivable = goods - subsidy - commission - refund
    return dict(
        order_id=order_id,
        meituan_store_id=extra.pop("store", "MT880101"),
        ordered_at="2026-11-02 12:00:00",
        completed_at="2026-11-02 12:40:00",
        status=status,
        items_raw=items,
        goods_amount=goods,
        customer_paid=extra.pop("paid", paid),
        merchant_subsidy=subsidy,
        platform_commission=commission,
        delivery_fee=delivery,
        merchant_receivable=extra.pop("receivable", receivable),
        masked_phone="尾号5678",
        meituan_user_id="mt-user-1",
        refund_amount=refund,
    )


def test_meituan_and_eleme(spark, masters):
    d = Decimal
    meituan_rows = bronze_rows(
        "meituan_orders",
        [
            _meituan(
                "MT1",
                "已完成",
                "牛角包（新品）*2,美式咖啡*1",
                d("32.00"),
                d("3.20"),
                d("5.76"),
                d(0),
            ),
            _meituan(
                "MT2",
                "部分退款",
                "提拉米苏（切块）*2,神秘面包*1",
                d("66.00"),
                d("6.60"),
                d("11.88"),
                d("10.00"),
            ),
            _meituan("MT3", "已取消", "牛角包*1", d(0), d(0), d(0), d(0)),
            _meituan(
                "MT4", "已完成", "牛角包*1", d("8.50"), d(0), d("1.53"), d(0), store="MT999999"
            ),
            _meituan(
                "MT5", "已完成", "牛角包*1", d("8.50"), d(0), d("1.53"), d(0), receivable=d("9.99")
            ),
        ],
        file="meituan/meituan_orders_20261102.xlsx",
        business_date="2026-11-02",
    )
    eleme_rows = bronze_rows(
        "eleme_orders",
        [
            dict(
                order_id="EL1",
                eleme_store_id="E20990201",
                ordered_at="2026-11-02 18:00:00",
                status="已完成",
                items_raw='[{"name":"【招牌】法式长棍面包","quantity":2,"price":12.0},{"name":"牛角包","quantity":1,"price":8.5}]',
                goods_amount="32.50",
                customer_paid="34.25",
                merchant_subsidy="3.25",
                platform_commission="5.85",
                delivery_fee="5.00",
                merchant_receivable="23.40",
                masked_phone="138****5678",
                eleme_user_id="el-user-1",
                refund_amount="0",
            ),
            dict(
                order_id="EL2",
                eleme_store_id="E20990201",
                ordered_at="2026-11-02 19:00:00",
                status="已退款",
                items_raw='[{"name":"牛角包","quantity":1,"price":8.5}]',
                goods_amount="8.50",
                customer_paid="5.00",
                merchant_subsidy="0",
                platform_commission="0",
                delivery_fee="5.00",
                merchant_receivable="0",
                eleme_user_id="el-user-2",
                refund_amount="8.50",
            ),
        ],
        file="eleme/eleme_orders_20261102.csv",
        business_date="2026-11-02",
    )
    meituan_latest = latest_meituan_orders(bronze_frame(spark, "meituan_orders", meituan_rows))
    eleme_latest = latest_eleme_orders(bronze_frame(spark, "eleme_orders", eleme_rows))
    meituan_lines, eleme_lines = meituan_items(meituan_latest), eleme_items(eleme_latest)
    observed = observed_product_names(meituan_lines, "meituan").unionByName(
        observed_product_names(eleme_lines, "eleme")
    )
    product_map = build_product_platform_map(masters["products"], observed)
    args = (masters["store_map"], product_map, masters["products"], TEST_KEY)
    channels = union_channels(
        [
            build_meituan_orders(meituan_latest, meituan_lines, *args),
            build_eleme_orders(eleme_latest, eleme_lines, *args),
        ]
    )
    orders = by(collect(channels.orders), "order_id")
    lines = collect(channels.lines, ["order_id", "line_no"])

    completed = orders["meituan:MT1"]
    assert completed["store_code"] == "SH101" and completed["is_revenue"]
    assert completed["net_amount"] == Decimal("23.04")  # 商家应收: the rider fee is not ours
    assert completed["delivery_fee_amount"] == Decimal("5.00")
    assert completed["is_amount_consistent"]
    mt1 = [line for line in lines if line["order_id"] == "meituan:MT1"]
    assert [(line["sku"], line["qty"]) for line in mt1] == [("B1002", 2), ("D4001", 1)]
    assert sum(line["net_amount"] for line in mt1) == completed["net_amount"]

    partial = orders["meituan:MT2"]
    assert partial["status"] == "partially_refunded" and partial["is_revenue"]
    assert partial["refund_amount"] == Decimal("10.00")
    assert partial["net_amount"] == Decimal("37.52")  # 66 - 6.6 - 11.88 - 10

    assert not orders["meituan:MT3"]["is_revenue"]
    assert orders["meituan:MT4"]["store_code"] is None  # not in the ERP's store map
    assert not orders["meituan:MT5"]["is_amount_consistent"]

    eleme = orders["eleme:EL1"]
    assert eleme["store_code"] == "HZ201" and eleme["net_amount"] == Decimal("23.40")
    assert eleme["eleme_user_pseudonym"] is not None and eleme["meituan_user_pseudonym"] is None
    el1 = [line for line in lines if line["order_id"] == "eleme:EL1"]
    assert [(line["sku"], line["unit_price"]) for line in el1] == [
        ("B1001", Decimal("12.00")),
        ("B1002", Decimal("8.50")),
    ]
    refunded = orders["eleme:EL2"]
    assert not refunded["is_revenue"] and refunded["net_amount"] == 0

    # The unmapped name keeps its share of MT2's revenue; the unknown store its orders.
    unmapped = by(collect(build_unmapped(channels.orders, channels.lines)), "platform_value")
    mystery = unmapped["神秘面包"]
    assert (mystery["kind"], mystery["order_count"], mystery["line_amount"]) == (
        "product",
        1,
        Decimal("10.00"),  # 66 of goods less 2 x 28 of tiramisu
    )
    assert mystery["revenue_amount"] == Decimal("5.68")  # 37.52 x 10 / 66
    store = unmapped["MT999999"]
    assert (store["kind"], store["order_count"], store["revenue_amount"]) == (
        "store",
        1,
        Decimal("6.97"),
    )
