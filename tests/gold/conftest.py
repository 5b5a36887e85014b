"""A tiny silver lakehouse written by hand (exact values) and the real dbt project.

`tiny_silver` writes the silver Delta tables gold reads, with delta-rs, so every
expected figure in the tests can be worked out by hand (see the docstring of
`write_tiny_silver`). dbt runs as a subprocess of this interpreter's environment
with the repository's own profile; its target/ and logs go to tmp, never the repo.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from bakehouse.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "dbt_tests")
AS_OF = "2026-11-04"
UTC = dt.UTC

MONEY = pa.decimal128(18, 2)
TS = pa.timestamp("us", tz="UTC")


def money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _ts(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _d(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


ORDER_FIELDS = [
    ("order_id", pa.string()),
    ("channel", pa.string()),
    ("order_type", pa.string()),
    ("store_code", pa.string()),
    ("voucher_code", pa.string()),
    ("recognised_date", pa.date32()),
    ("ordered_at", TS),
    ("status", pa.string()),
    ("is_revenue", pa.bool_()),
    ("fulfillment", pa.string()),
    ("member_card_pseudonym", pa.string()),
    ("member_phone_pseudonym", pa.string()),
    ("member_id_pseudonym", pa.string()),
    ("unionid_pseudonym", pa.string()),
    ("openid_pseudonym", pa.string()),
    ("douyin_open_id_pseudonym", pa.string()),
    ("meituan_user_pseudonym", pa.string()),
    ("eleme_user_pseudonym", pa.string()),
    ("gross_amount", MONEY),
    ("discount_amount", MONEY),
    ("merchant_promotion_amount", MONEY),
    ("platform_fee_amount", MONEY),
    ("refund_amount", MONEY),
    ("net_amount", MONEY),
    ("business_date", pa.date32()),
]


def order(
    order_id: str,
    channel: str,
    business_date: str,
    *,
    recognised: str | None = None,
    order_type: str = "sale",
    revenue: bool = True,
    net: str = "0.00",
    fee: str = "0.00",
    promotion: str = "0.00",
    ordered_at: str | None = None,
    store: str | None = "SH001",
    **pseudonyms: str,
) -> dict:
    row = {name: None for name, _ in ORDER_FIELDS}
    row.update(
        order_id=order_id,
        channel=channel,
        order_type=order_type,
        store_code=store,
        business_date=_d(business_date),
        recognised_date=_d(recognised or business_date) if revenue else None,
        ordered_at=_ts(ordered_at),
        status="completed" if revenue else "void",
        is_revenue=revenue,
        gross_amount=money(net),
        discount_amount=money("0.00"),
        merchant_promotion_amount=money(promotion),
        platform_fee_amount=money(fee),
        refund_amount=money("0.00"),
        net_amount=money(net),
    )
    row.update(pseudonyms)
    return row


def write_table(path: Path, fields: Sequence[tuple[str, pa.DataType]], rows: list[dict], **kw):
    schema = pa.schema(list(fields))
    table = pa.Table.from_pylist(rows, schema=schema)
    write_deltalake(str(path), table, mode="overwrite", **kw)


def write_tiny_silver(silver: Path, orders: list[dict] | None = None) -> None:
    """Silver for four people, as of 2026-11-04 (Shanghai = UTC+8).

    - P1, member (mh1, born in November; level 普通 until 11-02, then 金卡 with
      consent): pos:1 on 11-01 08:30 local, 30.00 (lines S1 20.00 bread, S2 10.00
      birthday cake) by member id m1 AND phone p2 (P2's phone: precedence says P1);
      pos:2 a return on 11-02, -10.00; pos:4 a void; pos:6 on 11-05 (after the date).
    - P2, not a member: meituan:3 on 11-02 12:00 local, net 40.00 + fee 10.00, with a
      5.00 merchant promotion (line S3 coffee).
    - P3, not a member: douyin:V1 sold 10-30, redeemed 11-03, 45.00 + fee 5.00 (line S2);
      douyin:V2 refunded (not revenue).
    - P4, member (mh4) with no purchase.
    - pos:5, a walk-in ticket of 20.00 that no identifier attributes.
    """
    if orders is None:
        orders = [
            order(
                "pos:1",
                "pos",
                "2026-11-01",
                net="30.00",
                ordered_at="2026-11-01T00:30:00",
                member_id_pseudonym="m1",
                member_phone_pseudonym="p2",
            ),
            order(
                "pos:2",
                "pos",
                "2026-11-02",
                order_type="return",
                net="-10.00",
                ordered_at="2026-11-02T02:00:00",
                member_id_pseudonym="m1",
            ),
            order(
                "meituan:3",
                "meituan",
                "2026-11-02",
                net="40.00",
                fee="10.00",
                promotion="5.00",
                ordered_at="2026-11-02T04:00:00",
                meituan_user_pseudonym="mt2",
            ),
            order("pos:4", "pos", "2026-11-02", revenue=False, member_id_pseudonym="m1"),
            order("pos:5", "pos", "2026-11-03", net="20.00", ordered_at="2026-11-03T01:00:00"),
            order(
                "pos:6",
                "pos",
                "2026-11-05",
                net="99.00",
                ordered_at="2026-11-05T01:00:00",
                member_id_pseudonym="m1",
            ),
            order(
                "douyin:V1",
                "douyin",
                "2026-10-30",
                recognised="2026-11-03",
                order_type="voucher",
                net="45.00",
                fee="5.00",
                store="SH002",
                douyin_open_id_pseudonym="d3",
            ),
            order(
                "douyin:V2",
                "douyin",
                "2026-10-30",
                order_type="voucher",
                revenue=False,
                douyin_open_id_pseudonym="d3",
            ),
        ]
    write_table(silver / "orders", ORDER_FIELDS, orders, partition_by=["business_date"])
    line_fields = [
        ("order_id", pa.string()),
        ("line_no", pa.int32()),
        ("sku", pa.string()),
        ("qty", pa.decimal128(12, 3)),
        ("line_amount", MONEY),
        ("net_amount", MONEY),
        ("is_revenue", pa.bool_()),
        ("business_date", pa.date32()),
    ]

    def line(order_id, line_no, sku, net, day, revenue=True):
        return dict(
            order_id=order_id,
            line_no=line_no,
            sku=sku,
            qty=Decimal("1.000"),
            line_amount=money(net),
            net_amount=money(net),
            is_revenue=revenue,
            business_date=_d(day),
        )

    write_table(
        silver / "order_lines",
        line_fields,
        [
            line("pos:1", 1, "S1", "20.00", "2026-11-01"),
            line("pos:1", 2, "S2", "10.00", "2026-11-01"),
            line("pos:2", 1, "S1", "-10.00", "2026-11-02"),
            line("meituan:3", 1, "S3", "40.00", "2026-11-02"),
            line("douyin:V1", 1, "S2", "45.00", "2026-10-30"),
        ],
        partition_by=["business_date"],
    )
    write_table(
        silver / "identity_map",
        [
            ("id_type", pa.string()),
            ("id_hash", pa.string()),
            ("one_id", pa.string()),
            ("link_kind", pa.string()),
        ],
        [
            {"id_type": "member_id", "id_hash": "m1", "one_id": "P1", "link_kind": "exact"},
            {"id_type": "phone", "id_hash": "p2", "one_id": "P2", "link_kind": "exact"},
            {"id_type": "meituan_user_id", "id_hash": "mt2", "one_id": "P2", "link_kind": "exact"},
            {"id_type": "douyin_open_id", "id_hash": "d3", "one_id": "P3", "link_kind": "exact"},
            {"id_type": "member_id", "id_hash": "m4", "one_id": "P4", "link_kind": "exact"},
        ],
    )
    member_fields = [
        ("one_id", pa.string()),
        ("is_member", pa.bool_()),
        ("is_deleted", pa.bool_()),
        ("member_id_hash", pa.string()),
        ("masked_phone", pa.string()),
        ("masked_name", pa.string()),
        ("gender", pa.string()),
        ("age_band", pa.string()),
        ("birth_month", pa.int32()),
        ("identifier_count", pa.int64()),
        ("has_probabilistic_link", pa.bool_()),
    ]

    def person(one_id, member_hash=None, birth_month=None, count=1):
        return dict(
            one_id=one_id,
            is_member=member_hash is not None,
            is_deleted=False,
            member_id_hash=member_hash,
            masked_phone="138****0001" if member_hash else None,
            masked_name=None,
            gender=None,
            age_band=None,
            birth_month=birth_month,
            identifier_count=count,
            has_probabilistic_link=False,
        )

    write_table(
        silver / "members",
        member_fields,
        [
            person("P1", "mh1", 11, 1),
            person("P2", None, None, 2),
            person("P3"),
            person("P4", "mh4", 3),
        ],
    )
    history_fields = [
        ("member_id_hash", pa.string()),
        ("valid_from_at", TS),
        ("valid_to_at", TS),
        ("is_current", pa.bool_()),
        ("is_deleted", pa.bool_()),
        ("level", pa.string()),
        ("points_balance", pa.int64()),
        ("marketing_consent", pa.bool_()),
        ("consent_updated_at", TS),
        ("register_channel", pa.string()),
        ("register_store", pa.string()),
        ("registered_at", TS),
        ("gender", pa.string()),
        ("birth_month", pa.int32()),
        ("source_business_date", pa.date32()),
    ]

    def version(member_hash, start, end, level, consent, points):
        return dict(
            member_id_hash=member_hash,
            valid_from_at=_ts(start),
            valid_to_at=_ts(end),
            is_current=end is None,
            is_deleted=False,
            level=level,
            points_balance=points,
            marketing_consent=consent,
            consent_updated_at=None,
            register_channel="POS",
            register_store="SH001",
            registered_at=_ts("2026-10-01T02:00:00"),
            gender=None,
            birth_month=None,
            source_business_date=None,
        )

    write_table(
        silver / "member_history",
        history_fields,
        [
            version("mh1", "2026-10-01T02:00:00", "2026-11-02T03:00:00", "普通", False, 10),
            version("mh1", "2026-11-02T03:00:00", None, "金卡", True, 300),
            version("mh4", "2026-10-15T02:00:00", None, "普通", False, 0),
        ],
    )
    write_table(
        silver / "products",
        [
            ("sku", pa.string()),
            ("product_name", pa.string()),
            ("category", pa.string()),
            ("subcategory", pa.string()),
        ],
        [
            {"sku": "S1", "product_name": "吐司", "category": "面包", "subcategory": "吐司"},
            {
                "sku": "S2",
                "product_name": "生日蛋糕",
                "category": "蛋糕",
                "subcategory": "生日蛋糕",
            },
            {"sku": "S3", "product_name": "美式", "category": "饮品", "subcategory": "咖啡"},
        ],
    )
    write_table(
        silver / "pii_vault",
        [("one_id", pa.string()), ("phone", pa.string())],
        [{"one_id": "P1", "phone": "13800000001"}],
    )


def copy_project(destination: Path) -> Path:
    """The dbt project files, copied so a test can change them."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        else:
            shutil.copy2(source, destination / name)
    return destination


def run_dbt(
    home: Path,
    args: Sequence[str],
    *,
    project_dir: Path = REPO_ROOT,
    as_of: str | None = AS_OF,
    work: Path,
) -> subprocess.CompletedProcess:
    """`dbt <args>` in a subprocess with the project's profile, for this home."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    if as_of is not None:
        command += ["--vars", f"{{as_of_date: {as_of}}}"]
    env = {**os.environ, "BAKEHOUSE_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=work)


@pytest.fixture(scope="session")
def gold_home(tmp_path_factory) -> Settings:
    """The tiny silver, built into gold once (`dbt build` as of 2026-11-04)."""
    root = tmp_path_factory.mktemp("gold")
    settings = Settings(home=root / "home")
    settings.ensure_dirs()
    write_tiny_silver(settings.layer("silver"))
    result = run_dbt(settings.home, ["build"], work=root)
    assert result.returncode == 0, result.stdout[-4000:]
    return settings
