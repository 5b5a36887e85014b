"""`bakehouse run` is not queued by the Dagster daemon: it refuses to start under a
running lake writer (the run queue cannot hold it back)."""

from __future__ import annotations

from typer.testing import CliRunner

from bakehouse.cli import app
from bakehouse.config import Settings

runner = CliRunner()


def test_cli_run_refuses_to_start_while_a_lake_writer_runs(
    settings: Settings, running_lake_writer: str
) -> None:
    result = runner.invoke(app, ["run", "--date", "2026-11-01"], catch_exceptions=False)
    output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert running_lake_writer[:8] in output and "--force" in output
    assert not (settings.lake / "bronze" / "file_ledger").exists()
