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


def init_home(settings: Settings, *, with_key_file: bool = True) -> InitResult:
    """Create (or complete) a home; idempotent, never overwrites data or a key.

    Creates the home 0700, its folders (a landing sub-folder per source system), the
    Dagster instance config with telemetry off, the DuckDB Delta extension, and a
    0600 random key file unless `BAKEHOUSE_PII_KEY` is set or a key file exists.

    Raises:
        OSError: the home cannot be created (e.g. a read-only parent).
    """
    from bakehouse import pii, warehouse

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
        result.key_file_written = pii.ensure_key_file(settings.pii_key_file)
    con = warehouse.delta_connection(settings)  # installs the Delta extension into the home
    con.close()
    result.extension = warehouse.installed_extension(settings)
    return result
