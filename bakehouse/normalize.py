"""Normalising person attributes before comparing them (used by `resolve_file`).

Every rule here removes a difference that says nothing about identity: Unicode width
and compatibility forms (NFKC turns full-width `１３８` and `Ａ` into `138` and `a`),
case, punctuation and spacing, phone formatting and country prefixes, e-mail tags and
Gmail's ignored dots, and the many ways people write a date.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_SPACES = re.compile(r"\s+")
_NAME_PUNCT = re.compile(r"[.,'’\-_·•/\\()\[\]\"]+")
_ADDRESS_PUNCT = re.compile(r"[.,;:#'’\"()\[\]/\\\-]+")
_DIGITS = re.compile(r"\D+")
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


def phone(value: str | None) -> str | None:
    """The last 10 digits of a phone number, a key that survives country prefixes.

    `+86 138-1234-5678`, `008613812345678` and `13812345678` agree, as do
    `+44 7700 900123` and `07700 900123`. Fewer than 7 digits is not a phone.
    """
    text = nfkc(value)
    if text is None:
        return None
    digits = _DIGITS.sub("", text)
    if len(digits) < 7:
        return None
    return digits[-10:]


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
