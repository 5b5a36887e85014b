"""One lake writer at a time: the generated dagster.yaml (a pool limited to one run,
plus the run-tag limit), every lake-writing step in the pool, and the bronze assets'
bounded re-ingest when a commit loses a race anyway."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml
from deltalake.exceptions import CommitFailedError

from bakehouse.config import DAGSTER_YAML, LAKE_WRITE_TAGS, Settings, write_dagster_yaml
from bakehouse.maintenance import LAKE_POOL_TAG, lake_writers_in_progress
from orchestration.defs.bronze import assets as bronze_assets
from orchestration.partitions import LAKE_POOL
from transforms.build import SILVER_TABLES

LAKE_LIMIT = {"key": "bakehouse/lake", "value": "write", "limit": 1}


def test_the_generated_instance_queues_lake_writers_one_at_a_time(settings: Settings) -> None:
    config = yaml.safe_load((settings.dagster_home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["runs"]["tag_concurrency_limits"] == [LAKE_LIMIT]
    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME is the home's
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        run_queue = instance.get_concurrency_config().run_queue_config
        assert run_queue is not None
        assert run_queue.tag_concurrency_limits == [LAKE_LIMIT]
        pools = instance.get_concurrency_config().pool_config
        assert pools.pool_granularity.value == "run" and pools.default_pool_limit == 1
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}


def test_older_homes_are_upgraded_and_hand_written_configs_kept(tmp_path: Path) -> None:
    path = tmp_path / "dagster.yaml"
    path.write_text("telemetry:\n  enabled: false\n")  # what older homes have
    assert write_dagster_yaml(path) and path.read_text() == DAGSTER_YAML
    assert not write_dagster_yaml(path)  # already current
    path.write_text(DAGSTER_YAML.replace("limit: 1", "limit: 2"))  # an older version of ours
    assert write_dagster_yaml(path) and path.read_text() == DAGSTER_YAML
    own = "telemetry:\n  enabled: false\nrun_launcher:\n  module: x\n  class: Y\n"
    path.write_text(own)
    assert not write_dagster_yaml(path) and path.read_text() == own


@pytest.mark.parametrize("job_name", ["nightly", "bronze_job", "lake_maintenance"])
def test_every_job_that_writes_the_lake_carries_the_tag(job_name: str) -> None:
    from orchestration.definitions import defs

    assert LAKE_WRITE_TAGS.items() <= defs.resolve_job_def(job_name).tags.items()


WRITERS = {"silver", "oneid", "maintain_lake_tables"} | {
    f"bronze__{name}" for name in ("pos_sales", "mp_members", "erp_store_costs")
}


def test_every_step_that_writes_the_lake_is_in_the_pool() -> None:
    from orchestration.definitions import defs

    repository = defs.get_repository_def()
    ops = {
        node.name: node.definition for job in repository.get_all_jobs() for node in job.graph.nodes
    }
    assert set(ops) >= WRITERS
    for name in WRITERS:
        assert ops[name].pool == LAKE_POOL, name
    assert ops["ledger_and_quarantine"].pool is None  # reads only


def test_a_run_of_the_hidden_asset_job_counts_as_a_lake_writer(settings: Settings) -> None:
    """A materialization launched from the asset graph runs `__ASSET_JOB`, which carries
    no job tags; the pool tag makes the run queue and the CLI guard see it."""
    from orchestration.definitions import defs

    hidden = defs.get_repository_def().get_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(
            hidden,
            asset_selection=frozenset(dg.AssetKey(["silver", t]) for t in SILVER_TABLES),
            status=dg.DagsterRunStatus.STARTED,
        )
        assert not LAKE_WRITE_TAGS.items() <= run.tags.items()
        assert run.run_op_concurrency.all_pools == {LAKE_POOL}  # what the run queue limits
        pooled = instance.get_runs(dg.RunsFilter(tags={LAKE_POOL_TAG: "true"}))
        assert [r.run_id for r in pooled] == [run.run_id]
        assert lake_writers_in_progress(instance).blocking == [run.run_id[:8]]


def test_the_landing_sensor_targets_the_tagged_bronze_job() -> None:
    from orchestration.definitions import defs

    sensor = defs.resolve_sensor_def("bronze_landing_sensor")
    assert sensor.job_name == "bronze_job"


def _racing_ingest(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[tuple]:
    calls: list[tuple] = []

    def ingest(settings, dates, *, feeds, batch_id):
        calls.append((tuple(dates), tuple(feeds), batch_id))
        if len(calls) <= failures:
            raise CommitFailedError("a concurrent transaction added new data")
        return "report"

    monkeypatch.setattr(bronze_assets, "ingest", ingest)
    return calls


def test_a_lost_commit_race_re_ingests_the_feed_from_the_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _racing_ingest(monkeypatch, failures=2)
    conflicts: list[int] = []
    report = bronze_assets.ingest_feed(
        settings,
        date(2026, 11, 1),
        "pos_sales",
        "run-1",
        on_conflict=lambda attempt, error: conflicts.append(attempt),
        delay_seconds=0,
    )
    assert report == "report" and conflicts == [1, 2]
    assert calls == [((date(2026, 11, 1),), ("pos_sales",), "run-1")] * 3


def test_the_retry_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _racing_ingest(monkeypatch, failures=10)
    with pytest.raises(CommitFailedError):
        bronze_assets.ingest_feed(
            settings, date(2026, 11, 1), "pos_sales", "run-1", delay_seconds=0
        )
    assert len(calls) == bronze_assets.COMMIT_ATTEMPTS
