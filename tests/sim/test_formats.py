"""Landing files look like the real exports: names, encodings, headers, masking."""

from __future__ import annotations

import re

import pytest
from python_calamine import CalamineWorkbook

from tests.sim.readers import files, read_csv, read_jsonl, read_meituan
from tests.sim.simrun import SAMPLES

DAILY_FILES = [
    ("pos", "pos_sales_SH001_{d}.csv"),
    ("miniprogram", "mp_orders_{d}.jsonl"),
    ("miniprogram", "mp_members_{d}.jsonl"),
    ("wecom", "wecom_contacts_{d}.jsonl"),
    ("douyin", "douyin_orders_{d}.csv"),
    ("douyin", "douyin_verifications_{d}.csv"),
    ("meituan", "meituan_orders_{d}.xlsx"),
    ("eleme", "eleme_orders_{d}.csv"),
    ("erp", "erp_stores_{d}.csv"),
    ("erp", "erp_products_{d}.csv"),
    ("erp", "erp_inventory_{d}.csv"),
    ("erp", "erp_b2b_customers_{d}.csv"),
    ("erp", "erp_b2b_orders_{d}.csv"),
]


@pytest.mark.parametrize("day", ["20261101", "20261104"])
def test_every_feed_is_written_under_its_exact_name(clean_run, day: str) -> None:
    for folder, pattern in DAILY_FILES:
        assert (clean_run.landing / folder / pattern.format(d=day)).is_file(), pattern
    assert (clean_run.landing / "erp" / "erp_store_costs_202611.csv").is_file()
    stores = read_csv(clean_run.landing / "erp" / f"erp_stores_{day}.csv")
    open_codes = stores.filter(stores["状态"] == "营业")["门店编码"].to_list()
    assert {p.name for p in files(clean_run.landing, "pos", "pos_sales_") if day in p.name} == {
        f"pos_sales_{code}_{day}.csv" for code in open_codes
    }
    assert all(re.fullmatch(r"[A-Z]{2}\d{3}", code) for code in stores["门店编码"])


def test_encodings_and_line_endings(clean_run) -> None:
    pos = (clean_run.landing / "pos" / "pos_sales_SH001_20261101.csv").read_bytes()
    pos.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        pos.decode("utf-8")
    assert b"\r\n" in pos and not pos.startswith(b"\xef\xbb\xbf")
    for name in (
        "douyin/douyin_orders_20261101.csv",
        "erp/erp_inventory_20261101.csv",
        "erp/erp_stores_20261101.csv",
    ):
        assert (clean_run.landing / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    eleme = (clean_run.landing / "eleme" / "eleme_orders_20261101.csv").read_bytes()
    assert not eleme.startswith(b"\xef\xbb\xbf")
    eleme.decode("utf-8")
    costs = (clean_run.landing / "erp" / "erp_store_costs_202611.csv").read_bytes()
    assert costs.decode("gbk").startswith("月份,门店编码")


def test_meituan_workbook_has_title_row_and_header_on_row_two(clean_run) -> None:
    path = clean_run.landing / "meituan" / "meituan_orders_20261101.xlsx"
    workbook = CalamineWorkbook.from_path(str(path))
    assert workbook.sheet_names == ["订单明细"]
    rows = workbook.get_sheet_by_name("订单明细").to_python()
    assert rows[0][0] == "美团外卖订单明细 2026-11-01"
    assert rows[1][0] == "订单号"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not beside the repository")
def test_headers_match_the_sample_exports(clean_run) -> None:
    for sample in sorted(SAMPLES.rglob("*.csv")):
        feed = re.fullmatch(r"([a-z0-9_]+?)_(?:[A-Z]{2}\d{3}_)?\d{6,8}\.csv", sample.name).group(1)
        ours = sorted((clean_run.landing / sample.parent.name).glob(f"{feed}_*.csv"))
        assert ours, sample.name
        assert read_csv(ours[0]).columns == read_csv(sample).columns, sample.name
    sample_meituan = read_meituan(next(SAMPLES.glob("meituan/*.xlsx")))
    assert (
        read_meituan(clean_run.landing / "meituan" / "meituan_orders_20261101.xlsx").columns
        == sample_meituan.columns
    )
    for kind in ("mp_orders", "mp_members", "wecom_contacts"):
        sample_rows = [r for p in SAMPLES.rglob(f"{kind}_*.jsonl") for r in read_jsonl(p)]
        our_rows = read_jsonl(next((clean_run.landing).rglob(f"{kind}_20261101.jsonl")))
        assert set(our_rows[0]) == set(sample_rows[0]), kind


def test_time_formats_and_masked_phones(clean_run) -> None:
    pos = read_csv(clean_run.landing / "pos" / "pos_sales_SH001_20261101.csv")
    assert pos["销售时间"].str.contains(r"^2026/11/01 \d{2}:\d{2}:\d{2}$").all()
    douyin = read_csv(clean_run.landing / "douyin" / "douyin_orders_20261101.csv")
    assert douyin["手机号"].str.contains(r"^1\d{2}\*{4}\d{4}$").all()
    meituan = read_meituan(clean_run.landing / "meituan" / "meituan_orders_20261101.xlsx")
    phones = meituan["顾客电话"]
    assert phones.str.contains(r"^(1\d{2}\*{4}\d{4}|尾号\d{4})$").all()
    assert phones.str.starts_with("尾号").any() and phones.str.contains(r"\*").any()
    orders = read_jsonl(clean_run.landing / "miniprogram" / "mp_orders_20261101.jsonl")
    assert all(re.fullmatch(r"2026-11-\d\dT\d\d:\d\d:\d\d\+08:00", o["updated_at"]) for o in orders)
    assert all(isinstance(o["pay_amount_fen"], int) for o in orders)


def test_initial_member_dump_holds_the_whole_base(clean_run) -> None:
    dump = read_jsonl(clean_run.landing / "miniprogram" / "mp_members_20261031.jsonl")
    assert len(dump) == 20_000
    assert all(
        re.fullmatch(r"M\d{10}", m["card_no"]) and m["member_id"].startswith("U")
        for m in dump[:100]
    )
    channels = {m["register_channel"] for m in dump}
    pos_share = sum(m["register_channel"] == "POS" for m in dump) / len(dump)
    assert "POS" in channels and 0.93 < pos_share < 0.97
