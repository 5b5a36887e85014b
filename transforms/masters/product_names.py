"""Matching platform product names to SKUs: normalisation first, fuzzy second.

Platform names drift from the ERP's (`牛角包（新品）`, `【招牌】肉松小贝`, full-width
brackets and spaces, `法式长棍面包` for `法式长棍`). This runs on the driver over the
distinct names (a few hundred against ~150 SKUs): cheap, deterministic and easy to
test, with the method and score recorded on every mapping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

FUZZY_THRESHOLD = 88.0  # WRatio score (0-100) a fuzzy match needs
FUZZY_MARGIN = 4.0  # and its lead over the best match for another SKU

# Marketing tags platforms wrap around names; a bracket holding one is dropped whole.
MARKETING_TAGS = (
    "新品",
    "招牌",
    "热卖",
    "热销",
    "爆款",
    "推荐",
    "店长推荐",
    "人气",
    "限定",
    "限量",
    "特价",
    "折扣",
    "门店通用",
    "全国门店通用",
    "包邮",
)
# Serving variants platforms append to one SKU's name: `酸奶(热)` is still 酸奶.
VARIANT_TAGS = ("热", "冷", "冰", "温", "常温", "热饮", "冷饮", "去冰", "少冰")
_OPEN = "【[(〔〖「『<《{"
_CLOSE = "】])〕〗」』>》}"
_BRACKETED = re.compile(
    f"[{re.escape(_OPEN)}]([^{re.escape(_OPEN + _CLOSE)}]*)[{re.escape(_CLOSE)}]"
)
_NOISE = re.compile(rf"[\s·・_\-/|{re.escape(_OPEN + _CLOSE)}]+")
_TRAILING_TAG = re.compile("(" + "|".join(sorted(MARKETING_TAGS, key=len, reverse=True)) + ")$")


def normalise_name(name: str | None) -> str:
    """The comparison key of a product name.

    NFKC folds full-width forms (（）→(), Ａ→a, full-width spaces); bracketed marketing
    tags and serving variants go entirely (`【招牌】`, `（新品）`, `(热)`), other brackets
    only lose the bracket characters (`提拉米苏(切块)` → `提拉米苏切块`); spaces and
    separators go; a trailing
    unbracketed tag goes too (`牛角包新品`).
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).strip().lower()

    def _bracket(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if inner in VARIANT_TAGS or any(tag in inner for tag in MARKETING_TAGS):
            return ""
        return inner

    text = _BRACKETED.sub(_bracket, text)
    text = _NOISE.sub("", text)
    stripped = _TRAILING_TAG.sub("", text)
    return stripped or text


@dataclass(frozen=True)
class Match:
    sku: str | None
    method: str  # exact | id | normalised | fuzzy | unmapped
    score: float | None
    matched_name: str | None


class NameMatcher:
    """Matches one platform's names against the product master.

    `candidates` are (sku, name, is_platform_name) triples: the platform's own name
    column in the ERP first, then the ERP product name. A normalised key claimed by two
    SKUs is ambiguous and never used.
    """

    def __init__(self, candidates: Iterable[tuple[str, str | None, bool]]) -> None:
        self._exact: dict[str, str] = {}
        keys: dict[str, set[str]] = {}
        preferred: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}
        for sku, name, is_platform_name in candidates:
            if not name:
                continue
            self._exact.setdefault(name.strip(), sku)
            key = normalise_name(name)
            if not key:
                continue
            keys.setdefault(key, set()).add(sku)
            if is_platform_name:
                preferred.setdefault(key, set()).add(sku)
            self._names.setdefault(key, name)
        self._keys: dict[str, str] = {}
        for key, skus in keys.items():
            chosen = preferred.get(key, skus)
            if len(chosen) == 1:
                self._keys[key] = next(iter(chosen))
        self._choices = sorted(self._keys)

    def match(self, name: str | None) -> Match:
        if not name or not name.strip():
            return Match(None, "unmapped", None, None)
        if (sku := self._exact.get(name.strip())) is not None:
            return Match(sku, "exact", 100.0, name.strip())
        key = normalise_name(name)
        if (sku := self._keys.get(key)) is not None:
            return Match(sku, "normalised", 100.0, self._names[key])
        if not key or not self._choices:
            return Match(None, "unmapped", None, None)
        ranked = process.extract(key, self._choices, scorer=fuzz.WRatio, limit=5)
        best_key, best_score, _ = ranked[0]
        best_sku = self._keys[best_key]
        runner_up = max(
            (score for choice, score, _ in ranked[1:] if self._keys[choice] != best_sku),
            default=0.0,
        )
        if best_score >= FUZZY_THRESHOLD and best_score - runner_up >= FUZZY_MARGIN:
            return Match(best_sku, "fuzzy", round(float(best_score), 1), self._names[best_key])
        return Match(None, "unmapped", round(float(best_score), 1), self._names[best_key])
