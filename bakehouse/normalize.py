"""The one identifier-normalisation module: a value is the same identifier wherever it is read.

Ingestion (bronze ledger notes), silver's maps, OneID and `bakehouse resolve` all call it.

Every rule here removes a difference that says nothing about identity: Unicode width
and compatibility forms (NFKC turns full-width `１３８` and `Ａ` into `138` and `a`),
invisible characters (byte-order marks, zero-width spaces, NBSP), case, punctuation and
spacing, phone formatting and country prefixes, e-mail tags and Gmail's ignored dots,
minority-name middle dots, and the many ways people write a date.

Key columns have a Python form (`key_text`, `phone`) and a Spark Column form
(`key_text_col`, `phone_col`) that give the same results: the Spark forms use explicit
character tables rather than `\\D`/`\\s`, whose meaning differs between Java (ASCII
only: a full-width digit is not a digit), Rust (Sail: Unicode) and Python.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

_SPACES = re.compile(r"\s+")
# Middle dots of transliterated minority and foreign names (阿依古丽·买买提), as typed:
# U+00B7, U+2022, U+30FB, U+FF0E (NFKC: "."), U+2027, U+FF65 (NFKC: U+30FB), U+2219, U+22C5.
MIDDLE_DOTS = "·•・．‧･∙⋅"
_NAME_PUNCT = re.compile(r"[.,'’\-_/\\()\[\]\"" + MIDDLE_DOTS + "]+")
_ADDRESS_PUNCT = re.compile(r"[.,;:#'’\"()\[\]/\\\-]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_GMAIL = {"gmail.com", "googlemail.com"}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "先生", "女士", "小姐"}


def nfkc(value: str | None) -> str | None:
    """NFKC, lower-cased, trimmed, spaces collapsed; empty is None."""
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip().lower()
    return text or None


def name(value: str | None) -> str | None:
    """A comparable name: no punctuation or titles; Chinese names without spaces."""
    text = nfkc(value)
    if text is None:
        return None
    text = _NAME_PUNCT.sub(" ", text)
    if _CJK.search(text):
        return text.replace(" ", "") or None
    tokens = [t for t in text.split() if t not in _TITLES]
    folded = " ".join(tokens)
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
    )
    return folded or None


def name_tokens_sorted(value: str | None) -> str | None:
    """Name tokens in sorted order, so `Smith John` meets `John Smith`."""
    if value is None:
        return None
    return " ".join(sorted(value.split()))


def _nfkc_single_chars() -> dict[str, str]:
    """Every character whose NFKC form is one other character (3,600-odd: full-width
    forms, NBSP and the typographic spaces, compatibility ideographs, circled letters...)."""
    table = {}
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if folded != char and len(folded) == 1:
            table[char] = folded
    return table


# Invisible format characters that are never part of an identifier: byte-order mark /
# zero-width no-break space, zero-width space/non-joiner/joiner, word joiner, soft hyphen,
# left-to-right/right-to-left marks, Mongolian vowel separator.
INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00ad\u200e\u200f\u180e"
# What Python's `str.strip()` removes (`str.isspace`), written out so Spark does the same.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_NOT_ASCII_DIGIT = re.compile(r"[^0-9]+")


def _regex_class(chars: str) -> str:
    """A Spark regex character class of `chars` as `\\x{HHHH}` escapes, which Java (JVM
    Spark) and Rust (Sail) read alike (Python's `re` does not; the Python forms here
    use `str` methods)."""
    return "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in chars) + "]"


@cache
def _digit_table() -> dict[str, str]:
    """Characters whose NFKC form is one ASCII digit (full-width `１`, `①`, `𝟏`...)."""
    return {k: v for k, v in _nfkc_single_chars().items() if v in "0123456789"}


@cache
def _key_table() -> dict[str, str]:
    return _nfkc_single_chars()


def key_text(value: object) -> str | None:
    """The join form of a key column (store code, order id, 券码, openid...), or None.

    NFKC (full-width `ＨＺ２０２` is `HZ202`, NBSP a space); byte-order marks and other
    invisible format characters (`INVISIBLE`) removed wherever they are; surrounding
    whitespace stripped; empty is None. Case and inner spaces are kept: ids are
    case-sensitive. Bronze keeps the raw value; silver, identity and the maps join on this.
    """
    if value is None:
        return None
    text = _INVISIBLE_RE.sub("", str(value))
    text = unicodedata.normalize("NFKC", text).strip()
    return text or None


def key_text_col(column: Column | str) -> Column:
    """The Spark Column form of `key_text`: the same string for every value whose NFKC
    form is character by character (all ids and codes; not composing accents or ligatures).

    Plain Spark (translate + regexp_replace with explicit character classes), so it runs
    the same on Sail and on JVM Spark.
    """
    from pyspark.sql import functions as F

    col = F.col(column) if isinstance(column, str) else column
    table = _key_table()
    space = _regex_class(WHITESPACE)
    # Only a value with a non-ASCII character can hold anything but surrounding space to
    # remove; the others skip the 3,600-character translation.
    wide = F.length(col) != F.octet_length(col)
    text = F.regexp_replace(col, _regex_class(INVISIBLE), "")
    text = F.translate(text, "".join(table), "".join(table.values()))
    text = F.when(wide, text).otherwise(col)
    text = F.regexp_replace(text, f"^{space}+|{space}+$", "")
    return F.when(text != "", text)


def phone(value: object) -> str | None:
    """The 11-digit mainland mobile number in a typed one, else None.

    Any digit form NFKC makes an ASCII digit (full-width `１３８`) counts as that digit;
    every other character (spaces, dashes, brackets, `+`) is dropped; a leading `86` or
    `0086` before 11 digits is the country code. What is then not `1[3-9]` + 9 digits
    (landlines, foreign numbers, a digit missing) is not a phone key.
    """
    if value is None:
        return None
    digits = _NOT_ASCII_DIGIT.sub("", str(value).translate(str.maketrans(_digit_table())))
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits if MOBILE_RE.match(digits) else None


def phone_col(column: Column | str) -> Column:
    """The Spark Column form of `phone`: same results on the same inputs.

    Digits are mapped by an explicit table and non-digits removed with `[^0-9]`, because
    Java's `\\D` keeps no full-width digit while Python's and Rust's keep them all.
    """
    from pyspark.sql import functions as F

    col = F.col(column) if isinstance(column, str) else column
    table = _digit_table()
    mapped = F.translate(col, "".join(table), "".join(table.values()))
    digits = F.regexp_replace(mapped, "[^0-9]", "")
    stripped = (
        F.when((F.length(digits) == 15) & digits.startswith("0086"), F.substring(digits, 5, 11))
        .when((F.length(digits) == 13) & digits.startswith("86"), F.substring(digits, 3, 11))
        .otherwise(digits)
    )
    return F.when(stripped.rlike(MOBILE_RE.pattern), stripped)


def card(value: object) -> str | None:
    """A membership or stored-value card number as a key, or None: `key_text` without
    inner spaces and dashes, so `6222 0201-2345` and `６２２２０２０１２３４５` agree."""
    text = key_text(value)
    if text is None:
        return None
    return re.sub(r"[\s\-]+", "", text) or None


def email(value: str | None, *, gmail_dots: bool = True) -> str | None:
    """Lower-case address without a `+tag`; Gmail dots removed (Gmail ignores them)."""
    text = nfkc(value)
    if text is None or "@" not in text:
        return None
    local, _, domain = text.replace(" ", "").rpartition("@")
    local = local.split("+", 1)[0]
    if gmail_dots and domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local and domain else None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _year(value: int) -> int:
    if value >= 100:
        return value
    return 1900 + value if value > 30 else 2000 + value


def birthday(value: str | None) -> str | None:
    """ISO date from `1990-05-01`, `1990/5/1`, `01/05/1990`, `19900501`, `1990年5月1日`,
    `1 May 1990`, `May 1, 1990`; day-first when ambiguous (the common form outside
    the US), month-first when the first number cannot be a month's day order."""
    text = nfkc(value)
    if text is None:
        return None
    text = text.replace("年", "-").replace("月", "-").replace("日", "").strip("- ")
    if re.fullmatch(r"\d{8}", text):
        return _valid(int(text[:4]), int(text[4:6]), int(text[6:]))
    if words := re.findall(r"[a-z]+", text):
        month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        if month and len(numbers) == 2:
            day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
            return _valid(_year(year), month, day)
        return None
    parts = [int(p) for p in re.split(r"[-/.\s]+", text) if p.isdigit()]
    if len(parts) != 3:
        return None
    a, b, c = parts
    if a > 31:  # year first
        return _valid(a, b, c)
    year = _year(c)
    if a > 12:  # day first, unambiguous
        return _valid(year, b, a)
    if b > 12:  # month first, unambiguous
        return _valid(year, a, b)
    return _valid(year, b, a)


def gender(value: str | None) -> str | None:
    text = nfkc(value)
    if text in {"m", "male", "man", "男", "1", "h"}:
        return "M"
    if text in {"f", "female", "woman", "女", "2", "w"}:
        return "F"
    return None


def address(value: str | None) -> str | None:
    text = nfkc(value)
    if text is None:
        return None
    return _SPACES.sub(" ", _ADDRESS_PUNCT.sub(" ", text)).strip() or None


def city(value: str | None) -> str | None:
    text = nfkc(value)
    if text is None:
        return None
    return text.removesuffix("市").strip() or None


def postcode(value: str | None) -> str | None:
    text = nfkc(value)
    if text is None:
        return None
    return text.replace(" ", "").upper() or None
