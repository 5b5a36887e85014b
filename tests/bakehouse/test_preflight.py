"""Preflight refuses a lake write with one line, and writes nothing when it does."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bakehouse import preflight
from bakehouse.config import Settings
from bakehouse.preflight import PreflightError
from tests.conftest import TEST_PII_KEY

TODAY = date(2026, 11, 30)


def snapshot(root: Path) -> dict[str, float]:
    """Every file and folder under root with its modification time."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_a_good_night_passes_and_records_the_key_fingerprint(settings: Settings) -> None:
    preflight.preflight(settings, [date(2026, 11, 29)], today=TODAY)
    stored = json.loads(settings.key_fingerprint_file.read_text())
    expected = hmac.new(
        TEST_PII_KEY.encode(), b"bakehouse pii key fingerprint v1", hashlib.sha256
    ).hexdigest()
    assert stored["fingerprint"] == expected
    assert TEST_PII_KEY not in settings.key_fingerprint_file.read_text()
    assert settings.key_fingerprint_file.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (
            [date(2026, 11, 30)],
            "business date 2026-11-30 is not over yet: today is 2026-11-30 in Asia/Shanghai; "
            "the latest business date that can run is 2026-11-29",
        ),
        (
            [date(2026, 11, 28), date(2026, 12, 1), date(2027, 1, 1)],
            "business dates 2026-12-01, 2027-01-01 are not over yet: today is 2026-11-30 in "
            "Asia/Shanghai; the latest business date that can run is 2026-11-29",
        ),
    ],
)
def test_today_and_future_dates_are_refused(settings: Settings, dates, message: str) -> None:
    before = snapshot(settings.home)
    with pytest.raises(PreflightError) as raised:
        preflight.preflight(settings, dates, today=TODAY)
    assert str(raised.value) == message
    assert snapshot(settings.home) == before


def test_today_is_shanghai_today() -> None:
    # 16:30 UTC on 29 November is already 00:30 on the 30th in Shanghai.
    assert preflight.shanghai_today(datetime(2026, 11, 29, 16, 30, tzinfo=UTC)) == TODAY
    assert preflight.shanghai_today(datetime(2026, 11, 29, 15, 59, tzinfo=UTC)) == date(
        2026, 11, 29
    )


def test_missing_key_is_refused_and_points_to_init(settings: Settings, monkeypatch) -> None:
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    before = snapshot(settings.home)
    with pytest.raises(PreflightError) as raised:
        preflight.preflight(settings, [date(2026, 11, 29)], today=TODAY)
    assert str(raised.value) == (
        f"no PII key: set BAKEHOUSE_PII_KEY, or run `bakehouse init --home {settings.home}` "
        f"to write a key file ({settings.pii_key_file})"
    )
    assert "demo" not in str(raised.value)
    assert snapshot(settings.home) == before


def test_a_changed_key_is_refused(settings: Settings, monkeypatch) -> None:
    preflight.preflight(settings, today=TODAY)
    recorded = settings.key_fingerprint_file.read_text()
    monkeypatch.setenv("BAKEHOUSE_PII_KEY", "another-key-entirely")
    before = snapshot(settings.home)
    with pytest.raises(PreflightError) as raised:
        preflight.preflight(settings, [date(2026, 11, 29)], today=TODAY)
    message = str(raised.value)
    old = preflight.key_fingerprint(TEST_PII_KEY.encode())[:12]
    new = preflight.key_fingerprint(b"another-key-entirely")[:12]
    assert message == (
        f"the PII key from BAKEHOUSE_PII_KEY (fingerprint {new}…) is not the key this lake "
        f"was built with (fingerprint {old}…): restore that key, or run `bakehouse rekey "
        "--old-key-file FILE` to rebuild the lake under the new one"
    )
    assert "another-key-entirely" not in message and TEST_PII_KEY not in message
    assert settings.key_fingerprint_file.read_text() == recorded
    assert snapshot(settings.home) == before


def test_a_key_file_is_used_when_the_variable_is_unset(settings: Settings, monkeypatch) -> None:
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    settings.pii_key_file.write_text(TEST_PII_KEY + "\n")
    finding = preflight.key_check(settings)
    assert finding.ok
    assert finding.detail.startswith(f"from {settings.pii_key_file}; fingerprint ")


def test_an_unreadable_key_file_is_a_finding_not_a_traceback(settings: Settings, monkeypatch):
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    settings.pii_key_file.mkdir()  # a folder where the key file should be: reading fails
    finding = preflight.key_check(settings)
    assert not finding.ok
    assert finding.detail.startswith(f"cannot read the key file {settings.pii_key_file} (")


def test_a_missing_home_is_refused_and_not_created(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "typo")
    with pytest.raises(PreflightError) as raised:
        preflight.preflight(settings, today=TODAY)
    assert str(raised.value) == (
        f"BAKEHOUSE_HOME {settings.home} does not exist; "
        f"run `bakehouse init --home {settings.home}` to create it"
    )
    assert not settings.home.exists()


def test_a_file_as_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    with pytest.raises(PreflightError, match=r"is not a directory$"):
        preflight.preflight(Settings(home=home), today=TODAY)


@pytest.fixture
def unwritable_home(settings: Settings):
    """The settings' home made unwritable: immutable for root (chattr +i), else 0500."""
    chattr = shutil.which("chattr")
    if os.geteuid() == 0:
        if chattr is None or subprocess.run([chattr, "+i", str(settings.home)]).returncode:
            pytest.skip("root ignores permission bits and chattr +i is not available here")
        yield settings
        subprocess.run([chattr, "-i", str(settings.home)], check=True)
    else:
        settings.home.chmod(0o500)
        yield settings
        settings.home.chmod(0o700)


def test_an_unwritable_home_is_refused(unwritable_home: Settings) -> None:
    before = snapshot(unwritable_home.home)
    with pytest.raises(PreflightError) as raised:
        preflight.preflight(unwritable_home, [date(2026, 11, 29)], today=TODAY)
    assert str(raised.value).startswith(f"BAKEHOUSE_HOME {unwritable_home.home} is not writable (")
    assert snapshot(unwritable_home.home) == before


def test_findings_are_the_doctor_rows(settings: Settings, monkeypatch) -> None:
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    rows = preflight.findings(settings, today=TODAY)
    assert [(f.name, f.ok) for f in rows] == [
        ("home", True),
        ("pii key", False),
        ("business dates", True),
    ]
    assert rows[2].detail == "today is 2026-11-30 in Asia/Shanghai"
