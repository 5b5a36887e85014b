"""Nightly OneID equals one full rebuild, whatever order the files arrive in.

Eight landing files (CRM, POS, Meituan, Douyin orders and redemptions, Ele.me) hold
four people whose links depend on order: a Meituan user whose phone appears in a
later file, a Douyin buyer first linked weakly and later tied by a voucher ticket
(read before or after the order), a masked phone shared by two phones where the
right one may come last, an Ele.me user whose phone is first seen after its order.
Any split of the files over nights, in any order, must give the people (the
partition of identifiers) and the labels of one full rebuild, for one version of the
weak model's parameters.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from bakehouse.lake import Lake
from transforms.identity.config import PROBABILISTIC, SINGLETON
from transforms.identity.linkage import WeakModel
from transforms.identity.pipeline import load_model, run_identity, save_model

from .conftest import bronze_table, member, ticket

KEY = b"test-key-not-secret-0123456789abcdef"
DAY_1 = date(2026, 11, 1)
MODEL = WeakModel(version=1, prior=0.5 / 200_000, phones=200_000, estimated_on=DAY_1)
STORES = [
    {
        "store_code": "SH101",
        "city": "上海市",
        "meituan_store_id": "MT101",
        "eleme_store_id": "EL101",
    },
    {"store_code": "SH102", "city": "上海市", "meituan_store_id": "MT102", "douyin_poi": "DY102"},
    {"store_code": "SH105", "city": "杭州市", "meituan_store_id": "MT105"},
]


def _day(n: int) -> str:
    return (DAY_1 + timedelta(days=n - 1)).isoformat()


def _at(n: int, hour: int = 4) -> str:
    return f"{_day(n)}T{hour:02d}:00:00+00:00"


def _files() -> list[tuple[str, list[dict[str, Any]]]]:
    """(bronze table, rows) per landing file; each file has its own business date."""
    pos = {"payment_method": "微信"}
    return [
        (
            "mp_members",
            [
                member("U1", card_no="M0000000001", phone="13800000001", business_date=_day(1)),
                member(
                    "U2",
                    card_no="M0000000002",
                    phone="13900000002",
                    register_store="SH102",
                    business_date=_day(1),
                ),
            ],
        ),
        (
            "pos_sales",
            [
                ticket(
                    "SH101",
                    "T1",
                    member_card_no="M0000000001",
                    member_phone="13800000001",
                    sold_at=_at(2),
                    business_date=_day(2),
                    **pos,
                )
            ],
        ),
        (
            "meituan_orders",
            [
                {
                    "order_id": "MT1",
                    "meituan_store_id": "MT101",
                    "masked_phone": "138****0001",
                    "masked_address": "上海市**路**号",
                    "meituan_user_id": "mt1",
                    "status": "已完成",
                    "ordered_at": _at(3),
                    "business_date": _day(3),
                },
                {
                    "order_id": "MT6",
                    "meituan_store_id": "MT102",
                    "masked_phone": "136****0006",
                    "masked_address": "上海市**路**号",
                    "meituan_user_id": "mt6",
                    "status": "已完成",
                    "ordered_at": _at(3),
                    "business_date": _day(3),
                },
            ],
        ),
        (
            "pos_sales",
            [
                ticket(
                    "SH102",
                    "T3",
                    member_card_no="M0000000002",
                    voucher_code="V1",
                    payment_method="抖音券",
                    sold_at=_at(4),
                    business_date=_day(4),
                ),
                # Phone A of the masked 136****0006, at the Meituan user's store.
                ticket(
                    "SH102",
                    "T6A",
                    member_card_no="M0000000066",
                    member_phone="13611110006",
                    sold_at=_at(4),
                    business_date=_day(4),
                    **pos,
                ),
            ],
        ),
        (
            "douyin_orders",
            [
                {
                    "order_id": "DY1",
                    "voucher_code": "V1",
                    "douyin_open_id": "dy1",
                    "masked_phone": "139****0002",
                    "ordered_at": _at(5),
                    "status": "已核销",
                    "business_date": _day(5),
                }
            ],
        ),
        (
            "douyin_verifications",
            [
                {
                    "voucher_code": "V1",
                    "douyin_poi": "DY102",
                    "redeemed_at": _at(6),
                    "business_date": _day(6),
                }
            ],
        ),
        (
            "pos_sales",
            [
                # Phone B of the same mask, in another city.
                ticket(
                    "SH105",
                    "T6B",
                    member_card_no="M0000000077",
                    member_phone="13622220006",
                    sold_at=_at(7),
                    business_date=_day(7),
                    **pos,
                ),
                ticket(
                    "SH101",
                    "T5",
                    member_card_no="M0000000005",
                    member_phone="15100000005",
                    sold_at=_at(7),
                    business_date=_day(7),
                    **pos,
                ),
            ],
        ),
        (
            "eleme_orders",
            [
                {
                    "order_id": "EL5",
                    "eleme_store_id": "EL101",
                    "masked_phone": "151****0005",
                    "eleme_user_id": "el5",
                    "status": "已完成",
                    "ordered_at": _at(8),
                    "business_date": _day(8),
                }
            ],
        ),
    ]


def _land(lake: Lake, files: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """Bronze holds exactly these files (and the store master)."""
    tables: dict[str, list[dict[str, Any]]] = {"erp_stores": STORES}
    for table, rows in files:
        tables.setdefault(table, []).extend(rows)
    for table, rows in tables.items():
        lake.write_arrow(bronze_table(table, rows), "bronze", table, mode="overwrite")


def _people(lake: Lake) -> tuple[frozenset, dict]:
    """The partition of identifiers into people, and each identifier's label."""
    groups: dict[str, set] = {}
    labels = {}
    for row in lake.read("silver", "identity_map").collect():
        groups.setdefault(row.one_id, set()).add((row.id_type, row.id_hash))
        labels[(row.id_type, row.id_hash)] = row.link_kind
    members = {row.one_id for row in lake.read("silver", "members").collect()}
    assert members == set(groups)  # every person has their members row, no other
    return frozenset(frozenset(ids) for ids in groups.values()), labels


def _nightly(lake: Lake, order: list[int], cuts: list[int]) -> tuple[frozenset, dict]:
    files = _files()
    save_model(lake, MODEL)
    arrived: list[int] = []
    for night, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(order)], strict=True)):
        arrived += order[start:end]
        _land(lake, [files[i] for i in sorted(arrived)])
        run_identity(lake, night=DAY_1 + timedelta(days=20 + night), key=KEY)
    return _people(lake)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, spark) -> tuple[frozenset, dict]:
    """One full rebuild of every file at once, with the same model version."""
    from bakehouse.config import Settings

    settings = Settings(home=tmp_path_factory.mktemp("reference") / "bakehouse")
    settings.ensure_dirs()
    lake = Lake(settings, spark)
    save_model(lake, MODEL)
    _land(lake, _files())
    summary = run_identity(lake, night=DAY_1 + timedelta(days=30), key=KEY, full=True, refit=False)
    assert summary.model_version == 1
    return _people(lake)


def _id(kind: str, value: str) -> tuple[str, str]:
    from bakehouse.pii import pseudonym

    return (kind, pseudonym(KEY, kind, value))


def test_the_reference_links_each_weak_id_to_the_right_person(reference):
    people, labels = reference
    person = {ident: group for group in people for ident in group}
    assert _id("meituan_user_id", "mt1") in person[_id("phone", "13800000001")]
    assert _id("meituan_user_id", "mt6") in person[_id("phone", "13611110006")]
    assert _id("meituan_user_id", "mt6") not in person[_id("phone", "13622220006")]
    assert _id("eleme_user_id", "el5") in person[_id("phone", "15100000005")]
    assert _id("douyin_open_id", "dy1") in person[_id("card_no", "M0000000002")]
    assert labels[_id("douyin_open_id", "dy1")] == "deterministic"  # the voucher ticket
    assert labels[_id("meituan_user_id", "mt6")] == PROBABILISTIC
    assert labels[_id("eleme_user_id", "el5")] == PROBABILISTIC
    assert len(people) == 5  # U1, U2, the people of phone A, phone B and the 151 phone


def test_a_multi_identifier_person_has_no_singleton(reference):
    people, labels = reference
    for group in people:
        if len(group) > 1:
            assert all(labels[ident] != SINGLETON for ident in group), group


@pytest.mark.parametrize(
    ("order", "cuts"),
    [
        # Latest first, one or two files a night: every link is made before its evidence
        # is complete, the voucher ticket is read before its order, phone B before A.
        ([7, 6, 5, 4, 3, 2, 1, 0], [2, 3, 5, 6]),
        # Platform orders first, then the people they belong to.
        ([2, 4, 7, 5, 0, 3, 1, 6], [3, 5]),
        # The voucher ticket a night before its Douyin order, the redemption after it.
        ([3, 0, 1, 4, 2, 5, 6, 7], [3, 5]),
    ],
)
def test_nightly_equals_the_full_rebuild_for_adversarial_orders(lake, reference, order, cuts):
    assert _nightly(lake, order, cuts) == reference
    assert load_model(lake).version == 1  # nights never re-estimate


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_nightly_equals_the_full_rebuild_for_random_orders_and_splits(lake, reference, seed):
    rng = random.Random(seed)
    order = list(range(len(_files())))
    rng.shuffle(order)
    nights = rng.randint(2, 4)
    cuts = sorted(rng.sample(range(1, len(order)), nights - 1))
    assert _nightly(lake, order, cuts) == reference
    # And the lake's own full rebuild, with the same version, agrees too.
    run_identity(lake, key=KEY, full=True, refit=False)
    assert _people(lake) == reference
