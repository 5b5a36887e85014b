"""POS rows that are readable but wrong land: bronze is not referential."""

from __future__ import annotations

from bakehouse.config import Settings
from ingestion import ingest
from tests.ingestion.conftest import POS_FILE, POS_ROW, POS_ROW_2, pos_text, read_table


def test_unknown_store_and_sku_land_and_amount_mismatch_is_flagged(
    settings: Settings, landing
) -> None:
    unknown = POS_ROW.replace("SH101,", "ZZ999,", 1).replace("B1001", "X9999")
    mismatch = POS_ROW_2.replace(",8.50,现金", ",7.50,现金")
    landing(POS_FILE, pos_text(unknown, mismatch, POS_ROW).encode("gbk"))
    report = ingest(settings, feeds=["pos_sales"])
    assert report.summary("pos_sales").rows_landed == 3
    bronze = read_table(settings, "bronze", "pos_sales").sort("source_row")
    assert bronze["store_code"][0] == "ZZ999" and bronze["sku"][0] == "X9999"
    assert bronze["dq_flags"].to_list() == [None, "amount_mismatch", None]
