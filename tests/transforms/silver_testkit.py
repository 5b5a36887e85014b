"""Tiny bronze frames for the silver tests, built from rows written in the test.

Rows are dicts of the contract's bronze columns (`ingestion.schemas`); the lineage
columns are filled from the file they pretend to come from. Local times given as
strings are Asia/Shanghai, like the source exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from transforms.common.bronze import bronze_schema
from transforms.pipeline import BRONZE_INPUTS

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_KEY = b"test-key-not-secret-0123456789abcdef"


def _coerce(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind.startswith("decimal") and not isinstance(value, Decimal):
        return Decimal(str(value))
    if kind == "timestamp" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("/", "-")).replace(tzinfo=SHANGHAI)
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if kind == "bigint":
        return int(value)
    return value


def bronze_rows(
    table: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    file: str,
    business_date: str | dt.date,
    sha: str = "sha-1",
    ingested_at: str = "2030-01-01 03:00:00",
    batch_id: str = "batch-1",
) -> list[tuple]:
    """Rows as tuples in the bronze schema's order, lineage filled in."""
    schema = bronze_schema(table)
    lineage = {
        "business_date": business_date,
        "source_file": file,
        "file_sha256": sha,
        "ingested_at": ingested_at,
        "batch_id": batch_id,
    }
    out = []
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(schema.fieldNames())
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")
        values = {**row, **lineage, "source_row": number}
        out.append(
            tuple(_coerce(values.get(f.name), f.dataType.simpleString()) for f in schema.fields)
        )
    return out


def bronze_frame(spark, table: str, rows: list[tuple]):
    return spark.createDataFrame(rows, bronze_schema(table))


def bronze_frames(spark, rows_by_table: Mapping[str, list[tuple]]) -> dict:
    """A frame per bronze input (empty where no rows were given)."""
    return {t: bronze_frame(spark, t, list(rows_by_table.get(t, []))) for t in BRONZE_INPUTS}


def collect(df, order_by: str | list[str] | None = None) -> list[dict]:
    """Collected rows as dicts, sorted for stable assertions."""
    rows = [r.asDict(recursive=True) for r in df.collect()]
    if order_by:
        keys = [order_by] if isinstance(order_by, str) else order_by
        rows.sort(key=lambda r: tuple(str(r[k]) for k in keys))
    return rows


def by(rows: list[dict], column: str) -> dict:
    return {r[column]: r for r in rows}


# A tiny chain: one own store and one franchise, with their platform ids.
STORE_ROWS = [
    dict(
        store_code="SH101",
        store_name="静安寺店",
        city="上海",
        region="华东",
        store_type="直营",
        opened_on="2023-05-01",
        meituan_store_id="MT880101",
        eleme_store_id="E20990101",
        douyin_poi="7100000000000000101",
        status="营业",
    ),
    dict(
        store_code="HZ201",
        store_name="西湖店",
        city="杭州",
        region="华东",
        store_type="加盟",
        opened_on="2023-05-01",
        meituan_store_id="MT880201",
        eleme_store_id="E20990201",
        douyin_poi="7100000000000000201",
        franchisee_code="F001",
        royalty_rate="0.06",
        status="营业",
    ),
]
PRODUCT_ROWS = [
    dict(
        sku="B1001",
        product_name="法式长棍",
        retail_price="12.00",
        meituan_name="法式长棍",
        eleme_name="法式长棍面包",
        douyin_product_id="35B1001",
        is_baked_in_store="是",
    ),
    dict(
        sku="B1002",
        product_name="牛角包",
        retail_price="8.50",
        meituan_name="牛角包",
        eleme_name="牛角包",
        douyin_product_id="35B1002",
        is_baked_in_store="是",
    ),
    dict(
        sku="C2001",
        product_name="6英寸草莓蛋糕",
        retail_price="168.00",
        meituan_name="6英寸草莓蛋糕",
        eleme_name="6英寸草莓蛋糕",
        douyin_product_id="35C2001",
    ),
    dict(
        sku="C2002",
        product_name="提拉米苏切块",
        retail_price="28.00",
        meituan_name="提拉米苏(切块)",
        eleme_name="提拉米苏切块",
        douyin_product_id="35C2002",
    ),
    dict(
        sku="D4001",
        product_name="美式咖啡",
        retail_price="15.00",
        meituan_name="美式咖啡",
        eleme_name="美式咖啡(热)",
        douyin_product_id="35D4001",
    ),
]


def masters_rows(day: str = "2026-11-01") -> dict[str, list[tuple]]:
    stamp = day.replace("-", "")
    return {
        "erp_stores": bronze_rows(
            "erp_stores", STORE_ROWS, file=f"erp/erp_stores_{stamp}.csv", business_date=day
        ),
        "erp_products": bronze_rows(
            "erp_products", PRODUCT_ROWS, file=f"erp/erp_products_{stamp}.csv", business_date=day
        ),
    }


# -- a three-night scenario (tests/transforms/test_incremental.py) ------------------


def _pos(store, ticket, day, doc="销售", qty=1, received="8.50", **extra):
    return dict(
        store_code=store,
        ticket_no=ticket,
        doc_type=doc,
        sold_at=f"{day} 10:00:00",
        line_no=1,
        sku="B1002",
        product_name="牛角包",
        qty=qty,
        unit_price="8.50",
        discount_amount="0",
        received_amount=received,
        payment_method=extra.pop("payment", "微信"),
        **extra,
    )


def _mp(order_id, status, created, updated):
    return dict(
        order_id=order_id,
        created_at=created,
        updated_at=updated,
        status=status,
        fulfillment="PICKUP",
        store_code="SH101",
        member_id="U1",
        items_json='[{"sku":"B1002","name":"牛角包","qty":1,"price_fen":850,"discount_fen":0}]',
        freight_fen=0,
        pay_amount_fen=850,
        refund_amount_fen=0,
    )


def _meituan(order_id, day, items="牛角包（新品）*1"):
    return dict(
        order_id=order_id,
        meituan_store_id="MT880101",
        ordered_at=f"{day} 12:00:00",
        status="已完成",
        items_raw=items,
        goods_amount="8.50",
        customer_paid="13.50",
        merchant_subsidy="0",
        platform_commission="1.50",
        delivery_fee="5.00",
        merchant_receivable="7.00",
        refund_amount="0",
        meituan_user_id="u1",
    )


def scenario_night(n: int) -> list[tuple[str, list[tuple]]]:
    """(bronze table, rows) landed on night n; lineage says which file and copy."""

    def rows(table, data, file, day, sha="v1"):
        stamp = f"2030-01-0{n} 03:00:00"
        return table, bronze_rows(
            table,
            data,
            file=file,
            business_date=day,
            sha=sha,
            ingested_at=stamp,
            batch_id=f"night-{n}",
        )

    if n == 1:
        return [
            rows("erp_stores", STORE_ROWS, "erp/erp_stores_20261101.csv", "2026-11-01"),
            rows("erp_products", PRODUCT_ROWS, "erp/erp_products_20261101.csv", "2026-11-01"),
            rows(
                "pos_sales",
                [_pos("SH101", "T1", "2026-11-01"), _pos("SH101", "T2", "2026-11-01")],
                "pos/pos_sales_SH101_20261101.csv",
                "2026-11-01",
            ),
            rows(
                "mp_orders",
                [_mp("MP1", "PAID", "2026-11-01 20:00:00", "2026-11-01 20:01:00")],
                "miniprogram/mp_orders_20261101.jsonl",
                "2026-11-01",
            ),
            rows(
                "douyin_orders",
                [
                    dict(
                        order_id="DY1",
                        douyin_product_id="35C2001",
                        voucher_code="V1",
                        list_price="168",
                        paid_amount="142.80",
                        platform_subsidy="8.40",
                        host_commission="0",
                        ordered_at="2026-11-01 09:00:00",
                        douyin_open_id="d1",
                        status="已支付",
                    )
                ],
                "douyin/douyin_orders_20261101.csv",
                "2026-11-01",
            ),
            rows(
                "meituan_orders",
                [_meituan("MT1", "2026-11-01")],
                "meituan/meituan_orders_20261101.xlsx",
                "2026-11-01",
            ),
            rows(
                "erp_inventory",
                [
                    dict(
                        stock_date="2026-11-01",
                        store_code="SH101",
                        sku="B1002",
                        opening_qty=0,
                        delivered_qty=0,
                        baked_qty=10,
                        sold_qty=9,
                        waste_qty=1,
                        waste_reason="过期",
                        closing_qty=0,
                    )
                ],
                "erp/erp_inventory_20261101.csv",
                "2026-11-01",
            ),
        ]
    if n == 2:
        return [
            # Re-export of Nov 1's till file: T2 is gone, T3 is new.
            rows(
                "pos_sales",
                [_pos("SH101", "T1", "2026-11-01"), _pos("SH101", "T3", "2026-11-01")],
                "pos/pos_sales_SH101_20261101.csv",
                "2026-11-01",
                sha="v2",
            ),
            rows(
                "pos_sales",
                [
                    _pos(
                        "SH101",
                        "R1",
                        "2026-11-02",
                        doc="退货",
                        qty=-1,
                        received="-8.50",
                        original_ticket_no="T1",
                    ),
                    _pos(
                        "SH101",
                        "T4",
                        "2026-11-02",
                        received="151.20",
                        payment="抖音券",
                        voucher_code="V1",
                    ),
                ],
                "pos/pos_sales_SH101_20261102.csv",
                "2026-11-02",
            ),
            rows(
                "mp_orders",
                [
                    _mp("MP1", "COMPLETED", "2026-11-01 20:00:00", "2026-11-02 09:00:00"),
                    _mp("MP2", "COMPLETED", "2026-11-02 10:00:00", "2026-11-02 11:00:00"),
                ],
                "miniprogram/mp_orders_20261102.jsonl",
                "2026-11-02",
            ),
            rows(
                "douyin_verifications",
                [
                    dict(
                        voucher_code="V1",
                        redeemed_at="2026-11-02 15:00:00",
                        douyin_poi="7100000000000000101",
                        redeemed_amount="151.20",
                        merchant_amount="138.50",
                        platform_fee="12.70",
                    )
                ],
                "douyin/douyin_verifications_20261102.csv",
                "2026-11-02",
            ),
            rows(
                "meituan_orders",
                [_meituan("MT2", "2026-11-02", "神秘面包*1")],
                "meituan/meituan_orders_20261102.xlsx",
                "2026-11-02",
            ),
        ]
    return [
        # Late: HZ201's Nov 2 till file arrives a day after the others.
        rows(
            "pos_sales",
            [_pos("HZ201", "T9", "2026-11-02")],
            "pos/pos_sales_HZ201_20261102.csv",
            "2026-11-02",
        ),
        # Re-export of Nov 2's mini-program file without MP1's completion.
        rows(
            "mp_orders",
            [_mp("MP2", "COMPLETED", "2026-11-02 10:00:00", "2026-11-02 11:00:00")],
            "miniprogram/mp_orders_20261102.jsonl",
            "2026-11-02",
            sha="v2",
        ),
        rows("erp_stores", STORE_ROWS, "erp/erp_stores_20261103.csv", "2026-11-03"),
        rows("erp_products", PRODUCT_ROWS, "erp/erp_products_20261103.csv", "2026-11-03"),
        rows(
            "erp_inventory",
            [
                dict(
                    stock_date="2026-11-03",
                    store_code="SH101",
                    sku="B1002",
                    opening_qty=0,
                    delivered_qty=0,
                    baked_qty=5,
                    sold_qty=5,
                    waste_qty=0,
                    closing_qty=0,
                )
            ],
            "erp/erp_inventory_20261103.csv",
            "2026-11-03",
        ),
    ]


def land(lake, spark, night: list[tuple[str, list[tuple]]]) -> list[str]:
    files = set()
    for table, rows in night:
        lake.write(bronze_frame(spark, table, rows), "bronze", table, mode="append")
        files |= {row[-5] for row in rows}  # source_file (lineage order: see LINEAGE_COLUMNS)
    return sorted(files)


def scenario_rows(nights: tuple[int, ...] = (1, 2, 3)) -> dict[str, list[tuple]]:
    """The scenario's bronze rows by table, current copies only (as bronze keeps them)."""
    by_table: dict[str, list[tuple]] = {}
    for n in nights:
        for table, rows in scenario_night(n):
            files = {row[-5] for row in rows}
            kept = [r for r in by_table.get(table, []) if r[-5] not in files]
            by_table[table] = kept + rows
    return by_table


def canonical_rows(df) -> list[tuple]:
    """Rows as sorted tuples of strings, the same on every engine and client.

    Timestamps become epoch seconds (clients convert instants to their own local time
    differently), arrays are sorted, and rows are sorted.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = []
    for field in df.schema.fields:
        column = F.col(field.name)
        if isinstance(field.dataType, T.TimestampType):
            column = column.cast("long")
        elif isinstance(field.dataType, T.ArrayType):
            column = F.concat_ws("|", F.array_sort(column))
        columns.append(column.cast("string").alias(field.name))
    return sorted(tuple(str(v) for v in row) for row in df.select(*columns).collect())
