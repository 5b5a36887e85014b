"""The `bakehouse` command line: arguments, errors, and the commands end to end."""

from __future__ import annotations

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from bakehouse.cli import app
from bakehouse.lake import Lake

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("init", "simulate", "run", "demo", "doctor", "rekey", "resolve", "sql", "ui"):
        assert command in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "give --date YYYY-MM-DD"),
        (["run", "--date", "2026-13-01"], "--date expects a date as YYYY-MM-DD"),
        (["run", "--date", "2026-11-01", "--from", "2026-11-01"], "either --date or --from/--to"),
        (["run", "--from", "2026-11-05", "--to", "2026-11-01"], "is before --from"),
        (["simulate", "--start", "yesterday"], "--start expects a date"),
        (["simulate", "--start", "2026-11-01", "--scale", "0"], "--scale must be positive"),
    ],
)
def test_bad_arguments_are_clear_errors(settings, args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_sql_queries_the_analyst_database(settings) -> None:
    Lake(settings).write_arrow(pa.table({"channel": ["pos", "pos", "meituan"]}), "silver", "orders")
    result = invoke("sql", "select channel, count(*) as n from silver.orders group by 1 order by 1")
    assert result.exit_code == 0
    assert "meituan" in result.output and "pos" in result.output


def test_sql_error_is_reported_not_raised(settings) -> None:
    result = invoke("sql", "select * from silver.nope")
    assert result.exit_code == 2
    assert "nope" in result.output


def test_doctor_exits_zero_when_healthy(settings) -> None:
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    assert "spark connect" in result.output


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("id,name\n1,Ann\n", "no record_id column"),
        ("record_id,name\n1,Ann\n,Bob\n", "empty record_id on line(s) 3"),
        ("record_id,name\n1,Ann\n2,Bo\n1,Bob\n", "repeated record_id 1"),
    ],
)
def test_resolve_rejects_a_file_it_cannot_key(tmp_path, csv_text: str, message: str) -> None:
    people = tmp_path / "people.csv"
    people.write_text(csv_text, encoding="utf-8")
    output = tmp_path / "clusters.csv"
    result = invoke("resolve", "--input", str(people), "--output", str(output))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not output.exists()


def test_resolve_clusters_a_plain_csv(tmp_path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "record_id,source,name,phone,email\n"
        "a,crm,张伟,13812345678,zw@example.com\n"
        "b,shop,张伟,+86 138-1234-5678,\n"
        "c,crm,李娜,13900001111,ln@example.com\n",
        encoding="utf-8",
    )
    output = tmp_path / "clusters.csv"
    result = invoke("resolve", "--input", str(people), "--output", str(output))
    assert result.exit_code == 0, result.output
    rows = dict(line.split(",") for line in output.read_text().splitlines()[1:])
    assert set(rows) == {"a", "b", "c"}
    assert rows["a"] == rows["b"] != rows["c"]
