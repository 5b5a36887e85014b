"""Files still being written wait: a quiet period on mtime, or a `.done` marker."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bakehouse.config import Settings
from ingestion import ingest
from ingestion.common.files import Readiness, Waiting, discover, split_ready
from ingestion.report import landing_notices
from tests.ingestion.conftest import POS_FILE, POS_ROW, ledger, pos_text

NOW = 1_800_000_000.0  # a fixed "now" (epoch seconds)


def _age(path: Path, seconds: float) -> None:
    os.utime(path, (NOW - seconds, NOW - seconds))


def test_quiet_period_and_marker(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "pos").mkdir(parents=True)
    names = [f"pos/pos_sales_SH00{i}_20261121.csv" for i in (1, 2, 3)]
    for name in names:
        (landing / name).write_bytes(b"x")
    _age(landing / names[0], 61)  # quiet long enough
    _age(landing / names[1], 12)  # too recent
    _age(landing / names[2], 5)  # too recent, but its exporter says it is done
    (landing / (names[2] + ".done")).write_bytes(b"")
    files = discover(landing)
    assert [f.relative for f in files] == names  # the marker is not a landing file
    ready, waiting = split_ready(files, Readiness(60), now=NOW)
    assert [f.relative for f in ready] == [names[0], names[2]]
    assert waiting == [Waiting(names[1], "modified 12 s ago; quiet period 60 s")]
    ready, waiting = split_ready(files, Readiness(60, require_done=True), now=NOW)
    assert [f.relative for f in ready] == [names[2]]
    assert [w.reason for w in waiting] == [
        "no pos_sales_SH001_20261121.csv.done marker yet",
        "no pos_sales_SH002_20261121.csv.done marker yet",
    ]


def test_a_file_that_grew_since_discovery_waits(tmp_path: Path) -> None:
    path = tmp_path / "landing" / "pos" / "pos_sales_SH001_20261121.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    _age(path, 600)
    files = discover(tmp_path / "landing")
    with path.open("ab") as handle:
        handle.write(b"more")
    _age(path, 600)
    assert split_ready(files, Readiness(60), now=NOW)[1] == [
        Waiting("pos/pos_sales_SH001_20261121.csv", "still growing")
    ]


def test_readiness_from_env() -> None:
    assert Readiness.from_env({}) == Readiness(60.0, False)
    assert Readiness.from_env(
        {"BAKEHOUSE_LANDING_QUIET_SECONDS": "5", "BAKEHOUSE_LANDING_REQUIRE_DONE": "true"}
    ) == Readiness(5.0, True)
    with pytest.raises(ValueError, match="BAKEHOUSE_LANDING_QUIET_SECONDS must be a number"):
        Readiness.from_env({"BAKEHOUSE_LANDING_QUIET_SECONDS": "soon"})
    with pytest.raises(ValueError, match="BAKEHOUSE_LANDING_REQUIRE_DONE must be true or false"):
        Readiness.from_env({"BAKEHOUSE_LANDING_REQUIRE_DONE": "maybe"})


def test_ingest_leaves_a_recent_file_waiting_then_lands_it(
    settings: Settings, landing: Callable[..., Path]
) -> None:
    path = landing(POS_FILE, pos_text(POS_ROW), encoding="gbk")
    report = ingest(settings, readiness=Readiness(3600))
    assert [w.relative for w in report.waiting] == [POS_FILE]
    assert report.files == []
    assert not settings.table_path("bronze", "file_ledger").exists()
    (message,) = [
        n.message
        for n in landing_notices(
            settings, [date(2026, 11, 21)], readiness=Readiness(3600), check_completeness=False
        )
    ]
    assert message.startswith(f"waiting landing/{POS_FILE}: modified ")
    assert message.endswith("s ago; quiet period 3600 s; not landed yet")
    stamp = time.time() - 7200
    os.utime(path, (stamp, stamp))
    report = ingest(settings, readiness=Readiness(3600))
    assert report.waiting == []
    assert ledger(settings).select("source_file", "status", "rows_landed").rows() == [
        (POS_FILE, "landed", 1)
    ]


def test_the_landing_sensor_waits_for_a_quiet_file(
    settings: Settings, landing: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from orchestration.defs.bronze.sensors import bronze_landing_sensor
    from orchestration.resources import LakehouseResource

    monkeypatch.setenv("BAKEHOUSE_LANDING_QUIET_SECONDS", "3600")
    path = landing(POS_FILE, pos_text(POS_ROW), encoding="gbk")
    resources = {"lakehouse": LakehouseResource(home=str(settings.home))}
    with dg.instance_for_test() as instance:
        first = bronze_landing_sensor(
            dg.build_sensor_context(instance=instance, resources=resources)
        )
        assert first.run_requests == []  # still within its quiet period: not remembered
        stamp = time.time() - 7200
        os.utime(path, (stamp, stamp))
        context = dg.build_sensor_context(
            instance=instance, resources=resources, cursor=first.cursor
        )
        # The sensor's cursor forgets files older than a week, not two hours.
        second = bronze_landing_sensor(context)
        assert [r.partition_key for r in second.run_requests] == ["2026-11-21"]
