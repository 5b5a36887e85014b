"""Every Dagster run that uses the lakehouse starts with `bakehouse.preflight`: a run
with no PII key, or for a date that has not ended, fails in one line, writing nothing."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from bakehouse.config import Settings
from bakehouse.preflight import PreflightError, shanghai_today
from orchestration.defs.bronze.assets import BRONZE_ASSETS, asset_key
from orchestration.defs.maintenance.jobs import lake_maintenance_job
from orchestration.partitions import BUSINESS_DATES
from orchestration.resources import LakehouseResource

RESOURCE_ERROR = dg.DagsterResourceFunctionError  # Dagster's wrapper of a setup error


def test_a_run_without_a_key_fails_before_writing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    with dg.DagsterInstance.get() as instance, pytest.raises(RESOURCE_ERROR) as raised:
        lake_maintenance_job.execute_in_process(
            instance=instance, resources={"lakehouse": LakehouseResource(home=str(settings.home))}
        )
    cause = raised.value.__cause__
    assert isinstance(cause, PreflightError)
    assert "\n" not in str(cause) and "BAKEHOUSE_PII_KEY" in str(cause)
    assert not settings.key_fingerprint_file.exists()


def test_a_run_for_today_fails_before_writing(settings: Settings) -> None:
    today = shanghai_today().isoformat()
    pos = next(a for a in BRONZE_ASSETS if a.key == asset_key("pos_sales"))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(BUSINESS_DATES, [today])
        with pytest.raises(RESOURCE_ERROR) as raised:
            dg.materialize(
                [pos],
                partition_key=today,
                instance=instance,
                resources={"lakehouse": LakehouseResource(home=str(settings.home))},
            )
    assert isinstance(raised.value.__cause__, PreflightError)
    assert "not over yet" in str(raised.value.__cause__)
    assert not (settings.lake / "bronze" / "file_ledger").exists()


def test_yesterday_passes(settings: Settings) -> None:
    yesterday = (shanghai_today() - timedelta(days=1)).isoformat()
    pos = next(a for a in BRONZE_ASSETS if a.key == asset_key("pos_sales"))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(BUSINESS_DATES, [yesterday])
        result = dg.materialize(
            [pos],
            partition_key=yesterday,
            instance=instance,
            resources={"lakehouse": LakehouseResource(home=str(settings.home))},
        )
    assert result.success and settings.key_fingerprint_file.exists()
