"""`bakehouse rekey`: a new key, the same people, the same one_ids and audit history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bakehouse import preflight
from bakehouse.cli import app
from bakehouse.config import Settings
from bakehouse.pii import pseudonym
from bakehouse.rekey import RekeyError, check_keys, rekey
from tests.conftest import TEST_PII_KEY
from tests.transforms.identity.conftest import bronze_table, member, ticket
from transforms.identity.pipeline import run_identity

OLD = TEST_PII_KEY.encode()
NEW = b"the-new-key-after-rotation-0123456789"
NIGHT_1, NIGHT_2 = date(2026, 11, 1), date(2026, 11, 2)
PEOPLE = [
    ("member_id", "U1"),
    ("card_no", "M0000000001"),
    ("phone", "13800000001"),
    ("member_id", "U2"),
    ("card_no", "M0000000002"),
    ("phone", "13900000002"),
    ("member_id", "U3"),
    ("member_id", "U4"),  # first seen on night 2: its one_id was minted from a pseudonym
    ("phone", "15100000004"),
]


def _write_nights(lake, nights: int) -> None:
    members = [
        member("U1", card_no="M0000000001", phone="13800000001", name="张伟"),
        member("U2", card_no="M0000000002", phone="13900000002", name="李娜"),
        member("U3", card_no="M0000000003", phone="13300000003", name="王芳"),
    ]
    tickets = [ticket("SH101", "T1", member_card_no="M0000000001", member_phone="13800000001")]
    if nights == 2:
        members.append(
            member(
                "U4",
                card_no="M0000000004",
                phone="15100000004",
                name="赵敏",
                business_date=NIGHT_2.isoformat(),
            )
        )
        # U2's card at the till with U1's phone: the two merge on night 2.
        tickets.append(
            ticket(
                "SH101",
                "T2",
                member_card_no="M0000000002",
                member_phone="13800000001",
                business_date=NIGHT_2.isoformat(),
                sold_at="2026-11-02T01:30:00+00:00",
            )
        )
    lake.write_arrow(bronze_table("mp_members", members), "bronze", "mp_members", mode="overwrite")
    lake.write_arrow(bronze_table("pos_sales", tickets), "bronze", "pos_sales", mode="overwrite")


def _one_ids(lake, key: bytes) -> dict[tuple[str, str], str]:
    by_hash = {
        (row.id_type, row.id_hash): row.one_id
        for row in lake.read("silver", "identity_map").collect()
    }
    return {(t, v): by_hash.get((t, pseudonym(key, t, v))) for t, v in PEOPLE}


def _audit(lake) -> list[tuple]:
    rows = lake.read("silver", "identity_audit").collect()
    return sorted(
        (r.night, r.event, tuple(r.old_ids or ()), tuple(r.new_ids or ()), r.id_type) for r in rows
    )


@pytest.fixture
def two_nights(lake, settings: Settings):
    _write_nights(lake, 1)
    run_identity(lake, night=NIGHT_1, key=OLD)
    _write_nights(lake, 2)
    run_identity(lake, night=NIGHT_2, key=OLD)
    preflight.record_fingerprint(settings, OLD)
    return lake


@pytest.mark.slow
def test_rekey_keeps_one_ids_and_history_under_the_new_key(two_nights, settings) -> None:
    lake = two_nights
    before_ids, before_audit = _one_ids(lake, OLD), _audit(lake)
    assert None not in before_ids.values()
    assert before_ids[("member_id", "U1")] == before_ids[("member_id", "U2")]  # merged
    assert any(event == "merge" for _, event, *_ in before_audit)

    result = rekey(lake, OLD, NEW)

    assert _one_ids(lake, NEW) == before_ids
    assert _audit(lake) == before_audit
    hashes = {row.id_hash for row in lake.read("silver", "identity_map").collect()}
    assert not hashes & {pseudonym(OLD, t, v) for t, v in PEOPLE}
    members = {row.member_id_hash for row in lake.read("silver", "members").collect()}
    assert pseudonym(NEW, "member_id", "U3") in members
    vault = {row.member_id: row.phone for row in lake.read("silver", "pii_vault").collect()}
    assert vault["U3"] == "13300000003"
    assert preflight.stored_fingerprint(settings) == preflight.key_fingerprint(NEW)
    assert result.night == NIGHT_2
    assert result.identifiers_unmapped == 0
    assert result.rebuild_merges_splits == 0
    assert result.one_ids_kept == result.one_ids_before == len(set(before_ids.values()))
    assert {"identity_map", "members", "pii_vault", "identity_audit"} <= set(result.silver_rebuilt)


def test_rekey_checks_the_keys_before_anything(settings: Settings) -> None:
    preflight.record_fingerprint(settings, OLD)
    with pytest.raises(RekeyError, match=r"^the old key given \(fingerprint .*\) is not the key"):
        check_keys(settings, b"some-other-key", NEW)
    with pytest.raises(RekeyError, match=r"^the configured PII key is the lake's key already"):
        check_keys(settings, OLD, OLD)
    assert check_keys(settings, OLD, NEW) == (
        preflight.key_fingerprint(OLD),
        preflight.key_fingerprint(NEW),
    )


def test_rekey_command_refuses_a_wrong_old_key_in_one_line(
    settings: Settings, tmp_path: Path, monkeypatch
) -> None:
    preflight.record_fingerprint(settings, OLD)
    monkeypatch.setenv("BAKEHOUSE_PII_KEY", NEW.decode())
    wrong = tmp_path / "old.key"
    wrong.write_text("not-the-old-key\n")
    fingerprint = settings.key_fingerprint_file.read_text()
    result = CliRunner().invoke(app, ["rekey", "--old-key-file", str(wrong)])
    assert result.exit_code == 2
    assert result.output.startswith("error: the old key given (fingerprint ")
    assert len(result.output.strip().splitlines()) == 1
    assert settings.key_fingerprint_file.read_text() == fingerprint
