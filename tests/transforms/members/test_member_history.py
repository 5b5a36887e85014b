"""`silver/member_history`: every CRM version, dated, pseudonymous, deduplicated."""

from __future__ import annotations

import datetime as dt

from bakehouse.pii import pseudonym
from transforms.common.bronze import bronze_schema
from transforms.members.history import MEMBER_HISTORY_COLUMNS, build_member_history

KEY = b"test-key"
UTC = dt.UTC


def member_row(member_id, updated, *, level="普通", consent=False, deleted=False, day, row):
    values = {
        "member_id": member_id,
        "phone": "13800000001",
        "name": "张三",
        "birthday": dt.date(1990, 11, 3),
        "registered_at": dt.datetime(2026, 10, 1, 2, tzinfo=UTC),
        "register_channel": "POS",
        "register_store": "SH001",
        "level": level,
        "points_balance": 10,
        "marketing_consent": consent,
        "is_deleted": deleted,
        "updated_at": dt.datetime.fromisoformat(updated).replace(tzinfo=UTC) if updated else None,
        "business_date": dt.date.fromisoformat(day),
        "source_row": row,
    }
    return tuple(values.get(field.name) for field in bronze_schema("mp_members").fields)


def test_versions_are_dated_deduplicated_and_carry_no_clear_personal_data(spark) -> None:
    rows = [
        member_row("M1", "2026-11-01T02:00:00", day="2026-11-01", row=1),
        # the same version in a re-export: counts once
        member_row("M1", "2026-11-01T02:00:00", day="2026-11-02", row=7),
        member_row(
            "M1", "2026-11-03T05:00:00", level="金卡", consent=True, day="2026-11-03", row=1
        ),
        member_row("M2", "2026-11-02T01:00:00", deleted=True, day="2026-11-02", row=2),
        member_row("M3", None, day="2026-11-02", row=3),  # no updated_at: cannot be dated
    ]
    frame = spark.createDataFrame(rows, bronze_schema("mp_members"))
    history = build_member_history(frame, KEY)
    assert tuple(history.columns) == MEMBER_HISTORY_COLUMNS
    got = sorted(
        (
            r.member_id_hash,
            r.valid_from_at.astimezone(UTC).isoformat(),
            r.valid_to_at.astimezone(UTC).isoformat() if r.valid_to_at else None,
            r.is_current,
            r.level,
            r.marketing_consent,
            r.birth_month,
            r.source_business_date,
        )
        for r in history.collect()
    )
    m1, m2 = pseudonym(KEY, "member_id", "M1"), pseudonym(KEY, "member_id", "M2")
    nov = dt.date
    assert got == sorted(
        [
            (
                m1,
                "2026-11-01T02:00:00+00:00",
                "2026-11-03T05:00:00+00:00",
                False,
                "普通",
                False,
                11,
                nov(2026, 11, 2),
            ),
            (m1, "2026-11-03T05:00:00+00:00", None, True, "金卡", True, 11, nov(2026, 11, 3)),
            (m2, "2026-11-02T01:00:00+00:00", None, True, None, False, None, nov(2026, 11, 2)),
        ]
    )
