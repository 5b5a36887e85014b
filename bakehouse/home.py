"""`bakehouse init`: create a home, and say what goes where in its landing folder.

The landing layout shown to the operator is generated from the feed contracts in
`ingestion.schemas.FEEDS`, so the instructions can never drift from what ingestion
accepts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bakehouse.config import HOME_MODE, Settings

# A named regex group (`(?P<d>\d{8})`) becomes a placeholder (`<yyyymmdd>`).
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")
_DATE_PLACEHOLDERS = {r"\d{8}": "<yyyymmdd>", r"\d{6}": "<yyyymm>"}


@dataclass(frozen=True)
class LandingEntry:
    """One feed's place in the landing folder: `landing/<folder>/<pattern>`."""

    folder: str
    pattern: str  # human form, e.g. pos_sales_<store>_<yyyymmdd>.csv
    feed: str  # the bronze table it lands in
    description: str


@dataclass
class InitResult:
    """What `init_home` did: the paths it created and whether it wrote a key file."""

    home: Path
    created: list[Path] = field(default_factory=list)
    key_file_written: bool = False
    extension: Path | None = None


def readable_pattern(regex: str) -> str:
    """A feed's regex in words: `(?P<store>...)` -> `<store>`, `(?P<d>\\d{8})` -> `<yyyymmdd>`."""

    def placeholder(match: re.Match[str]) -> str:
        if match["name"] == "d":
            return _DATE_PLACEHOLDERS.get(match["body"], "<date>")
        return f"<{match['name']}>"

    return _GROUP.sub(placeholder, regex).replace("\\.", ".")


def landing_contract() -> list[LandingEntry]:
    """Every feed's landing folder and file-name pattern, in contract order."""
    from ingestion.schemas import FEEDS

    return [
        LandingEntry(
            folder=feed.source,
            pattern=readable_pattern(feed.pattern),
            feed=feed.name,
            description=re.split(r"\.\s", feed.description)[0].strip().rstrip("."),
        )
        for feed in FEEDS
    ]


class KeyNotWrittenError(RuntimeError):
    """`init` found a lake built with a key that is gone, and wrote no new one."""


def init_home(settings: Settings, *, with_key_file: bool = True) -> InitResult:
    """Create (or complete) a home; idempotent, never overwrites data or a key.

    Creates the home 0700, its folders (a landing sub-folder per source system), the
    Dagster instance config with telemetry off, the DuckDB Delta extension, and a
    0600 random key file unless `BAKEHOUSE_PII_KEY` is set or a key file exists.

    Raises:
        OSError: the home cannot be created (e.g. a read-only parent).
        KeyNotWrittenError: the lake was built with a key that is now missing (a new
            one would split every identity).
    """
    from bakehouse import pii, warehouse
    from bakehouse.preflight import stored_fingerprint

    result = InitResult(home=settings.home)
    wanted = [settings.home, settings.log_dir]
    wanted += [settings.landing / entry.folder for entry in landing_contract()]
    missing = [path for path in wanted if not path.exists()]
    settings.ensure_dirs()
    for path in wanted:
        path.mkdir(parents=True, exist_ok=True)
    if settings.home in missing:
        settings.home.chmod(HOME_MODE)
    result.created = [path for path in missing if path.exists()]
    if with_key_file and not os.environ.get(pii.KEY_ENV):
        built_with = stored_fingerprint(settings)
        if built_with is not None and not settings.pii_key_file.exists():
            # A new random key would give every identifier a new pseudonym: refuse.
            raise KeyNotWrittenError(
                f"the lake at {settings.lake} was built with a key (fingerprint "
                f"{built_with[:12]}…) that is missing: restore {settings.pii_key_file} or set "
                "BAKEHOUSE_PII_KEY; `bakehouse rekey` rotates it deliberately"
            )
        result.key_file_written = pii.ensure_key_file(settings.pii_key_file)
    con = warehouse.delta_connection(settings)  # installs the Delta extension into the home
    con.close()
    if not settings.warehouse.exists():  # analysts can open it from day one (no views yet)
        warehouse.refresh_views(settings)
    ensure_lake_pool(settings)
    result.extension = warehouse.installed_extension(settings)
    return result


def ensure_lake_pool(settings: Settings) -> None:
    """The instance's one-lake-writer pool limit, set before any backfill is launched."""
    import dagster as dg

    from orchestration import partitions

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        partitions.ensure_lake_pool(instance)
