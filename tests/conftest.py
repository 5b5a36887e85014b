"""Fixtures shared by every test: a tiny lakehouse in a temp dir and one Spark session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakehouse.config import Settings, apply_telemetry_off

REPO_ROOT = Path(__file__).resolve().parents[1]
# CI clones the repository with shared/ beside it, as on a developer's machine.
SAMPLES_LANDING = REPO_ROOT.parent / "shared" / "samples" / "landing"
TEST_PII_KEY = "test-key-not-secret-0123456789abcdef"

apply_telemetry_off()
# Tests write landing files and ingest them at once: no quiet period unless a test sets
# one (ingestion.common.files.Readiness; the tests of the rule pass theirs explicitly).
os.environ.setdefault("BAKEHOUSE_LANDING_QUIET_SECONDS", "0")


@pytest.fixture(scope="session")
def spark():
    """One Spark Connect session (in-process Sail) for the whole test run."""
    from bakehouse.spark import spark_session

    session = spark_session()
    yield session


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A fresh, empty Bakehouse home in tmp_path, also exported as BAKEHOUSE_HOME."""
    home = tmp_path / "bakehouse"
    monkeypatch.setenv("BAKEHOUSE_HOME", str(home))
    monkeypatch.setenv("BAKEHOUSE_PII_KEY", TEST_PII_KEY)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.delenv("BAKEHOUSE_SPARK_REMOTE", raising=False)
    configured = Settings(home=home)
    configured.ensure_dirs()
    yield configured


@pytest.fixture
def lake(settings: Settings, spark):
    from bakehouse.lake import Lake

    return Lake(settings, spark)


@pytest.fixture(scope="session")
def samples_landing() -> Path:
    if not SAMPLES_LANDING.exists():
        pytest.fail(f"shared sample exports not found at {SAMPLES_LANDING}")
    return SAMPLES_LANDING
