"""Reading a people CSV and preparing its records for comparison.

Preparation removes differences that say nothing about identity and derives the
columns the model compares and blocks on. Each record keeps its position
(`unique_id`, 0..n-1) so that clusters map back to the input order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import polars as pl

from bakehouse import normalize as norm

INPUT_COLUMNS = (
    "record_id",
    "source",
    "name",
    "phone",
    "email",
    "birthday",
    "gender",
    "address",
    "city",
    "postcode",
)
# Columns other systems use for the same attribute, accepted as they come.
ALIASES = {
    "name": ("full_name", "person_name"),
    "birthday": ("dob", "date_of_birth", "birth_date"),
    "phone": ("mobile", "phone_number", "telephone"),
    "postcode": ("postal_code", "zip", "zipcode"),
    "city": ("suburb", "town", "birth_place"),
}
FIRST_NAME_COLUMNS = ("first_name", "given_name", "forename")
SURNAME_COLUMNS = ("last_name", "surname", "family_name")
ADDRESS_PART_COLUMNS = ("street_number", "house_number", "address_1", "address_2", "street")

# Middle dots that separate the parts of a transcribed minority name
# (古丽米热·艾比布力): U+00B7, U+30FB, U+FF65, U+2027, U+2022, U+2219, U+22C5.
_MIDDLE_DOTS = re.compile("[\u00b7\u30fb\uff65\u2027\u2022\u2219\u22c5]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_DIGITS = re.compile(r"\D+")
# Two-character Chinese surnames (复姓) in common use.
_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "上官",
        "司马",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "夏侯",
        "长孙",
        "宇文",
        "司徒",
        "轩辕",
        "端木",
        "西门",
        "独孤",
        "南宫",
    ]
)


def read_people(path: Path) -> pl.DataFrame:
    """The input CSV as strings in `INPUT_COLUMNS` order, missing columns added empty.

    Attributes may be missing or empty, but `record_id` is what the output is keyed
    on: a file without it, or with empty or repeated ids, raises ValueError. Columns
    named as other systems name them (`dob`, `surname` + `given_name`, `suburb`, ...)
    are taken for ours when ours is absent.
    """
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "record_id" not in frame.columns:
        raise ValueError(f"{path}: no record_id column (columns: {', '.join(frame.columns)})")
    ids = frame["record_id"].str.strip_chars()
    empty = frame.with_row_index("line", offset=2).filter(ids.is_null() | (ids == ""))["line"]
    if len(empty):
        raise ValueError(f"{path}: empty record_id on line(s) {', '.join(map(str, empty[:10]))}")
    repeated = ids.filter(ids.is_duplicated()).unique().sort()
    if len(repeated):
        raise ValueError(f"{path}: repeated record_id {', '.join(repeated[:10].to_list())}")
    return conform(frame)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """`INPUT_COLUMNS` from a frame that may name them differently or lack some.

    A name split in first/surname columns is joined, an address split in parts
    (street number, address lines) is joined, and `ALIASES` are renamed.
    """
    columns = set(frame.columns)
    if "name" not in columns:
        first = next((c for c in FIRST_NAME_COLUMNS if c in columns), None)
        last = next((c for c in SURNAME_COLUMNS if c in columns), None)
        if first or last:
            parts = [pl.col(c) for c in (first, last) if c]
            frame = frame.with_columns(
                pl.concat_str(parts, separator=" ", ignore_nulls=True).alias("name")
            )
            columns.add("name")
    if "address" not in columns:
        parts = [c for c in ADDRESS_PART_COLUMNS if c in columns]
        if parts:
            frame = frame.with_columns(
                pl.concat_str([pl.col(c) for c in parts], separator=" ", ignore_nulls=True)
                .replace("", None)
                .alias("address")
            )
            columns.add("address")
    for column, others in ALIASES.items():
        source = next((c for c in others if c in columns), None)
        if column not in columns and source:
            frame = frame.with_columns(pl.col(source).alias(column))
            columns.add(column)
    for column in INPUT_COLUMNS:
        if column not in columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return frame.select(pl.col(c).cast(pl.String) for c in INPUT_COLUMNS)


# -- per-value preparation ------------------------------------------------------------------
@lru_cache(maxsize=1)
def _nicknamer():
    from nicknames import NickNamer

    return NickNamer()


@lru_cache(maxsize=200_000)
def name_parts(value: str | None) -> tuple[str | None, str | None, str | None]:
    """(full name, first name, surname) in a comparable form.

    Latin script: `name()` folding, first token and last token. Chinese: traditional
    characters simplified (zhconv), middle dots dropped; first and surname in pinyin
    (pypinyin), so `张伟`, `張偉`, `Zhang Wei` and `Wei Zhang` compare equal, the
    Hanzi kept as the full name. A one-token Latin name is a surname.
    """
    if value is None:
        return None, None, None
    value = _MIDDLE_DOTS.sub(" ", value)
    full = norm.name(value)
    if full is None:
        return None, None, None
    if _CJK.search(full):
        import zhconv
        from pypinyin import lazy_pinyin

        hanzi = "".join(ch for ch in zhconv.convert(full, "zh-cn") if not ch.isspace())
        cut = 2 if hanzi[:2] in _COMPOUND_SURNAMES else 1
        surname = "".join(lazy_pinyin(hanzi[:cut])) or None
        given = "".join(lazy_pinyin(hanzi[cut:])).replace(" ", "") or None
        return hanzi, given, surname
    tokens = full.split()
    if len(tokens) == 1:  # first name or surname? Neither is claimed.
        return full, None, None
    return full, tokens[0], tokens[-1]


@lru_cache(maxsize=50_000)
def first_name_aliases(first: str | None) -> list[str] | None:
    """The name and its canonical forms in the `nicknames` table (Rob -> Robert)."""
    if first is None:
        return None
    if len(first) < 2 or not first.isascii():
        return [first]
    return sorted({first, *_nicknamer().canonicals_of(first)})


def phone_key(value: str | None) -> str | None:
    """The 11-digit mainland mobile (`normalize.phone`, OneID's key), else the digits of
    another number.

    Numbers that are not mainland mobiles keep their digits without leading zeros:
    `resolve` reads files from anywhere, and a foreign or landline number is still
    evidence. Fewer than 7 digits is not a phone.
    """
    mobile = norm.phone(value)
    if mobile:
        return mobile
    text = norm.nfkc(value)
    if text is None:
        return None
    digits = _DIGITS.sub("", text).lstrip("0")
    return digits if len(digits) >= 7 else None


def birth_date(value: str | None) -> str | None:
    """`YYYYMMDD` from any written form; an unparseable 7- or 8-digit value kept as
    written.

    Keeping a mistyped date (`19560931`, `1941105`) as digits lets the model see that
    it is one keystroke from another record's date instead of losing it.
    """
    parsed = norm.birthday(value)
    if parsed:
        return parsed.replace("-", "")
    text = norm.nfkc(value)
    if text is None:
        return None
    digits = _DIGITS.sub("", text)
    return digits if len(digits) in (7, 8) else None


def prepare(people: pl.DataFrame) -> pl.DataFrame:
    """The compared columns of `people` (`INPUT_COLUMNS`), one row per record in order.

    Columns: unique_id (0..n-1), record_id, full_name, first_name, surname,
    first_aliases (list), dob (YYYYMMDD), phone, email, gender, address, city, postcode.
    """

    def apply(column: str, function, dtype=pl.String) -> pl.Expr:
        return pl.col(column).map_elements(function, return_dtype=dtype, skip_nulls=True)

    parts = pl.Struct({"full": pl.String, "first": pl.String, "last": pl.String})
    records = people.with_row_index("unique_id").select(
        pl.col("unique_id").cast(pl.Int64),
        "record_id",
        apply(
            "name",
            lambda v: dict(zip(("full", "first", "last"), name_parts(v), strict=True)),
            parts,
        ).alias("parts"),
        apply("birthday", birth_date).alias("dob"),
        apply("phone", phone_key).alias("phone"),
        apply("email", norm.email).alias("email"),
        apply("gender", norm.gender).alias("gender"),
        apply("address", norm.address).alias("address"),
        apply("city", norm.city).alias("city"),
        apply("postcode", norm.postcode).alias("postcode"),
    )
    records = records.with_columns(
        pl.col("parts").struct.field("full").alias("full_name"),
        pl.col("parts").struct.field("first").alias("first_name"),
        pl.col("parts").struct.field("last").alias("surname"),
    ).drop("parts")
    return records.with_columns(
        apply("first_name", first_name_aliases, pl.List(pl.String)).alias("first_aliases")
    ).select(
        "unique_id",
        "record_id",
        "full_name",
        "first_name",
        "surname",
        "first_aliases",
        "dob",
        "phone",
        "email",
        "gender",
        "address",
        "city",
        "postcode",
    )
