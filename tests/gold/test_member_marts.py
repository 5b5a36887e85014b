"""The member marts built by the real dbt project from a tiny silver (exact values)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from deltalake import DeltaTable

from bakehouse.delta_sql import snapshot
from tests.gold.conftest import copy_project, run_dbt, write_tiny_silver

pytestmark = pytest.mark.slow


def gold(settings, table: str) -> duckdb.DuckDBPyRelation:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    return con.sql(snapshot(settings.table_path("gold", table)).select_sql())


def test_marts_are_published_as_delta_tables_under_lake_gold(gold_home) -> None:
    for table in ("member_orders", "member_360", "member_tags", "member_tag_history"):
        assert DeltaTable.is_deltatable(str(gold_home.table_path("gold", table))), table
    description = DeltaTable(str(gold_home.table_path("gold", "member_360"))).metadata().description
    assert description.startswith("Member 360 (会员360)")


def test_member_orders_attribute_by_precedence_and_count_net_sales(gold_home) -> None:
    rows = gold(gold_home, "member_orders").order("order_id").fetchall()
    got = [
        (r[0], r[1], r[2])
        for r in gold(gold_home, "member_orders")
        .select("order_id, one_id, attributed_by")
        .order("order_id")
        .fetchall()
    ]
    assert got == [
        ("douyin:V1", "P3", "douyin_open_id"),
        ("meituan:3", "P2", "meituan_user_id"),
        ("pos:1", "P1", "member_id"),  # its phone is P2's: the member id wins
        ("pos:2", "P1", "member_id"),
    ]
    assert len(rows) == 4  # the void, the refunded voucher, the walk-in, 11-05: not here
    spend = dict(gold(gold_home, "member_orders").select("order_id, net_sales_amount").fetchall())
    assert spend == {
        "douyin:V1": Decimal("50.00"),
        "meituan:3": Decimal("50.00"),
        "pos:1": Decimal("30.00"),
        "pos:2": Decimal("-10.00"),
    }
    voucher = gold(gold_home, "member_orders").filter("order_id = 'douyin:V1'")
    assert voucher.select("purchase_date").fetchone() == (dt.date(2026, 11, 3),)


def test_member_360_has_one_row_per_person_with_as_of_values(gold_home) -> None:
    people = gold(gold_home, "member_360")
    columns = (
        "one_id, is_member, level, points_balance, marketing_consent, spend_lifetime_amount, "
        "order_count_lifetime, first_purchase_date, last_purchase_date, days_since_last_purchase, "
        "preferred_daypart, top_skus, channels_used, is_birthday_cake_buyer"
    )
    rows = {r[0]: r[1:] for r in people.select(columns).fetchall()}
    assert rows == {
        "P1": (
            True,
            "金卡",
            300,
            True,
            Decimal("20.00"),
            1,
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 1),
            3,
            "breakfast",
            ["S1", "S2"],
            ["pos"],
            True,
        ),
        "P2": (
            False,
            None,
            None,
            False,
            Decimal("50.00"),
            1,
            dt.date(2026, 11, 2),
            dt.date(2026, 11, 2),
            2,
            "lunch",
            ["S3"],
            ["meituan"],
            False,
        ),
        "P3": (
            False,
            None,
            None,
            False,
            Decimal("50.00"),
            1,
            dt.date(2026, 11, 3),
            dt.date(2026, 11, 3),
            1,
            None,
            ["S2"],
            ["douyin"],
            True,
        ),
        "P4": (True, "普通", 0, False, Decimal("0.00"), 0, None, None, None, None, [], [], False),
    }
    shares = {
        r[0]: r[1:]
        for r in people.select("one_id, delivery_share, discount_share, refund_rate").fetchall()
    }
    assert shares["P2"] == (1.0, 1.0, 0.0)
    assert shares["P1"] == (0.0, 0.0, 1.0)  # one return against one order


def test_member_tags_follow_the_yaml_conditions(gold_home) -> None:
    held: dict[str, set[str]] = {}
    for one_id, tag in gold(gold_home, "member_tags").select("one_id, tag_name").fetchall():
        held.setdefault(one_id, set()).add(tag)
    assert held == {
        "P1": {
            "new_customer",
            "active",
            "in_store",
            "cake_customer",
            "birthday_cake_buyer",
            "breakfast",
            "birthday_month",
            "marketable",
        },
        "P2": {"new_customer", "active"},
        "P3": {
            "new_customer",
            "active",
            "douyin_voucher_user",
            "cake_customer",
            "birthday_cake_buyer",
        },
        "P4": {"registered_not_bought"},
    }
    history = gold(gold_home, "member_tag_history")
    assert history.count("*").fetchone() == (16,)
    assert history.filter("valid_from <> DATE '2026-11-04' or valid_to is not null").count(
        "*"
    ).fetchone() == (0,)


def test_starter_tags_cover_every_category_of_the_brief() -> None:
    import yaml

    from tests.gold.conftest import REPO_ROOT

    spec = yaml.safe_load((REPO_ROOT / "models/marts/member/_member_tags.yml").read_text())
    tags = spec["models"][0]["config"]["meta"]["tag_factory"]
    labels = {t["label"] for t in tags}
    assert len(tags) >= 20
    assert {
        "新客",
        "活跃",
        "沉睡",
        "流失",
        "高价值",
        "高频",
        "外卖偏好",
        "到店",
        "全渠道",
        "抖音券用户",
        "蛋糕客户",
        "面包日常客",
        "节令礼盒客",
        "早餐客",
        "周末客",
        "生日月",
        "券敏感",
    } <= labels
    for tag in tags:
        assert set(tag) == {"name", "label", "description", "owner", "category", "condition"}


def test_tag_history_records_changes_only_and_keeps_it_on_a_rerun_of_the_past(tmp_path) -> None:
    home = tmp_path / "home"
    write_tiny_silver(home / "lake" / "silver")
    first = run_dbt(home, ["build"], work=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    later = run_dbt(home, ["run", "-s", "member_360+"], as_of="2026-12-05", work=tmp_path)
    assert later.returncode == 0, later.stdout[-3000:]
    con = duckdb.connect()
    history = con.sql(snapshot(home / "lake/gold/member_tag_history").select_sql())
    closed = sorted(
        history.filter("valid_to is not null")
        .select("one_id, tag_name, valid_from, valid_to")
        .fetchall()
    )
    start, end = dt.date(2026, 11, 4), dt.date(2026, 12, 5)
    assert closed == [
        ("P1", "birthday_month", start, end),
        ("P1", "new_customer", start, end),
        ("P2", "new_customer", start, end),
        ("P3", "new_customer", start, end),
    ]
    assert history.count("*").fetchone() == (16,)  # no new tag: no new row
    on_nov_10 = history.filter(
        "tag_name = 'new_customer' and valid_from <= DATE '2026-11-10' "
        "and (valid_to is null or valid_to > DATE '2026-11-10')"
    )
    assert on_nov_10.count("*").fetchone() == (3,)
    before = sorted(history.fetchall())
    past = run_dbt(home, ["run", "-s", "member_tag_history"], as_of="2026-11-20", work=tmp_path)
    assert past.returncode == 0, past.stdout[-3000:]
    assert "as_of_date 2026-11-20 is earlier: history published unchanged" in past.stdout
    again = duckdb.connect().sql(snapshot(home / "lake/gold/member_tag_history").select_sql())
    assert sorted(again.fetchall()) == before


def test_a_tag_added_in_yaml_appears_after_the_next_run(tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    tags_file = project / "models/marts/member/_member_tags.yml"
    tags_file.write_text(
        tags_file.read_text(encoding="utf-8").replace(
            "          # consent\n",
            "          - name: coffee_lover\n"
            "            label: 咖啡客\n"
            "            description: Prefers coffee.\n"
            "            owner: product\n"
            "            category: product\n"
            "            condition: preferred_subcategory = '咖啡'\n"
            "          # consent\n",
        ),
        encoding="utf-8",
    )
    home = tmp_path / "home"
    write_tiny_silver(home / "lake" / "silver")
    built = run_dbt(home, ["build"], project_dir=project, work=tmp_path)
    assert built.returncode == 0, built.stdout[-3000:]
    con = duckdb.connect()
    tags = con.sql(snapshot(home / "lake/gold/member_tags").select_sql())
    assert tags.filter("tag_name = 'coffee_lover'").select("one_id, tag_label").fetchall() == [
        ("P2", "咖啡客")
    ]


@pytest.mark.parametrize(
    ("bad_entry", "message"),
    [
        ("condition: no_such_column > 1", "tag `high_value`: unknown column `no_such_column`"),
        ("condition: spend_365d_amount >= and 1000", "tag `high_value`: invalid SQL condition"),
        (
            "condition: spend_365d_amount >= 1000\n          - name: active\n"
            "            label: x\n            description: x\n            owner: x\n"
            "            category: x\n            condition: 'true'",
            "duplicate name `active`",
        ),
    ],
    ids=["unknown-column", "invalid-sql", "duplicate-name"],
)
def test_a_bad_tag_entry_fails_with_its_name(tmp_path, gold_home, bad_entry, message) -> None:
    project = copy_project(tmp_path / "project")
    tags_file = project / "models/marts/member/_member_tags.yml"
    text = tags_file.read_text(encoding="utf-8")
    assert "condition: spend_365d_amount >= 1000" in text
    tags_file.write_text(
        text.replace("condition: spend_365d_amount >= 1000", bad_entry, 1), encoding="utf-8"
    )
    result = run_dbt(
        gold_home.home, ["compile", "-s", "member_tags"], project_dir=project, work=tmp_path
    )
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]


def test_asof_target_writes_scratch_only_and_empty_models_keep_their_schema(tmp_path) -> None:
    """No orders at all: member_orders is an empty table with its columns, in scratch."""
    home = tmp_path / "home"
    write_tiny_silver(home / "lake" / "silver", orders=[])
    result = run_dbt(home, ["run", "--target", "asof"], as_of="2026-10-20", work=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert not (home / "lake" / "gold").exists()
    orders = home / "scratch" / "asof" / "gold" / "member_orders"
    table = DeltaTable(str(orders))
    assert sum(table.get_add_actions(flatten=True).column("num_records").to_pylist()) == 0
    assert {"order_id", "one_id", "net_sales_amount", "purchase_date"} <= {
        field.name for field in table.schema().fields
    }
    people = duckdb.sql(snapshot(home / "scratch/asof/gold/member_360").select_sql())
    # as of 10-20: P1 (since 10-01) and P4 (since 10-15) are members, at their level then
    assert sorted(people.select("one_id, is_member, level").fetchall()) == [
        ("P1", True, "普通"),
        ("P4", True, "普通"),
    ]


def test_dbt_sees_silver_but_never_the_pii_vault(gold_home) -> None:
    con = duckdb.connect(str(gold_home.home / "dbt" / "bakehouse.duckdb"), read_only=True)
    views = {
        row[0]
        for row in con.execute(
            "select view_name from duckdb_views() where schema_name = 'silver'"
        ).fetchall()
    }
    con.close()
    assert "orders" in views and "member_history" in views
    assert "pii_vault" not in views
