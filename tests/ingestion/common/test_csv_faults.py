"""CSV faults: each one is recorded, quarantined or rejected, and nothing is lost."""

from __future__ import annotations

import json

import polars as pl

from bakehouse.config import Settings
from ingestion import ingest
from tests.ingestion.conftest import (
    POS_FILE,
    POS_HEADER,
    POS_ROW,
    POS_ROW_2,
    assert_accounting,
    ledger_row,
    pos_text,
    read_table,
)


def _pos(settings: Settings):
    return ingest(settings, feeds=["pos_sales"])


def _quarantine(settings: Settings) -> pl.DataFrame:
    return read_table(settings, "quarantine", "pos_sales").sort("source_row")


def test_wrong_encoding_is_read_with_the_encoding_whose_header_matches(
    settings: Settings, landing
) -> None:
    landing(POS_FILE, pos_text(POS_ROW, POS_ROW_2), encoding="utf-8")  # declared GBK
    landing(
        "eleme/eleme_orders_20261121.csv",
        "订单编号,饿了么店铺ID,下单时间,订单状态,商品信息,订单总价,顾客实付,商户补贴,平台服务费,"
        "配送费,商户实收,顾客手机号,顾客ID,退款金额\n"
        'EL1,E1,2026-11-21 12:00:00,已完成,"[{""name"": ""牛角包""}]",8.50,8.50,0.00,1.00,'
        "0.00,7.50,190****3020,el1,0.00\n",
        encoding="gbk",
    )  # declared UTF-8
    ingest(settings, feeds=["pos_sales", "eleme_orders"])
    pos = ledger_row(settings, POS_FILE)
    assert pos["status"] == "landed" and pos["rows_landed"] == 2
    assert "encoding_fallback:gbk->utf-8" in pos["notes"]
    eleme = ledger_row(settings, "eleme/eleme_orders_20261121.csv")
    assert eleme["encoding"] == "gbk" and "encoding_fallback:utf-8->gbk" in eleme["notes"]
    assert read_table(settings, "bronze", "pos_sales")["store_name"].to_list() == ["静安寺店"] * 2
    assert read_table(settings, "bronze", "eleme_orders")["status"].to_list() == ["已完成"]
    assert_accounting(settings)


def test_undecodable_bytes_quarantine_only_their_line(settings: Settings, landing) -> None:
    good = pos_text(POS_ROW, POS_ROW_2).encode("gbk")
    broken = good.replace("牛角包".encode("gbk"), b"\xff\xfe\xff")
    landing(POS_FILE, broken)
    _pos(settings)
    row = ledger_row(settings, POS_FILE)
    assert (row["rows_landed"], row["rows_quarantined"]) == (1, 1)
    quarantined = _quarantine(settings).row(0, named=True)
    assert quarantined["reason_code"] == "bad_encoding"
    assert "\\xff" in quarantined["raw_line"]
    assert_accounting(settings)


def test_truncated_last_line_is_quarantined(settings: Settings, landing) -> None:
    cut = POS_ROW_2[:40]
    landing(POS_FILE, pos_text(POS_ROW).encode("gbk") + cut.encode("gbk"))
    _pos(settings)
    row = ledger_row(settings, POS_FILE)
    assert (row["rows_read"], row["rows_landed"], row["rows_quarantined"]) == (2, 1, 1)
    quarantined = _quarantine(settings).row(0, named=True)
    assert quarantined["reason_code"] == "truncated_row"
    assert quarantined["raw_line"] == cut
    assert quarantined["source_row"] == 2
    assert_accounting(settings)


def test_wrong_field_count_in_the_middle(settings: Settings, landing) -> None:
    landing(POS_FILE, pos_text(POS_ROW, POS_ROW + ",surplus", POS_ROW_2).encode("gbk"))
    _pos(settings)
    row = ledger_row(settings, POS_FILE)
    assert (row["rows_landed"], row["rows_quarantined"]) == (2, 1)
    assert _quarantine(settings)["reason_code"].to_list() == ["wrong_field_count"]
    assert_accounting(settings)


def test_empty_file_is_rejected_and_header_only_lands_empty(settings: Settings, landing) -> None:
    landing(POS_FILE, b"")
    landing("pos/pos_sales_SH102_20261121.csv", pos_text().encode("gbk"))
    report = _pos(settings)
    empty = ledger_row(settings, POS_FILE)
    assert (empty["status"], empty["reason"]) == ("rejected", "empty_file")
    header_only = ledger_row(settings, "pos/pos_sales_SH102_20261121.csv")
    assert (header_only["status"], header_only["rows_read"]) == ("landed", 0)
    assert report.summary("pos_sales").rejected == 1
    assert read_table(settings, "bronze", "pos_sales").is_empty()
    assert_accounting(settings)


def test_missing_required_column_quarantines_the_files_rows(settings: Settings, landing) -> None:
    header = POS_HEADER.replace(",收银员", "")
    rows = [r.replace(",C01,", ",", 1) for r in (POS_ROW, POS_ROW_2)]
    landing(POS_FILE, pos_text(*rows, header=header).encode("gbk"))
    _pos(settings)
    row = ledger_row(settings, POS_FILE)
    assert (row["status"], row["rows_landed"], row["rows_quarantined"]) == ("landed", 0, 2)
    assert "missing_columns:收银员" in row["notes"]
    assert set(_quarantine(settings)["reason_code"]) == {"missing_column:收银员"}
    assert_accounting(settings)


def test_extra_column_lands_with_its_values_in_extra_json(settings: Settings, landing) -> None:
    landing(
        POS_FILE,
        pos_text(POS_ROW + ",第二杯半价", POS_ROW_2 + ",", header=POS_HEADER + ",备注").encode(
            "gbk"
        ),
    )
    _pos(settings)
    row = ledger_row(settings, POS_FILE)
    assert row["rows_landed"] == 2 and "extra_columns:备注" in row["notes"]
    bronze = read_table(settings, "bronze", "pos_sales").sort("source_row")
    assert json.loads(bronze["extra_json"][0]) == {"备注": "第二杯半价"}
    assert bronze["extra_json"][1] is None
    assert_accounting(settings)


def test_unparseable_values_are_quarantined_with_their_reason(settings: Settings, landing) -> None:
    bad_time = POS_ROW.replace("2026/11/21 08:15:32", "2026/13/45 25:00:00")
    bad_amount = POS_ROW_2.replace(",8.50,现金", ",abc,现金")
    third_decimal = POS_ROW_2.replace(",8.50,现金", ",8.505,现金")
    landing(POS_FILE, pos_text(bad_time, bad_amount, third_decimal, POS_ROW).encode("gbk"))
    landing(
        "erp/erp_inventory_20261121.csv",
        "\ufeff日期,门店编码,商品编码,期初库存,配送入库,现烤生产,销售出库,报损数量,报损原因,期末库存\r\n"
        "2026-02-30,SH101,B1001,0,0,24,23,1,过期,0\r\n",
        encoding="utf-8",
    )
    ingest(settings, feeds=["pos_sales", "erp_inventory"])
    reasons = _quarantine(settings)["reason_code"].to_list()
    assert reasons == ["bad_timestamp", "bad_number", "bad_number"]
    detail = _quarantine(settings)["reason_detail"][1]
    assert detail == "received_amount=abc"
    inventory = read_table(settings, "quarantine", "erp_inventory").row(0, named=True)
    assert inventory["reason_code"] == "bad_date"
    assert inventory["raw_line"] == "2026-02-30,SH101,B1001,0,0,24,23,1,过期,0"
    assert ledger_row(settings, POS_FILE)["rows_landed"] == 1
    assert_accounting(settings)
