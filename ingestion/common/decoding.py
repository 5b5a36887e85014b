"""Turning a file's bytes into text without trusting the declared encoding blindly.

Source systems do get re-configured: a POS till exporting UTF-8 instead of GBK, an ERP
job dropping its BOM. A wrong guess does not always fail loudly (UTF-8 bytes often
decode as GBK into mojibake), so an encoding is accepted only when the decoded header
is one the contract recognises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Python codec used for each encoding name of the contract. GB18030 is a strict
# superset of GBK that decodes every GBK byte sequence identically, and also the rare
# characters some tills emit outside GBK.
_CODECS = {"gbk": "gb18030", "utf-8-sig": "utf-8-sig", "utf-8": "utf-8"}
FALLBACK_ORDER = ("gbk", "utf-8-sig", "utf-8")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # contract name of the encoding used
    declared: str
    lossy: bool = False  # some bytes decoded to surrogates (see `decode`)

    @property
    def fallback(self) -> bool:
        return self.encoding != self.declared

    @property
    def note(self) -> str | None:
        return f"encoding_fallback:{self.declared}->{self.encoding}" if self.fallback else None


def _try(data: bytes, encoding: str, errors: str = "strict") -> str | None:
    try:
        text = data.decode(_CODECS[encoding], errors)
    except UnicodeDecodeError:
        return None
    # utf-8 (declared without BOM) must still not keep a BOM in the first header name.
    return text.removeprefix("\ufeff") if encoding == "utf-8" else text


def decode(data: bytes, declared: str, score: Callable[[str], int], perfect: int) -> Decoded | None:
    """Decode `data`, preferring `declared`, accepting the encoding whose text scores best.

    `score` rates decoded text (e.g. how many expected header names its first line has;
    `perfect` is the full mark). The declared encoding is tried first and wins ties, so
    a fallback happens only when another encoding reads better. If no encoding decodes
    the whole file strictly, the best-scoring one is used with `surrogateescape`: the
    lines holding undecodable bytes are then quarantined by the reader (`bad_encoding`)
    instead of the whole file being rejected. None when nothing scores above zero.
    """
    candidates = [declared, *(e for e in FALLBACK_ORDER if e != declared)]
    for errors in ("strict", "surrogateescape"):
        best: tuple[int, str, str] | None = None
        for encoding in candidates:
            text = _try(data, encoding, errors)
            if text is None:
                continue
            points = score(text)
            if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
                encoding = "utf-8"  # same bytes; name what was really sent
            if points >= perfect:
                return Decoded(text, encoding, declared, lossy=errors != "strict")
            if points > 0 and (best is None or points > best[0]):
                best = (points, encoding, text)
        if best is not None:
            return Decoded(best[2], best[1], declared, lossy=errors != "strict")
    return None


def has_undecodable(text: str) -> bool:
    """Whether a line decoded with surrogateescape holds bytes its encoding rejected."""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def printable(text: str, encoding: str) -> str:
    """A surrogate-escaped line as storable text: bad bytes shown as \\xNN escapes."""
    raw = text.encode(_CODECS[encoding], "surrogateescape")
    return raw.decode(_CODECS[encoding], "backslashreplace")


_LINE_BOMS = re.compile("(?m)^\ufeff+")


def strip_line_boms(text: str) -> tuple[str, int]:
    """`text` without byte-order marks at the start of any line, and how many lines had one.

    A BOM at a line start is a decoding artifact (exports concatenated, or a line
    written by a tool that prefixes every write with one), never data: left in, it
    becomes part of the first field (`'\\ufeffHZ202'` as a store code). A U+FEFF
    inside a value is left to the key normalisation (`bakehouse.normalize.key_text`).
    """
    if "\ufeff" not in text:
        return text, 0
    return _LINE_BOMS.subn("", text)
