"""Member identifiers in silver: keyed pseudonyms only (PIPL), one id type per kind.

The id type is part of the HMAC message (`bakehouse.pii`), so the same phone gives the
same pseudonym in every table and a phone never collides with a card number. OneID
(`transforms.identity`) joins on these columns, so the id type names below are shared.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from bakehouse.pii import normalize_phone_col, pseudonym_col

CARD = "card_no"
PHONE = "phone"
MEMBER_ID = "member_id"
UNIONID = "unionid"
OPENID = "openid"
DOUYIN_OPEN_ID = "douyin_open_id"
MEITUAN_USER_ID = "meituan_user_id"
ELEME_USER_ID = "eleme_user_id"

# Pseudonym columns on silver/orders, in order, with the id type each one carries.
ORDER_IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("member_card_pseudonym", CARD),
    ("member_phone_pseudonym", PHONE),
    ("member_id_pseudonym", MEMBER_ID),
    ("unionid_pseudonym", UNIONID),
    ("openid_pseudonym", OPENID),
    ("douyin_open_id_pseudonym", DOUYIN_OPEN_ID),
    ("meituan_user_pseudonym", MEITUAN_USER_ID),
    ("eleme_user_pseudonym", ELEME_USER_ID),
)


def pseudonym(key: bytes, id_type: str, raw: Column | str) -> Column:
    """The pseudonym of a trimmed identifier; blanks give null."""
    value = F.trim(F.col(raw) if isinstance(raw, str) else raw)
    return pseudonym_col(key, id_type, value)


def phone_pseudonym(key: bytes, raw: Column | str) -> Column:
    """Pseudonym of a typed phone after normalisation (+86, spaces, dashes)."""
    return pseudonym_col(key, PHONE, normalize_phone_col(raw))


def no_identity() -> Column:
    return F.lit(None).cast("string")
