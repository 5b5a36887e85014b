"""OneID's commit protocol: a night interrupted after any table's commit converges.

The night is stopped (an exception raised right after the chosen table's commit, as a
killed process would leave it), then run again; every silver table OneID writes must
then equal an uninterrupted run's, row for row. Per-run columns left out of the
comparison: `identity_files.processed_at`, `identity_model.estimated_at`, and the
manifest `identity_nights` itself.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from bakehouse.config import Settings
from bakehouse.lake import Lake
from transforms.identity import pipeline
from transforms.identity.pipeline import NIGHT_TABLES, NIGHTS, run_identity

from .conftest import bronze_table, member, ticket

KEY = b"test-key-not-secret-0123456789abcdef"
NIGHT_1 = date(2026, 11, 1)
NIGHT_2 = date(2026, 11, 2)
PER_RUN = {"identity_files": {"processed_at"}, "identity_model": {"estimated_at"}}
STORES = [{"store_code": "SH101", "city": "上海市", "meituan_store_id": "MT101"}]


class Crash(Exception):
    """Stands for the process being killed."""


def _bronze(night_2: bool) -> dict[str, list[dict]]:
    on_2 = {"business_date": NIGHT_2.isoformat(), "sold_at": "2026-11-02T03:00:00+00:00"}
    tables = {
        "erp_stores": STORES,
        "mp_members": [
            member("U1", card_no="M0000000001", phone="13800000001"),
            member("U2", card_no="M0000000002", phone="13900000002"),
        ],
        "pos_sales": [
            ticket("SH101", "T1", member_card_no="M0000000001", member_phone="13800000001"),
        ],
        "meituan_orders": [],
    }
    if night_2:
        tables["mp_members"].append(
            member(
                "U2",
                card_no="M0000000002",
                phone="13900000002",
                is_deleted=True,
                updated_at="2026-11-02T05:00:00+00:00",
                business_date=NIGHT_2.isoformat(),
            )
        )
        tables["pos_sales"] += [
            ticket("SH101", "N1", member_card_no="M0000000001", member_phone="13800000011", **on_2),
            ticket("SH101", "N2", member_card_no="M0000000003", member_phone="13300000003", **on_2),
        ]
        tables["meituan_orders"] = [
            {
                "order_id": "MT1",
                "meituan_store_id": "MT101",
                "masked_phone": "138****0001",
                "masked_address": "上海市**路**号",
                "meituan_user_id": "mt1",
                "status": "已完成",
                "ordered_at": "2026-11-02T02:00:00+00:00",
                "business_date": NIGHT_2.isoformat(),
            }
        ]
    return tables


def _land(lake: Lake, tables: dict[str, list[dict]]) -> None:
    for name, rows in tables.items():
        lake.write_arrow(bronze_table(name, rows), "bronze", name, mode="overwrite")


def _contents(lake: Lake) -> dict[str, list]:
    """Every table OneID writes, as sorted rows without the per-run columns."""
    out = {}
    for table in NIGHT_TABLES:
        if not lake.exists("silver", table):
            out[table] = None
            continue
        frame = lake.read_arrow("silver", table)
        keep = [c for c in frame.column_names if c not in PER_RUN.get(table, set())]
        rows = frame.select(keep).to_pylist()
        out[table] = sorted(repr(sorted(row.items())) for row in rows)
    return out


@pytest.fixture(scope="module")
def night_1_home(tmp_path_factory, spark) -> Path:
    """A home after an uninterrupted night 1, with night 2's files landed."""
    settings = Settings(home=tmp_path_factory.mktemp("crash") / "bakehouse")
    settings.ensure_dirs()
    lake = Lake(settings, spark)
    _land(lake, _bronze(night_2=False))
    run_identity(lake, night=NIGHT_1, key=KEY)
    _land(lake, _bronze(night_2=True))
    return settings.home


@pytest.fixture(scope="module")
def uninterrupted(night_1_home, tmp_path_factory, spark) -> dict[str, list]:
    lake = _copy(night_1_home, tmp_path_factory.mktemp("straight"), spark)
    run_identity(lake, night=NIGHT_2, key=KEY)
    return _contents(lake)


def _copy(home: Path, into: Path, spark) -> Lake:
    target = into / "bakehouse"
    shutil.copytree(home, target)
    return Lake(Settings(home=target), spark)


def _crash_after(monkeypatch, table: str, nth: int = 1) -> None:
    """Raise `Crash` right after the `nth` commit of silver `table`."""
    commits = {"n": 0}

    def wrap(method):
        def write(self, data, layer, name, *args, **kwargs):
            method(self, data, layer, name, *args, **kwargs)
            if layer == "silver" and name == table:
                commits["n"] += 1
                if commits["n"] == nth:
                    raise Crash(f"killed after {table}")

        return write

    monkeypatch.setattr(Lake, "write", wrap(Lake.write))
    monkeypatch.setattr(Lake, "write_arrow", wrap(Lake.write_arrow))


POINTS = [
    (NIGHTS, 1),  # the manifest's `started` row, nothing else yet
    *[(table, 1) for table in NIGHT_TABLES if table != "identity_model"],
    (NIGHTS, 2),  # the `done` row, before the vault's vacuum
]
FAST = {("identity_map", 1), ("identity_activity", 1), ("identity_files", 1)}


def _check(point, night_1_home, uninterrupted, tmp_path, monkeypatch, spark):
    table, nth = point
    lake = _copy(night_1_home, tmp_path, spark)
    with monkeypatch.context() as patch:
        _crash_after(patch, table, nth)
        with pytest.raises(Crash):
            run_identity(lake, night=NIGHT_2, key=KEY)
    summary = run_identity(lake, night=NIGHT_2, key=KEY)
    if (table, nth) == (NIGHTS, 2):
        assert summary.mode == "noop" and summary.recovered is None  # the night was done
    else:
        assert summary.recovered and summary.recovered.startswith("OneID night 2026-11-02")
    assert _contents(lake) == uninterrupted
    assert not list((lake.settings.home / "scratch").glob("identity-*"))


@pytest.mark.parametrize("point", sorted(FAST))
def test_a_night_killed_after_a_commit_converges(
    point, night_1_home, uninterrupted, tmp_path, monkeypatch, spark
):
    _check(point, night_1_home, uninterrupted, tmp_path, monkeypatch, spark)


@pytest.mark.slow
@pytest.mark.parametrize("point", [p for p in POINTS if p not in FAST])
def test_a_night_killed_at_any_point_converges(
    point, night_1_home, uninterrupted, tmp_path, monkeypatch, spark
):
    _check(point, night_1_home, uninterrupted, tmp_path, monkeypatch, spark)


def test_a_crashed_runs_scratch_is_removed_and_holds_no_clear_value(lake, tmp_path):
    """Scratch of a dead process goes at the next start; a night's scratch holds
    pseudonyms and masked forms only (checked while the night runs)."""
    _land(lake, _bronze(night_2=False))
    root = lake.settings.home / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    stale = root / "identity-999999999-dead"  # no such process
    stale.mkdir()
    (stale / "part.parquet").write_bytes(b"13800000001")
    seen: list[bytes] = []
    real = pipeline.Checkpointer.__call__

    def spy(self, frame):
        result = real(self, frame)
        for path in (self.scratch or Path("/nonexistent")).rglob("*.parquet"):
            seen.append(path.read_bytes())
        return result

    mp = pytest.MonkeyPatch()
    mp.setattr(pipeline.Checkpointer, "__call__", spy)
    try:
        run_identity(lake, night=NIGHT_1, key=KEY)
    finally:
        mp.undo()
    assert not stale.exists()
    assert seen  # the night did checkpoint
    clear = [b"13800000001", b"13900000002", b"M0000000001", "张伟".encode()]
    assert not [value for value in clear for blob in seen if value in blob]
    assert not list(root.glob("identity-*"))


def test_a_file_completed_later_replaces_its_evidence(lake):
    """A half-written POS file read one night, its complete copy the next: the evidence
    counts each ticket once, as a full rebuild does."""
    ledger_rows = []

    def land(copy: str, tickets: list[dict]) -> None:
        rows = [dict(t, file_sha256=copy) for t in tickets]
        lake.write_arrow(bronze_table("pos_sales", rows), "bronze", "pos_sales", mode="overwrite")
        ledger_rows[:] = [
            r for r in ledger_rows if r["source_file"] != "pos/pos_sales_2026-11-01.test"
        ]
        ledger_rows.append(
            {
                "source_file": "pos/pos_sales_2026-11-01.test",
                "file_sha256": copy,
                "business_date": NIGHT_1,
                "status": "landed",
            }
        )
        ledger = pa.Table.from_pylist(ledger_rows)
        lake.write_arrow(ledger, "bronze", "file_ledger", mode="overwrite")

    lake.write_arrow(bronze_table("erp_stores", STORES), "bronze", "erp_stores", mode="overwrite")
    t1 = ticket("SH101", "T1", member_card_no="M0000000001", member_phone="13800000001")
    t2 = ticket("SH101", "T2", member_card_no="M0000000001", member_phone="13800000001")
    land("half", [t1])
    run_identity(lake, night=NIGHT_1, key=KEY)
    land("whole", [t1, t2])
    summary = run_identity(lake, night=NIGHT_2, key=KEY)
    assert (summary.mode, summary.files) == ("incremental", 1)
    visits = lake.read_arrow("silver", "identity_activity").to_pylist()
    by_type: dict[str, int] = {}
    for row in visits:
        by_type[row["id_type"]] = by_type.get(row["id_type"], 0) + row["visits"]
    assert by_type == {"card_no": 2, "phone": 2}  # two tickets, each seen once
