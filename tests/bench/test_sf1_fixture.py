"""The shared SF1 bench fixture at a tiny scale: counts, silver's schemas, invariants, determinism.

`silver_schemas.json` is silver's schema (delta-rs' view: name, type, nullable, partitions)
as the real pipeline writes it, recorded from `bakehouse simulate --scale 0.01 --days 2`
+ `bakehouse run`; the slow test rebuilds that lake and checks the record still holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

from bench.fixtures import sf1

RECORDED = Path(__file__).with_name("silver_schemas.json")
TINY = {"scale": 0.01, "days": 30, "seed": 42, "end_date": "2026-10-31"}
PSEUDONYMS = (
    ("member_card_pseudonym", "card_no"),
    ("member_phone_pseudonym", "phone"),
    ("member_id_pseudonym", "member_id"),
    ("unionid_pseudonym", "unionid"),
    ("openid_pseudonym", "openid"),
    ("douyin_open_id_pseudonym", "douyin_open_id"),
    ("meituan_user_pseudonym", "meituan_user_id"),
    ("eleme_user_pseudonym", "eleme_user_id"),
)


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sf1-tiny")
    sf1.build(home, **TINY)
    return home


def read(home: Path, table: str) -> pl.DataFrame:
    return pl.from_arrow(DeltaTable(str(sf1.silver_dir(home) / table)).to_pyarrow_table())


def test_row_counts(tiny_home: Path) -> None:
    recorded = json.loads((tiny_home / sf1.MARKER).read_text())["rows"]
    counted = {table: read(tiny_home, table).height for table in sf1.SCHEMAS}
    assert counted == recorded
    assert counted == {
        "stores": 3,
        "products": 150,
        "store_costs_monthly": 3,  # 3 stores x October
        "b2b_customers": 5,
        "b2b_orders": 56,
        "members": 21_332,  # 20,000 members + platform-only people
        "identity_map": 93_366,
        "orders": 13_998,
        "order_lines": 29_245,
        "vouchers": 389,
        "inventory_daily": 13_500,  # 3 stores x 150 SKUs x 30 days
    }


def test_schemas_are_silvers(tiny_home: Path) -> None:
    recorded = json.loads(RECORDED.read_text())
    assert set(recorded) == set(sf1.SCHEMAS)
    for table in sf1.SCHEMAS:
        assert sf1.delta_schema(sf1.silver_dir(tiny_home) / table) == recorded[table], table


def test_lines_add_up_to_their_orders_to_the_fen(tiny_home: Path) -> None:
    orders = read(tiny_home, "orders")
    lines = read(tiny_home, "order_lines")
    summed = lines.group_by("order_id").agg(
        pl.col("net_amount").sum().alias("lines_net"), pl.len().alias("lines")
    )
    joined = orders.join(summed, on="order_id", how="left")
    assert joined.filter(pl.col("lines_net") != pl.col("net_amount")).height == 0
    assert joined.filter(pl.col("lines") != pl.col("line_count")).height == 0
    assert orders.filter(~pl.col("is_revenue") & (pl.col("net_amount") != 0)).height == 0
    assert orders["order_id"].is_unique().all()


def test_shapes(tiny_home: Path) -> None:
    orders = read(tiny_home, "orders")
    channels = orders["channel"].value_counts().sort("channel")
    assert channels["channel"].to_list() == [
        "b2b",
        "douyin",
        "eleme",
        "meituan",
        "miniprogram",
        "pos",
    ]
    assert set(orders["order_type"]) == {"sale", "return", "voucher"}
    assert {"voided", "refunded", "partially_refunded", "redeemed", "expired"} <= set(
        orders["status"]
    )
    returns = orders.filter(pl.col("order_type") == "return")
    assert returns.filter(pl.col("net_amount") >= 0).height == 0
    assert returns["original_order_id"].is_in(orders["order_id"]).all()
    # Weekends are busier than weekdays.
    per_day = orders.filter(pl.col("channel") != "b2b").group_by("business_date").len()
    weekend = per_day.filter(pl.col("business_date").dt.weekday() >= 6)["len"].mean()
    weekday = per_day.filter(pl.col("business_date").dt.weekday() < 6)["len"].mean()
    assert weekend > 1.1 * weekday
    # Douyin revenue is recognised on the redemption date.
    vouchers = read(tiny_home, "vouchers").filter(pl.col("is_revenue"))
    assert (vouchers["redeemed_date"] >= vouchers["business_date"]).all()
    assert (
        orders.join(vouchers.select("order_id", "redeemed_date"), on="order_id")
        .filter(pl.col("recognised_date") != pl.col("redeemed_date"))
        .height
        == 0
    )


def test_members_have_habits_and_pseudonyms_join_the_map(tiny_home: Path) -> None:
    orders = read(tiny_home, "orders")
    identity = read(tiny_home, "identity_map")
    members = read(tiny_home, "members")
    assert identity["id_hash"].str.contains("^[0-9a-f]{64}$").all()
    for column, id_type in PSEUDONYMS:
        used = orders[column].drop_nulls().unique()
        known = identity.filter(pl.col("id_type") == id_type)["id_hash"]
        assert used.len() > 0, column
        assert used.is_in(known).all(), column
    assert identity["one_id"].is_in(members["one_id"]).all()
    assert members["one_id"].is_unique().all()
    # A member's POS visits are mostly at their registered (home) store.
    cards = identity.filter(pl.col("id_type") == "card_no").select("id_hash", "one_id")
    visits = (
        orders.filter(pl.col("member_card_pseudonym").is_not_null())
        .join(cards, left_on="member_card_pseudonym", right_on="id_hash")
        .join(members.select("one_id", "register_store"), on="one_id")
    )
    at_home = (visits["store_code"] == visits["register_store"]).mean()
    assert at_home > 0.7


def test_inventory_balances_and_matches_sales(tiny_home: Path) -> None:
    stock = read(tiny_home, "inventory_daily")
    flow = (
        pl.col("opening_qty")
        + pl.col("delivered_qty")
        + pl.col("baked_qty")
        - pl.col("sold_qty")
        - pl.col("waste_qty")
    )
    assert stock.filter(flow != pl.col("closing_qty")).height == 0
    sold_out = stock.filter(
        (pl.col("sold_qty") > 0) & (pl.col("closing_qty") == 0) & (pl.col("waste_qty") == 0)
    )
    assert sold_out.height > 0
    orders = read(tiny_home, "orders").select("order_id", "order_type")
    lines = read(tiny_home, "order_lines").join(orders, on="order_id")
    sold = lines.filter(
        pl.col("is_revenue")
        & (pl.col("order_type") == "sale")
        & pl.col("channel").is_in(["pos", "miniprogram", "meituan", "eleme"])
    )
    assert sold["qty"].sum() == stock["sold_qty"].sum()


def test_same_seed_same_content_and_the_cache(tiny_home: Path, tmp_path: Path) -> None:
    again = sf1.build(tmp_path / "again", **TINY)
    assert not again.cached
    for table in sf1.SCHEMAS:
        first, second = read(tiny_home, table), read(tmp_path / "again", table)
        key = [c for c, kind in first.schema.items() if not isinstance(kind, pl.List)]
        assert first.sort(key).equals(second.sort(key)), table
    cached = sf1.build(tmp_path / "again", **TINY)
    assert cached.cached and cached.rows == again.rows
    # A benchmark that writes into the copy (a night MERGEd on top) makes it stale.
    params = sf1.FixtureParams(**TINY)
    assert sf1.is_built(tmp_path / "again", params)
    orders = DeltaTable(str(sf1.silver_dir(tmp_path / "again") / "orders"))
    write_deltalake(orders, orders.to_pyarrow_table().slice(0, 1), mode="append")
    assert not sf1.is_built(tmp_path / "again", params)
    other = sf1.build(tmp_path / "other", **{**TINY, "seed": 7})
    assert not other.cached
    assert not read(tmp_path / "other", "orders")["net_amount"].equals(
        read(tiny_home, "orders")["net_amount"]
    )


def test_default_home_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BAKEHOUSE_BENCH_CACHE", str(tmp_path))
    assert sf1.default_home(1.0, 30) == tmp_path / "sf1-s1-d30-seed42"


def test_rejects_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days >= 1"):
        sf1.build(tmp_path, days=0)


def test_history_ends_on_the_end_date(tiny_home: Path) -> None:
    orders = read(tiny_home, "orders")
    assert orders["business_date"].max() == date(2026, 10, 31)
    assert orders["business_date"].min() == date(2026, 10, 2)


@pytest.mark.slow
def test_recorded_schemas_match_a_real_pipeline_lake(tmp_path: Path) -> None:
    """Simulate 2 days at SF0.01, run the real nightly pipeline, compare silver's schemas."""
    from tests.conftest import TEST_PII_KEY

    home = tmp_path / "home"
    env = {
        **os.environ,
        "BAKEHOUSE_HOME": str(home),
        "BAKEHOUSE_PII_KEY": TEST_PII_KEY,
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    env.pop("BAKEHOUSE_SPARK_REMOTE", None)
    cli = [sys.executable, "-c", "from bakehouse.cli import app; app()"]
    simulate = ["simulate", "--scale", "0.01", "--start", "2026-10-01", "--days", "2"]
    run = ["run", "--from", "2026-09-30", "--to", "2026-10-02", "--force"]
    for command in (["init"], simulate, run):
        done = subprocess.run([*cli, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    recorded = json.loads(RECORDED.read_text())
    for table in sf1.SCHEMAS:
        assert sf1.delta_schema(home / "lake" / "silver" / table) == recorded[table], table
