"""Identifier types and the knobs of identity resolution, in one place.

The id types are part of the pseudonym (`pseudonym(key, id_type, value)`), so every
silver table that carries a phone or a member id must use these exact names to join
`silver/identity_map`.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- identifier types (the `id_type` of silver/identity_map) ---------------------------
PHONE = "phone"  # normalised 11-digit mainland mobile
CARD = "card_no"  # member card number, M + 10 digits (as transforms.common.identity)
MEMBER_ID = "member_id"  # CRM member id
UNIONID = "unionid"  # WeChat unionid (oUn...)
OPENID = "openid"  # WeChat mini-program openid (oOp...)
WECOM_EXTERNAL_ID = "wecom_external_id"  # WeCom external_userid
DOUYIN_OPEN_ID = "douyin_open_id"
MEITUAN_USER_ID = "meituan_user_id"
ELEME_USER_ID = "eleme_user_id"

ID_TYPES: tuple[str, ...] = (
    PHONE,
    CARD,
    MEMBER_ID,
    UNIONID,
    OPENID,
    WECOM_EXTERNAL_ID,
    DOUYIN_OPEN_ID,
    MEITUAN_USER_ID,
    ELEME_USER_ID,
)
# Identifiers only a platform knows, that reach us with a masked phone at best: they
# join a person through the probabilistic model unless a voucher ties them directly.
PLATFORM_ID_TYPES: tuple[str, ...] = (DOUYIN_OPEN_ID, MEITUAN_USER_ID, ELEME_USER_ID)

# -- how an identifier joined its person (identity_map.link_kind) ---------------------
DETERMINISTIC = "deterministic"
PROBABILISTIC = "probabilistic"
SINGLETON = "singleton"


@dataclass(frozen=True)
class IdentityConfig:
    """Thresholds of the resolution, each reported in the audit when it fires.

    - `max_partners`: an identifier seen together with more than this many distinct
      identifiers of one type (a store phone typed for walk-ins next to many cards, a
      family card used with many phones) is *shared*: it does not link anything.
    - `max_records_per_day`: an identifier typed on more than this many distinct
      records in one business day is shared too (a store phone on walk-in tickets).
    - `max_cluster_size`: a person with more identifiers than this is over-merged;
      probabilistic links are dropped first, then the busiest identifiers inside.
    - `match_threshold`: minimum splink match probability of a probabilistic link,
      and `match_margin` the factor by which the best candidate's Bayes factor must
      beat the runner-up's, so an ambiguous masked phone links nobody.
    """

    max_partners: int = 3
    max_records_per_day: int = 8
    max_cluster_size: int = 40
    match_threshold: float = 0.95
    match_margin: float = 20.0
    max_split_passes: int = 3
