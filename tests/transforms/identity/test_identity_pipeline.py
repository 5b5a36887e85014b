"""OneID end to end on a tiny bronze: edges per source, guards, weak links, outputs.

Night 1 has three members, a store phone typed next to five cards, a Douyin voucher
redeemed on a member's ticket, a WeCom contact, and a Meituan user whose masked phone,
store and city point at member U1. Night 2 adds a new phone to U1, merges two people
through a ticket, and splits a pair that shared a phone once that phone turns out to
be shared by many.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bakehouse.pii import pseudonym
from transforms.identity.config import IdentityConfig
from transforms.identity.pipeline import run_identity

KEY = b"test-key-not-secret-0123456789abcdef"
NIGHT_1 = date(2026, 11, 1)
NIGHT_2 = date(2026, 11, 2)
member = ticket = None  # bound by the autouse fixture below


@pytest.fixture(autouse=True)
def _row_factories(make_member, make_ticket):
    global member, ticket
    member, ticket = make_member, make_ticket


def _night_1() -> dict[str, list[dict[str, Any]]]:
    return {
        "mp_members": [
            member(
                "U1",
                card_no="M0000000001",
                phone="13800000001",
                unionid="oUn1",
                openid="oOp1",
                name="张伟",
            ),
            member(
                "U2",
                card_no="M0000000002",
                phone="13900000002",
                unionid="oUn2",
                openid="oOp2",
                name="李娜",
                register_store="SH102",
            ),
            member("U3", card_no="M0000000003", phone="13300000003", name="王芳"),
            member("U5", card_no="M0000000005", phone="15100000005", name="赵敏"),
        ],
        "pos_sales": [
            ticket("SH101", "T1", member_card_no="M0000000001", member_phone="+86 138-0000-0001"),
            ticket(
                "SH102",
                "T3",
                member_card_no="M0000000002",
                voucher_code="V1",
                payment_method="抖音券",
            ),
            # A store phone typed next to five different cards: shared, links nobody.
            *[
                ticket(
                    "SH101", f"S{i}", member_card_no=f"M100000000{i}", member_phone="13700000000"
                )
                for i in range(5)
            ],
            # Two cards seen with one phone: linked, for now.
            ticket("SH103", "F1", member_card_no="M2000000006", member_phone="13600000006"),
            ticket("SH103", "F2", member_card_no="M2000000007", member_phone="13600000006"),
        ],
        "mp_orders": [
            {
                "order_id": "MP1",
                "member_id": "U2",
                "member_unionid": "oUn2",
                "member_openid": "oOp2b",
                "member_phone": "13900000002",
                "store_code": "SH102",
                "created_at": "2026-11-01T03:00:00+00:00",
            },
        ],
        "wecom_contacts": [
            {
                "external_userid": "wm1",
                "unionid": "oUn1",
                "staff_id": "S1",
                "store_code": "SH101",
                "remark_phone": "138 0000 0001",
            },
            {
                "external_userid": "wm9",
                "unionid": None,
                "staff_id": "S1",
                "store_code": "SH101",
                "remark_phone": "150-0000-0009",
            },
        ],
        "douyin_orders": [
            {
                "order_id": "DY1",
                "voucher_code": "V1",
                "douyin_open_id": "dy1",
                "masked_phone": "139****0002",
                "ordered_at": "2026-11-01T02:00:00+00:00",
                "status": "已核销",
            },
        ],
        "meituan_orders": [
            {
                "order_id": "MT1",
                "meituan_store_id": "MT880101",
                "masked_phone": "138****0001",
                "masked_address": "上海市**路**号",
                "meituan_user_id": "mt1",
                "status": "已完成",
                "ordered_at": "2026-11-01T02:00:00+00:00",
            },
            {
                "order_id": "MT2",
                "meituan_store_id": "MT880103",
                "masked_phone": "尾号7777",
                "masked_address": "杭州市**路**号",
                "meituan_user_id": "mt2",
                "status": "已完成",
                "ordered_at": "2026-11-01T02:00:00+00:00",
            },
        ],
        "eleme_orders": [],
        "erp_stores": [
            {"store_code": "SH101", "city": "上海市", "meituan_store_id": "MT880101"},
            {"store_code": "SH102", "city": "上海市"},
            {"store_code": "SH103", "city": "上海市", "meituan_store_id": "MT880103"},
        ],
    }


def _night_2(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    on_2 = {"business_date": NIGHT_2.isoformat(), "sold_at": "2026-11-02T01:00:00+00:00"}
    tables = {name: list(rows) for name, rows in tables.items()}
    tables["pos_sales"] += [
        # U1 shows a new phone with their card: joins U1, one_id kept.
        ticket("SH101", "N1", member_card_no="M0000000001", member_phone="13800000011", **on_2),
        # U2 only seen again: their rows stay, last_seen moves to night 2.
        ticket("SH102", "N3", member_card_no="M0000000002", **on_2),
        # U5's card with the WeCom-only phone: two people merge.
        ticket("SH101", "N2", member_card_no="M0000000005", member_phone="15000000009", **on_2),
        # 13600000006 now appears with more cards: shared, so M2000000006/7 split apart.
        *[
            ticket(
                "SH103",
                f"G{i}",
                member_card_no=f"M300000000{i}",
                member_phone="13600000006",
                **on_2,
            )
            for i in range(3)
        ],
    ]
    return tables


def _write(write_bronze, tables):
    for name, rows in tables.items():
        write_bronze(name, rows)


def _one_ids(lake) -> dict[tuple[str, str], str]:
    return {
        (row.id_type, row.id_hash): row.one_id
        for row in lake.read("silver", "identity_map").collect()
    }


def _id(id_type: str, value: str) -> tuple[str, str]:
    return (id_type, pseudonym(KEY, id_type, value))


@pytest.fixture
def night_1(lake, write_bronze):
    _write(write_bronze, _night_1())
    summary = run_identity(lake, night=NIGHT_1, key=KEY)
    return summary


def test_deterministic_edges_from_each_source(lake, night_1):
    ids = _one_ids(lake)
    u1 = ids[_id("member_id", "U1")]
    for id_type, value in [
        ("card_no", "M0000000001"),
        ("phone", "13800000001"),
        ("unionid", "oUn1"),
        ("openid", "oOp1"),
        ("wecom_external_id", "wm1"),
    ]:
        assert ids[_id(id_type, value)] == u1, (id_type, value)
    u2 = ids[_id("member_id", "U2")]
    # mp order adds a second openid; the Douyin voucher redeemed on U2's ticket adds dy1.
    assert ids[_id("openid", "oOp2b")] == u2
    assert ids[_id("douyin_open_id", "dy1")] == u2
    assert ids[_id("wecom_external_id", "wm9")] == ids[_id("phone", "15000000009")]
    assert len({u1, u2, ids[_id("member_id", "U3")]}) == 3


def test_shared_store_phone_links_nobody_and_is_audited(lake, night_1):
    ids = _one_ids(lake)
    assert _id("phone", "13700000000") not in ids
    cards = {ids[_id("card_no", f"M100000000{i}")] for i in range(5)}
    assert len(cards) == 5
    audit = lake.read("silver", "identity_audit").collect()
    shared = [r for r in audit if r.event == "shared_by_partners"]
    assert [r.id_hash for r in shared] == [pseudonym(KEY, "phone", "13700000000")]
    assert night_1.shared_identifiers == 1


def test_probabilistic_edge_on_masked_phone_store_and_city(lake, night_1):
    rows = {(r.id_type, r.id_hash): r for r in lake.read("silver", "identity_map").collect()}
    meituan = rows[_id("meituan_user_id", "mt1")]
    assert meituan.one_id == rows[_id("member_id", "U1")].one_id
    assert meituan.link_kind == "probabilistic"
    # A tail-only masked phone matching nobody stays a person of its own.
    assert rows[_id("meituan_user_id", "mt2")].link_kind == "singleton"
    assert (night_1.probabilistic_links, night_1.weak_left_alone) == (1, 1)  # mt1; mt2


def test_members_are_pseudonymised_and_vault_holds_clear_data(lake, night_1):
    ids = _one_ids(lake)
    u1 = ids[_id("member_id", "U1")]
    members = {r.one_id: r for r in lake.read("silver", "members").collect()}
    assert members[u1].masked_phone == "138****0001"
    assert members[u1].masked_name == "张*"
    assert members[u1].birth_year == 1990
    assert members[u1].member_id_hash == pseudonym(KEY, "member_id", "U1")
    vault = {r.one_id: r for r in lake.read("silver", "pii_vault").collect()}
    assert (vault[u1].phone, vault[u1].name, vault[u1].unionid) == ("13800000001", "张伟", "oUn1")
    assert not vault[u1].is_erased


def test_ids_are_stable_and_merges_and_splits_are_audited(lake, write_bronze, night_1):
    before = _one_ids(lake)
    f6, f7 = before[_id("card_no", "M2000000006")], before[_id("card_no", "M2000000007")]
    assert f6 == f7
    _write(write_bronze, _night_2(_night_1()))
    summary = run_identity(lake, night=NIGHT_2, key=KEY)
    after = _one_ids(lake)

    u1 = before[_id("member_id", "U1")]
    assert after[_id("member_id", "U1")] == u1
    assert after[_id("phone", "13800000011")] == u1
    for unchanged in [("member_id", "U2"), ("member_id", "U3")]:
        assert after[_id(*unchanged)] == before[_id(*unchanged)]

    merged = after[_id("member_id", "U5")]
    assert merged == after[_id("wecom_external_id", "wm9")]
    old_pair = sorted({before[_id("member_id", "U5")], before[_id("wecom_external_id", "wm9")]})
    assert merged in old_pair

    assert after[_id("card_no", "M2000000006")] != after[_id("card_no", "M2000000007")]
    assert f6 in {after[_id("card_no", "M2000000006")], after[_id("card_no", "M2000000007")]}

    audit = [r for r in lake.read("silver", "identity_audit").collect() if r.night == NIGHT_2]
    merges = [r for r in audit if r.event == "merge"]
    splits = [r for r in audit if r.event == "split"]
    assert [sorted(r.old_ids) for r in merges] == [old_pair]
    assert [r.new_ids for r in merges] == [[merged]]
    assert [r.old_ids for r in splits] == [[f6]]
    assert sorted(splits[0].new_ids) == sorted(
        {after[_id("card_no", "M2000000006")], after[_id("card_no", "M2000000007")]}
    )
    assert (summary.merges, summary.splits) == (1, 1)
    # Re-running the night replaces its audit rows instead of adding to them.
    run_identity(lake, night=NIGHT_2, key=KEY)
    again = [r for r in lake.read("silver", "identity_audit").collect() if r.night == NIGHT_2]
    assert len(again) == len(audit)


def test_cluster_size_cap_splits_and_reports(lake, write_bronze):
    # A chain of cards and phones that each look personal but join 12 identifiers.
    rows = [
        ticket("SH101", f"C{i}", member_card_no=f"M40000000{i:02d}", member_phone=f"1350000{i:04d}")
        for i in range(6)
    ] + [
        ticket(
            "SH101", f"D{i}", member_card_no=f"M40000000{i + 1:02d}", member_phone=f"1350000{i:04d}"
        )
        for i in range(5)
    ]
    write_bronze("pos_sales", rows)
    config = IdentityConfig(max_cluster_size=5)
    summary = run_identity(lake, night=NIGHT_1, key=KEY, config=config)
    sizes: dict[str, int] = {}
    for row in lake.read("silver", "identity_map").collect():
        sizes[row.one_id] = sizes.get(row.one_id, 0) + 1
    assert max(sizes.values()) <= 5
    assert summary.size_cap_splits >= 1
    events = {r.event for r in lake.read("silver", "identity_audit").collect()}
    assert {"size_cap_split", "cluster_size_cap"} <= events


def test_erasure_keeps_only_pseudonyms(lake, write_bronze, night_1):
    tables = _night_1()
    tables["mp_members"].append(
        member(
            "U3",
            card_no="M0000000003",
            phone="13300000003",
            name="王芳",
            is_deleted=True,
            updated_at="2026-11-02T15:00:00+00:00",
            business_date=NIGHT_2.isoformat(),
        )
    )
    _write(write_bronze, tables)
    summary = run_identity(lake, night=NIGHT_2, key=KEY)
    u3 = _one_ids(lake)[_id("member_id", "U3")]
    vault = {r.one_id: r for r in lake.read("silver", "pii_vault").collect()}
    erased = vault[u3]
    assert erased.is_erased and erased.erased_at is not None
    assert (erased.phone, erased.name, erased.unionid, erased.openid, erased.member_id) == (
        None,
        None,
        None,
        None,
        None,
    )
    profile = next(r for r in lake.read("silver", "members").collect() if r.one_id == u3)
    assert profile.is_deleted
    assert (profile.masked_phone, profile.masked_name, profile.birth_year) == (None, None, None)
    assert profile.member_id_hash == pseudonym(KEY, "member_id", "U3")
    assert summary.erased == 1
    # No older version of the vault still holds the erased phone.
    assert lake.version("silver", "pii_vault") >= 1
    old = lake.read("silver", "pii_vault", version=0) if _readable_v0(lake) else None
    assert old is None or all(r.phone != "13300000003" for r in old.collect())


def _readable_v0(lake) -> bool:
    try:
        lake.read("silver", "pii_vault", version=0).collect()
    except Exception:
        return False
    return True


def _people(lake) -> set[frozenset[tuple[str, str]]]:
    """The map as a partition of identifiers into people (one_id labels ignored)."""
    people: dict[str, set[tuple[str, str]]] = {}
    for row in lake.read("silver", "identity_map").collect():
        people.setdefault(row.one_id, set()).add((row.id_type, row.id_hash))
    return {frozenset(ids) for ids in people.values()}


def test_a_night_reads_only_new_files_and_equals_a_full_rebuild(lake, write_bronze, night_1):
    assert night_1.mode == "full"
    _write(write_bronze, _night_2(_night_1()))
    night = run_identity(lake, night=NIGHT_2, key=KEY)
    assert night.mode == "incremental"
    assert night.files == 1  # only the new POS file of NIGHT_2
    # Only the people whose identifiers changed were re-resolved, not the whole map;
    # U2, only seen again, kept their rows with last_seen moved on.
    assert 0 < night.affected_identifiers < night.identifiers
    u2 = next(
        r
        for r in lake.read("silver", "identity_map").collect()
        if (r.id_type, r.id_hash) == _id("card_no", "M0000000002")
    )
    assert (u2.last_seen, u2.night) == (NIGHT_2, NIGHT_1)
    incremental = (_people(lake), _map_rows(lake))
    members = _member_rows(lake)

    again = run_identity(lake, night=NIGHT_2, key=KEY)
    assert (again.mode, again.files) == ("noop", 0)

    full = run_identity(lake, night=NIGHT_2, key=KEY, full=True)
    assert full.mode == "full"
    assert _people(lake) == incremental[0]
    # The full rebuild compares with night 1's map, so it keeps the same one_ids, and
    # first/last seen and how each identifier was linked agree too.
    assert _map_rows(lake) == incremental[1]
    assert _member_rows(lake) == members


def _map_rows(lake) -> dict[tuple[str, str], tuple]:
    return {
        (r.id_type, r.id_hash): (r.one_id, r.node, r.first_seen, r.last_seen, r.link_kind)
        for r in lake.read("silver", "identity_map").collect()
    }


def _member_rows(lake) -> dict[str, tuple]:
    return {
        r.one_id: (r.identifier_count, r.first_seen, r.last_seen, r.masked_phone, r.is_member)
        for r in lake.read("silver", "members").collect()
    }


def test_a_full_rebuild_forgets_identifiers_bronze_no_longer_has(lake, write_bronze, night_1):
    assert _id("card_no", "M2000000007") in _one_ids(lake)
    tables = _night_1()
    tables["pos_sales"] = [r for r in tables["pos_sales"] if r["ticket_no"] != "F2"]
    _write(write_bronze, tables)  # as if a re-export dropped the ticket
    before = _one_ids(lake)
    run_identity(lake, night=NIGHT_1, key=KEY, full=True)
    after = _one_ids(lake)
    assert _id("card_no", "M2000000007") not in after
    assert set(after) == set(before) - {_id("card_no", "M2000000007")}
    assert all(after[k] == before[k] for k in after)
