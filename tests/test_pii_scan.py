"""No clear personal data anywhere an analyst can read: every silver and gold table
except `silver/pii_vault` is scanned for the phones, names, WeChat ids and addresses
of the input.

The lakehouse is built from the shared sample exports through the real pipeline
pieces: ingestion to bronze, the silver build (orders and masters) when present, and
OneID. The scan is generic: it walks every Delta table found under lake/silver and
lake/gold, so a new table is covered the day it appears.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from bakehouse.pii import load_key

RESTRICTED = {("silver", "pii_vault")}
# An 11-digit mainland mobile not embedded in a longer run of digits or hex (hashes).
MOBILE = re.compile(r"(?<![0-9a-fA-F])1[3-9]\d{9}(?![0-9a-fA-F])")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _cells(table: pa.Table) -> Iterator[tuple[str, str]]:
    for name in table.column_names:
        column = table.column(name)
        if (
            pa.types.is_string(column.type)
            or pa.types.is_large_string(column.type)
            or (pa.types.is_list(column.type) or pa.types.is_struct(column.type))
        ):
            for value in column.to_pylist():
                for text in _strings(value):
                    yield name, text


def _forbidden_values(lake) -> dict[str, set[str]]:
    """Clear values from bronze that must not reach silver or gold."""
    wanted = {
        "mp_members": ("name", "unionid", "openid"),
        "mp_orders": ("member_unionid", "member_openid"),
        "wecom_contacts": ("unionid",),
        "meituan_orders": ("masked_address",),
    }
    found: dict[str, set[str]] = {"name": set(), "wechat_id": set(), "address": set()}
    for table, columns in wanted.items():
        if not lake.exists("bronze", table):
            continue
        data = lake.read_arrow("bronze", table, columns=list(columns))
        for column in columns:
            kind = (
                "name"
                if column == "name"
                else "address"
                if column == "masked_address"
                else "wechat_id"
            )
            found[kind].update(v.strip() for v in data.column(column).to_pylist() if v)
    return found


@pytest.fixture
def built_lake(lake, settings, samples_landing):
    """Samples -> bronze -> silver (when the build exists) -> OneID."""
    ingestion = pytest.importorskip("ingestion.pipeline")
    shutil.copytree(samples_landing, settings.landing, dirs_exist_ok=True)
    ingestion.ingest(settings)
    key = load_key(settings.pii_key_file)
    try:
        from transforms.build import build_full
    except ImportError:  # the silver build is not there yet: identity tables only
        build_full = None
    if build_full is not None:
        build_full(lake, key)
    from transforms.identity.pipeline import run_identity

    run_identity(lake, key=key)
    return lake


def test_no_clear_personal_data_outside_the_vault(built_lake):
    lake = built_lake
    forbidden = _forbidden_values(lake)
    assert forbidden["name"] and forbidden["wechat_id"], "the samples should carry PII"
    scanned = []
    leaks: list[str] = []
    for layer in ("silver", "gold"):
        for table in lake.tables(layer):
            if (layer, table) in RESTRICTED:
                continue
            scanned.append(f"{layer}.{table}")
            for column, text in _cells(lake.read_arrow(layer, table)):
                if MOBILE.search(text):
                    leaks.append(f"{layer}.{table}.{column}: phone {text!r}")
                for kind in ("name", "wechat_id", "address"):
                    if text.strip() in forbidden[kind]:
                        leaks.append(f"{layer}.{table}.{column}: {kind} {text!r}")
    assert {"silver.identity_map", "silver.members", "silver.identity_audit"} <= set(scanned)
    assert not leaks, "\n".join(leaks[:20])


def test_the_vault_is_where_clear_contacts_live(built_lake):
    vault = built_lake.read_arrow("silver", "pii_vault").to_pylist()
    live = [row for row in vault if not row["is_erased"]]
    assert live and all(MOBILE.fullmatch(row["phone"]) for row in live if row["phone"])
