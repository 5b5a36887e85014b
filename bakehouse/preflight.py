"""Preflight: the checks every lake-writing entry point makes before it writes anything.

`bakehouse run`, `bakehouse maintain`, `bakehouse rekey` and the Dagster jobs call
`preflight(settings, dates)` first. It checks, in this order:

1. the home (`BAKEHOUSE_HOME`) exists, is a directory and is writable (a temporary
   probe file is created and removed: permission bits alone lie to root);
2. the PII key is present (`BAKEHOUSE_PII_KEY`, else `<home>/pii.key`) and is the key
   the lake was built with: its fingerprint, HMAC-SHA256(key, `FINGERPRINT_MESSAGE`),
   must equal the one stored in `<home>/lake/key_fingerprint.json`. A different key
   would give every identifier a new pseudonym and silently split every person in
   two; changing it is the deliberate act `bakehouse rekey`;
3. every business date is a date before today in Asia/Shanghai (today's night is
   not over, and future files cannot exist).

A failed check raises `PreflightError` whose message is one line saying what is wrong
and what to do; nothing has been written then. When every check passes and the lake
has no fingerprint yet, `preflight` records the current key's (the first write of a
new lake, or an older lake that predates fingerprints, adopts the key it runs with).

`doctor` shows the same checks as rows through `home_check`, `key_check` and
`dates_check`, which return a `Finding` instead of raising.

In a Dagster job, call it before the first write (the job's first op or asset, or a
run-level check), with the business dates of the run's partition(s), and turn the
error into the run's failure message as it is:

    try:
        preflight(settings, [business_date])
    except PreflightError as error:
        raise dg.Failure(description=str(error)) from None
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bakehouse.config import LOCAL_TZ, Settings

# The fixed message whose HMAC under the PII key identifies the key without revealing it.
FINGERPRINT_MESSAGE = b"bakehouse pii key fingerprint v1"
INIT_HINT = "run `bakehouse init --home {home}` to create it"


class PreflightError(RuntimeError):
    """A precondition of a lake write that does not hold; `str()` is one line."""


@dataclass(frozen=True)
class Finding:
    """One check's outcome: `ok`, and a one-line `detail` (the error message if not ok)."""

    name: str
    ok: bool
    detail: str


def shanghai_today(now: datetime | None = None) -> date:
    """Today's calendar date in Asia/Shanghai (the business's day), from `now` (UTC)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(LOCAL_TZ)).date()


def key_fingerprint(key: bytes) -> str:
    """HMAC-SHA256(key, FINGERPRINT_MESSAGE) as 64 hex characters; never the key."""
    return hmac.new(key, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def stored_fingerprint(settings: Settings) -> str | None:
    """The fingerprint recorded in the lake, or None if none was recorded yet.

    Raises PreflightError if the file exists but cannot be read as written by
    `record_fingerprint`.
    """
    path = settings.key_fingerprint_file
    if not path.exists():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PreflightError(f"cannot read the key fingerprint {path}: {error}") from None
    return str(value)


def record_fingerprint(settings: Settings, key: bytes) -> str:
    """Write the key's fingerprint into the lake (mode 0640); returns the fingerprint."""
    fingerprint = key_fingerprint(key)
    path = settings.key_fingerprint_file
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "fingerprint": fingerprint,
        "algorithm": f"HMAC-SHA256(key, {FINGERPRINT_MESSAGE.decode()!r})",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    scratch = path.with_suffix(".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    os.replace(scratch, path)
    return fingerprint


# -- the checks -------------------------------------------------------------------------
def home_check(settings: Settings) -> Finding:
    """Does the home exist as a writable directory? Creates nothing but a removed probe."""
    home = settings.home
    if not home.exists():
        return Finding(
            "home", False, f"BAKEHOUSE_HOME {home} does not exist; {INIT_HINT.format(home=home)}"
        )
    if not home.is_dir():
        return Finding("home", False, f"BAKEHOUSE_HOME {home} is not a directory")
    try:
        with tempfile.NamedTemporaryFile(dir=home, prefix=".preflight-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        return Finding("home", False, f"BAKEHOUSE_HOME {home} is not writable ({reason})")
    if not settings.lake.is_dir():
        return Finding(
            "home",
            False,
            f"BAKEHOUSE_HOME {home} has no lake/ folder; {INIT_HINT.format(home=home)}",
        )
    return Finding("home", True, f"{home} exists and is writable")


def key_check(settings: Settings) -> Finding:
    """Is the PII key present, and is it the key whose fingerprint the lake records?"""
    from bakehouse.pii import KEY_ENV, MissingKeyError, load_key

    try:
        key = load_key(settings.pii_key_file)
    except MissingKeyError:
        return Finding(
            "pii key",
            False,
            f"no PII key: set {KEY_ENV}, or run `bakehouse init --home {settings.home}` "
            f"to write a key file ({settings.pii_key_file})",
        )
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return Finding(
            "pii key", False, f"cannot read the key file {settings.pii_key_file} ({reason})"
        )
    source = KEY_ENV if os.environ.get(KEY_ENV) else str(settings.pii_key_file)
    try:
        stored = stored_fingerprint(settings)
    except PreflightError as error:
        return Finding("pii key", False, str(error))
    current = key_fingerprint(key)
    if stored is None:
        return Finding(
            "pii key", True, f"from {source}; fingerprint {current[:12]}… recorded at first run"
        )
    if not hmac.compare_digest(stored, current):
        return Finding(
            "pii key",
            False,
            f"the PII key from {source} (fingerprint {current[:12]}…) is not the key this "
            f"lake was built with (fingerprint {stored[:12]}…): restore that key, or run "
            "`bakehouse rekey --old-key-file FILE` to rebuild the lake under the new one",
        )
    return Finding("pii key", True, f"from {source}; matches the lake's ({current[:12]}…)")


def dates_check(dates: Iterable[date], *, today: date | None = None) -> Finding:
    """Are all `dates` business dates before today in Asia/Shanghai?"""
    today = today or shanghai_today()
    wanted = sorted(set(dates))
    late = [day for day in wanted if day >= today]
    if late:
        shown = ", ".join(day.isoformat() for day in late[:3])
        more = f" and {len(late) - 3} more" if len(late) > 3 else ""
        subject = (
            f"business date {shown} is" if len(late) == 1 else f"business dates {shown}{more} are"
        )
        return Finding(
            "business dates",
            False,
            f"{subject} not over yet: today is {today} in {LOCAL_TZ}; the latest business "
            f"date that can run is {today - timedelta(days=1)}",
        )
    if not wanted:
        return Finding("business dates", True, f"today is {today} in {LOCAL_TZ}")
    return Finding(
        "business dates", True, f"{wanted[0]} to {wanted[-1]}, before today ({today}, {LOCAL_TZ})"
    )


def findings(
    settings: Settings, dates: Iterable[date] = (), *, today: date | None = None
) -> list[Finding]:
    """Every preflight check as a Finding, home first (what `doctor` shows)."""
    home = home_check(settings)
    key = key_check(settings) if home.ok else Finding("pii key", False, "not checked: no home")
    return [home, key, dates_check(dates, today=today)]


def preflight(
    settings: Settings,
    dates: Iterable[date] = (),
    *,
    today: date | None = None,
    record: bool = True,
) -> None:
    """Check that a lake write for these business dates may start; raise if not.

    Args:
        settings: the installation (`bakehouse.config.load_settings()`).
        dates: the business dates the run will write (empty for date-less jobs such
            as maintenance or the OneID rebuild: then only home and key are checked).
        today: today's date in Asia/Shanghai; defaults to the clock (tests pass one).
        record: record the key's fingerprint when the lake has none yet (default).

    Raises:
        PreflightError: the first failed check, as one line that names the fix.
            Nothing has been written when it is raised.
    """
    for finding in findings(settings, dates, today=today):
        if not finding.ok:
            raise PreflightError(finding.detail)
    if record and stored_fingerprint(settings) is None:
        from bakehouse.pii import load_key

        record_fingerprint(settings, load_key(settings.pii_key_file))
