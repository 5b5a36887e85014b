"""`bakehouse doctor` reports a healthy environment and names what is wrong."""

from __future__ import annotations

from bakehouse import doctor
from bakehouse.config import apply_telemetry_off


def test_all_checks_pass_in_a_fresh_home(settings, monkeypatch) -> None:
    for name in doctor.TELEMETRY_OFF_ENV:
        monkeypatch.delenv(name, raising=False)
    apply_telemetry_off()
    checks = doctor.run_checks(settings)
    failed = [c for c in checks if not c.ok]
    assert failed == []
    names = {c.name for c in checks}
    assert {
        "pyspark",
        "spark connect",
        "duckdb delta extension",
        "home",
        "pii key",
        "business dates",
        "home permissions",
        "landing permissions",
    } <= names


def test_telemetry_switched_on_and_missing_key_are_reported(settings, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    (settings.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    failed = {c.name for c in doctor.run_checks(settings) if not c.ok}
    assert failed == {"telemetry MLFLOW_DISABLE_TELEMETRY", "telemetry dagster.yaml", "pii key"}
