"""Small scales and many seeds: quiet days (no orders on a platform, a store without
tickets) must not crash the simulator, and every feed still writes its file that day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from bakehouse.sim import simulate
from bakehouse.sim.day import DOUYIN_ORDER_COLUMNS, ELEME_COLUMNS, POS_COLUMNS

START = date(2026, 9, 1)
DAYS = 60
DAILY = {
    "miniprogram": ("mp_orders", "mp_members"),
    "wecom": ("wecom_contacts",),
    "douyin": ("douyin_orders", "douyin_verifications"),
    "meituan": ("meituan_orders",),
    "eleme": ("eleme_orders",),
    "erp": ("erp_stores", "erp_products", "erp_inventory", "erp_b2b_customers", "erp_b2b_orders"),
}
EXTENSION = {"miniprogram": "jsonl", "wecom": "jsonl", "meituan": "xlsx"}
HEADERS = {
    "eleme_orders": ",".join(ELEME_COLUMNS),
    "douyin_orders": ",".join(DOUYIN_ORDER_COLUMNS),
    "pos_sales": ",".join(POS_COLUMNS),
}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("scale", [0.001, 0.002, 0.005, 0.01])
def test_small_scales_never_crash_and_write_every_feed_every_day(
    tmp_path: Path, scale: float, seed: int
) -> None:
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    faults = seed % 2 == 1
    summary = simulate(
        landing, truth, scale=scale, start=START, days=DAYS, seed=seed, faults=faults
    )
    assert summary.days == DAYS
    if faults:  # faulted files are renamed, emptied or re-encoded: presence is checked clean
        return
    stores = pl.read_csv(landing / f"erp/erp_stores_{START:%Y%m%d}.csv", encoding="utf8-lossy")
    open_codes = stores.filter(pl.col("状态") == "营业")["门店编码"].to_list()
    header_only = 0
    for offset in range(DAYS):
        day = f"{START + timedelta(days=offset):%Y%m%d}"
        expected = [
            f"{folder}/{feed}_{day}.{EXTENSION.get(folder, 'csv')}"
            for folder, feeds in DAILY.items()
            for feed in feeds
        ] + [f"pos/pos_sales_{code}_{day}.csv" for code in open_codes]
        missing = [name for name in expected if not (landing / name).is_file()]
        assert missing == [], day
        for name in expected:
            feed = name.split("/")[1].rsplit("_", 1)[0]
            feed = "pos_sales" if feed.startswith("pos_sales") else feed
            if feed not in HEADERS:
                continue
            encoding = "gbk" if feed == "pos_sales" else "utf-8-sig"
            lines = (landing / name).read_bytes().decode(encoding).splitlines()
            assert lines[0] == HEADERS[feed], name
            header_only += len(lines) == 1
    logged = [json.loads(line) for line in (truth / "files.jsonl").read_text().splitlines()]
    assert len(logged) == summary.total.files
    if scale == 0.001:
        assert header_only > 0  # the quiet days this sweep is for did happen
