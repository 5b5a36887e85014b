"""The one identifier-normalisation module: exact forms, and Python/Spark parity."""

from __future__ import annotations

import pytest

from bakehouse import normalize as norm
from bakehouse import pii

PHONES = [
    ("13812345678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("１９８１９９０８６２８", "19819908628"),  # full-width, as staff type it
    ("＋８６　１９８－１９９０－８６２８", "19819908628"),  # full-width +, space and dash
    ("\ufeff138 1234 5678\u200b", "13812345678"),
    ("(138)1234-5678", "13812345678"),
    ("021-55550001", None),  # a landline
    ("1381234567", None),  # a digit missing
    ("12812345678", None),  # no mobile starts 12
    ("+44 7700 900123", None),
    ("", None),
    (None, None),
]

KEYS = [
    ("\ufeffHZ202", "HZ202"),
    ("HZ202 ", "HZ202"),
    ("\u00a0HZ202\u00a0", "HZ202"),
    ("HZ\u200b202", "HZ202"),
    ("ＨＺ２０２", "HZ202"),
    ("\u3000HZ202\t", "HZ202"),
    ("\x1fHZ202\x1c", "HZ202"),  # ASCII separators Python counts as space
    ("oUn AbC", "oUn AbC"),  # case and inner spaces are kept
    ("3801234567890123456", "3801234567890123456"),
    ("\ufeff", None),
    ("  ", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_phone_is_the_11_digit_mobile(raw, expected) -> None:
    assert norm.phone(raw) == expected
    assert pii.normalize_phone(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), KEYS)
def test_key_text_is_the_join_form(raw, expected) -> None:
    assert norm.key_text(raw) == expected


def test_spark_forms_equal_python_forms(spark) -> None:
    """Java's `\\D` and `\\s` are ASCII-only and Sail's are Unicode: both must give these."""
    values = [raw for raw, _ in PHONES + KEYS] + ["①③⑧１２３４５６７８", "𝟏𝟑𝟖12345678"]
    frame = spark.createDataFrame([(v,) for v in values], "raw string")
    got = frame.select(
        norm.phone_col("raw").alias("phone"),
        pii.normalize_phone_col("raw").alias("pii_phone"),
        norm.key_text_col("raw").alias("key"),
    ).collect()
    assert [r.phone for r in got] == [norm.phone(v) for v in values]
    assert [r.pii_phone for r in got] == [norm.phone(v) for v in values]
    assert [r.key for r in got] == [norm.key_text(v) for v in values]
    assert got[-1].phone == got[-2].phone == "13812345678"


def test_card_drops_spaces_and_dashes() -> None:
    assert norm.card("6222 0201-2345") == norm.card("６２２２０２０１２３４５") == "622202012345"
    assert norm.card(" \ufeff ") is None


def test_minority_name_middle_dots_fold_alike() -> None:
    forms = ["阿依古丽·买买提", "阿依古丽•买买提", "阿依古丽・买买提", "阿依古丽．买买提"]
    forms += ["阿依古丽‧买买提", "阿依古丽･买买提", "阿依古丽 · 买买提"]
    assert {norm.name(f) for f in forms} == {"阿依古丽买买提"}
    assert norm.name("Jean·Paul Sartre") == norm.name("Jean-Paul Sartre") == "jean paul sartre"
