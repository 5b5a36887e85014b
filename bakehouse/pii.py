"""Personal data: keyed pseudonyms (HMAC-SHA256), normalisation and masked display forms.

Identifiers leave bronze only as `pseudonym(id_type, value)`: HMAC-SHA256 under the
key in `BAKEHOUSE_PII_KEY`, over `"<id_type>:<normalised value>"`, so the same phone
gives the same pseudonym in every table, a phone and a card never collide, and nobody
without the key can reverse or re-compute it. The Spark form is built only from
`sha2`/`unhex`/`concat` (with the key's inner and outer pads precomputed), which every
Spark Connect server supports; `tests/test_pii.py` checks it against Python's `hmac`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from bakehouse import normalize as _normalize

if TYPE_CHECKING:
    from pyspark.sql import Column

KEY_ENV = "BAKEHOUSE_PII_KEY"
_BLOCK = 64  # SHA-256 block size in bytes


class MissingKeyError(RuntimeError):
    pass


def load_key(key_file: Path | None = None) -> bytes:
    """The pseudonymisation key: `BAKEHOUSE_PII_KEY`, else the home's key file."""
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("utf-8")
    if key_file is not None and key_file.exists():
        return key_file.read_text(encoding="utf-8").strip().encode("utf-8")
    raise MissingKeyError(
        f"{KEY_ENV} is not set; set it (e.g. `export {KEY_ENV}=$(openssl rand -hex 32)`) "
        "or run `bakehouse init`, which creates a key file in BAKEHOUSE_HOME"
    )


def ensure_key_file(key_file: Path) -> bool:
    """Create a random key file readable by its owner only; True if it was created."""
    if os.environ.get(KEY_ENV) or key_file.exists():
        return False
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32))
    return True


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    return inner.hex(), outer.hex()


def pseudonym(key: bytes, id_type: str, value: str | None) -> str | None:
    """HMAC-SHA256 of `"<id_type>:<value>"` as lowercase hex; None stays None."""
    if value is None or value == "":
        return None
    message = f"{id_type}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pseudonym_col(key: bytes, id_type: str, value: Column | str) -> Column:
    """The Spark Column form of `pseudonym`; null or empty input gives null."""
    from pyspark.sql import functions as F

    column = F.col(value) if isinstance(value, str) else value
    inner, outer = _pads(key)
    message = F.concat(F.lit(f"{id_type}:"), column).cast("binary")
    inner_digest = F.unhex(F.sha2(F.concat(F.unhex(F.lit(inner)), message), 256))
    digest = F.sha2(F.concat(F.unhex(F.lit(outer)), inner_digest), 256)
    return F.when(column.isNull() | (column == ""), F.lit(None).cast("string")).otherwise(digest)


# -- normalisation: the one module, bakehouse.normalize ---------------------------------
normalize_phone = _normalize.phone
normalize_phone_col = _normalize.phone_col


# -- masked display forms ---------------------------------------------------------------
def mask_phone(phone: str | None) -> str | None:
    """`13812345678` -> `138****5678`."""
    if not phone or len(phone) < 7:
        return None
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str | None) -> str | None:
    """`张伟` -> `张*`, `欧阳娜娜` -> `欧***`."""
    if not name:
        return None
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone_col(phone: Column | str) -> Column:
    from pyspark.sql import functions as F

    column = F.col(phone) if isinstance(phone, str) else phone
    return F.when(
        F.length(column) >= 7,
        F.concat(F.substring(column, 1, 3), F.lit("****"), F.substring(column, -4, 4)),
    )


def mask_name_col(name: Column | str) -> Column:
    from pyspark.sql import functions as F

    column = F.col(name) if isinstance(name, str) else name
    stars = F.repeat(F.lit("*"), F.greatest(F.length(column) - 1, F.lit(1)))
    return F.when(F.length(column) > 0, F.concat(F.substring(column, 1, 1), stars))
