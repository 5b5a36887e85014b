"""Minimal readers for the simulator's landing files, used only by the tests."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
from python_calamine import CalamineWorkbook

ENCODING = {"pos": "gbk", "douyin": "utf-8-sig", "eleme": "utf-8", "erp": "utf-8-sig"}


def read_csv(path: Path) -> pl.DataFrame:
    """A landing CSV as all-text columns, decoded with its source's encoding."""
    folder = path.parent.name
    encoding = "gbk" if path.name.startswith("erp_store_costs") else ENCODING[folder]
    text = path.read_bytes().decode(encoding)
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def read_meituan(path: Path) -> pl.DataFrame:
    """Meituan's XLSX: title on row 1, header on row 2."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("订单明细").to_python()
    header, data = rows[1], rows[2:]
    return pl.DataFrame(
        [dict(zip(header, row, strict=True)) for row in data], infer_schema_length=None
    )


def files(landing: Path, folder: str, prefix: str) -> list[Path]:
    return sorted(
        p
        for p in (landing / folder).glob(f"{prefix}*")
        if " (1)" not in p.name and "_copy" not in p.name
    )


def fen(yuan_text: str | float) -> int:
    return round(float(yuan_text) * 100)
