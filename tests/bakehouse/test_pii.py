"""Pseudonyms and masks: the Spark forms agree with the Python reference."""

from __future__ import annotations

import pytest

from bakehouse import pii

KEY_SHORT = b"short key"
KEY_LONG = b"k" * 90  # longer than the SHA-256 block: HMAC hashes it first

ROWS = [
    ("13812345678", "张伟", "+86 138-1234-5678"),
    ("", None, "021-55550001"),
    ("oUnabc", "欧阳娜娜", "8613812345678"),
    ("15680861793", "李", "1568086179"),
]


@pytest.mark.parametrize("key", [KEY_SHORT, KEY_LONG])
def test_spark_hmac_equals_python_hmac(spark, key: bytes) -> None:
    frame = spark.createDataFrame(ROWS, "value string, name string, raw string")
    got = [r.h for r in frame.select(pii.pseudonym_col(key, "phone", "value").alias("h")).collect()]
    assert got == [pii.pseudonym(key, "phone", value) for value, _, _ in ROWS]
    assert got[1] is None
    assert len(got[0]) == 64


def test_pseudonym_is_keyed_and_namespaced() -> None:
    assert pii.pseudonym(b"a", "phone", "13812345678") != pii.pseudonym(
        b"b", "phone", "13812345678"
    )
    assert pii.pseudonym(b"a", "phone", "x") != pii.pseudonym(b"a", "card_no", "x")


def test_normalize_and_mask_agree_between_python_and_spark(spark) -> None:
    frame = spark.createDataFrame(ROWS, "value string, name string, raw string")
    got = frame.select(
        pii.normalize_phone_col("raw").alias("phone"),
        pii.mask_name_col("name").alias("name"),
        pii.mask_phone_col("value").alias("masked"),
    ).collect()
    assert [r.phone for r in got] == [pii.normalize_phone(raw) for *_, raw in ROWS]
    assert [r.phone for r in got] == ["13812345678", None, "13812345678", None]
    assert [r.name for r in got] == [pii.mask_name(n) for _, n, _ in ROWS]
    assert [r.name for r in got] == ["张*", None, "欧***", "李*"]
    assert got[0].masked == "138****5678"


def test_key_file_is_private_and_used(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    key_file = tmp_path / "pii.key"
    assert pii.ensure_key_file(key_file) is True
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert pii.ensure_key_file(key_file) is False
    assert pii.load_key(key_file) == key_file.read_text().strip().encode()
    monkeypatch.setenv(pii.KEY_ENV, "from-env")
    assert pii.load_key(key_file) == b"from-env"


def test_missing_key_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    with pytest.raises(pii.MissingKeyError, match="BAKEHOUSE_PII_KEY"):
        pii.load_key(tmp_path / "absent.key")
