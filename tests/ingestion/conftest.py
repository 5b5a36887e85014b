"""Helpers for ingestion tests: write landing files, read back bronze, ledger, quarantine."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from bakehouse.config import Settings
from ingestion.schemas import FEEDS_BY_NAME

POS_HEADER = ",".join(FEEDS_BY_NAME["pos_sales"].source_headers)
POS_ROW = (
    "SH101,静安寺店,SH101-20261121-0001,销售,,2026/11/21 08:15:32,C01,M0000000001,"
    "13800000000,1,B1001,法式长棍,2,12.00,1.00,23.00,微信,"
)
POS_ROW_2 = (
    "SH101,静安寺店,SH101-20261121-0002,销售,,2026/11/21 09:00:00,C01,,,1,B1002,牛角包,"
    "1,8.50,0.00,8.50,现金,"
)
POS_FILE = "pos/pos_sales_SH101_20261121.csv"


def pos_text(*rows: str, header: str = POS_HEADER, newline: str = "\r\n") -> str:
    return newline.join([header, *rows]) + newline


@pytest.fixture
def landing(settings: Settings) -> Callable[..., Path]:
    """Write a landing file: `landing("pos/x.csv", text_or_bytes, encoding=...)`."""

    def write(relative: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = settings.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return write


def copy_landing(source: Path, settings: Settings) -> None:
    """Copy sample exports into a home's landing/, writable (the shared copy is read-only)."""
    shutil.rmtree(settings.landing)
    shutil.copytree(source, settings.landing)
    for path in settings.landing.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)


@pytest.fixture
def sample_home(settings: Settings, samples_landing: Path) -> Settings:
    copy_landing(samples_landing, settings)
    return settings


def read_table(settings: Settings, layer: str, table: str) -> pl.DataFrame:
    return pl.read_delta(str(settings.table_path(layer, table)))


def ledger(settings: Settings) -> pl.DataFrame:
    return read_table(settings, "bronze", "file_ledger")


def ledger_row(settings: Settings, source_file: str, status: str | None = None) -> dict:
    rows = ledger(settings).filter(pl.col("source_file") == source_file)
    if status is not None:
        rows = rows.filter(pl.col("status") == status)
    assert len(rows) == 1, rows
    return rows.row(0, named=True)


def assert_accounting(settings: Settings) -> None:
    """rows_read = rows_landed + rows_quarantined for every file, and the tables agree."""
    rows = ledger(settings)
    assert (rows["rows_read"] == rows["rows_landed"] + rows["rows_quarantined"]).all()
    current = rows.filter(pl.col("status") == "landed")
    for feed, feed_rows in current.group_by("feed"):
        name = feed[0]
        bronze = read_table(settings, "bronze", name)
        assert len(bronze) == feed_rows["rows_landed"].sum(), name
        if feed_rows["rows_quarantined"].sum():
            quarantine = read_table(settings, "quarantine", name)
            assert len(quarantine) == feed_rows["rows_quarantined"].sum(), name
