"""Real-world export faults, each kind on every format (issue 15).

Formats: CSV GBK (`pos_sales`), CSV UTF-8 with BOM (`erp_stores`, `douyin_verifications`),
JSON lines (`mp_members`, `mp_orders`) and XLSX (`meituan_orders`). Each test asserts
the exact value that lands, or the quarantine reason and raw value, and the accounting
(rows read = landed + quarantined) of every file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import polars as pl
from openpyxl import Workbook

from bakehouse import normalize
from bakehouse.config import Settings
from ingestion import ingest
from ingestion.common.jsonl_reader import merge_chunk_notes, read_jsonl
from ingestion.schemas import FEEDS_BY_NAME
from tests.ingestion.conftest import (
    POS_HEADER,
    POS_ROW,
    POS_ROW_2,
    assert_accounting,
    ledger_row,
    read_table,
)

POS = "pos/pos_sales_SH101_20261121.csv"
STORES = "erp/erp_stores_20261121.csv"
VERIFICATIONS = "douyin/douyin_verifications_20261121.csv"
MEMBERS = "miniprogram/mp_members_20261121.jsonl"
ORDERS = "miniprogram/mp_orders_20261121.jsonl"
MEITUAN = "meituan/meituan_orders_20261121.xlsx"

STORES_HEADER = ",".join(FEEDS_BY_NAME["erp_stores"].source_headers)
POS_COLUMNS = FEEDS_BY_NAME["pos_sales"].column_names
MEITUAN_COLUMNS = FEEDS_BY_NAME["meituan_orders"].column_names
MEMBER = {
    "member_id": "U1",
    "card_no": "M7000000001",
    "unionid": "oUn1",
    "openid": "oOp1",
    "phone": "13812345678",
    "name": "郭伟",
    "register_time": "2025-03-15T10:00:00+08:00",
    "register_channel": "MINIPROGRAM",
    "register_store": "HZ201",
    "is_deleted": False,
    "updated_at": "2026-11-21T23:10:00+08:00",
}
ORDER = {
    "order_id": "MP1",
    "created_at": "2026-11-21T09:02:11+08:00",
    "updated_at": "2026-11-21T09:12:44+08:00",
    "status": "PAID",
    "fulfillment": "PICKUP",
    "store_code": "SH001",
    "items": [{"sku": "B0012", "qty": 2}, {"sku": "B0013", "qty": 1}],
    "freight_fen": 0,
    "pay_amount_fen": 2160,
    "refund_amount_fen": 0,
}
MEITUAN_ROW = {
    "order_id": "MT1",
    "meituan_store_id": "MT880101",
    "store_name": "烘焙坊(静安寺店)",
    "ordered_at": "2026-11-21 12:01:33",
    "completed_at": None,
    "status": "已完成",
    "items_raw": "牛角包*1",
    "goods_amount": 21.6,
    "customer_paid": 21.6,
    "merchant_subsidy": 0.0,
    "platform_commission": 0.0,
    "delivery_fee": 0.0,
    "merchant_receivable": 21.6,
    "masked_phone": "尾号5678",
    "masked_address": "上海市**路**号",
    "meituan_user_id": "mt1",
    "refund_amount": 0.0,
}


def pos_row(base: str = POS_ROW, **changes: str) -> str:
    fields = dict(zip(POS_COLUMNS, base.split(","), strict=True))
    return ",".join({**fields, **changes}.values())


def store_row(code: str, mt: str = "", el: str = "", poi: str = "", status: str = "营业") -> str:
    return f"{code},静安寺店,上海,华东,直营,2023-05-01,85,{mt},{el},{poi},,,{status}"


def member(**changes) -> str:
    return json.dumps({**MEMBER, **changes}, ensure_ascii=False)


class Stored(str):
    """An XLSX number cell holding exactly this text in its `<v>` (as exporters write)."""


def meituan_xlsx(*rows: dict, header: list[str] | None = None) -> bytes:
    """A Meituan workbook; `Stored` values become number cells with that stored text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "订单明细"
    sheet.append(["美团外卖订单明细 2026-11-21"])
    sheet.append(header or FEEDS_BY_NAME["meituan_orders"].source_headers)
    for row in rows:
        values = [{**MEITUAN_ROW, **row}[c] for c in MEITUAN_COLUMNS] + row.get("__extra", [])
        sheet.append([f"NUM:{v}" if isinstance(v, Stored) else v for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = re.sub(
                    rb't="inlineStr"><is><t>NUM:([^<]*)</t></is>', rb't="n"><v>\1</v>', content
                )
                content = content.replace(b"SURROGATE", b"_xD800_")
            target.writestr(item, content)
    return out.getvalue()


def bronze(settings: Settings, feed: str) -> pl.DataFrame:
    return read_table(settings, "bronze", feed).sort("source_row")


def quarantined(settings: Settings, feed: str) -> list[tuple[int, str, str, str]]:
    rows = read_table(settings, "quarantine", feed).sort("source_row")
    return list(
        zip(
            rows["source_row"].to_list(),
            rows["reason_code"].to_list(),
            rows["reason_detail"].to_list(),
            rows["raw_line"].to_list(),
            strict=True,
        )
    )


def counts(settings: Settings, file: str) -> tuple[int, int, int]:
    row = ledger_row(settings, file)
    assert row["status"] == "landed", row
    return row["rows_read"], row["rows_landed"], row["rows_quarantined"]


def notes(settings: Settings, file: str) -> list[str]:
    return (ledger_row(settings, file)["notes"] or "").split("; ")


# -- 1. ids stored as numbers lose digits ------------------------------------------------
def test_number_ids_keep_every_digit_and_fractions_are_quarantined(settings, landing) -> None:
    landing(
        POS,
        "\r\n".join(
            [
                POS_HEADER,
                pos_row(ticket_no="3801234567890123456"),
                pos_row(POS_ROW_2, member_card_no="3801234567890123456.0"),
            ]
        )
        + "\r\n",
        encoding="gbk",
    )
    landing(
        STORES,
        "\ufeff"
        + "\n".join(
            [
                STORES_HEADER,
                store_row("SH101", "MT880101", "E20990101", "7100000000000000101"),
                store_row("SH102", "880102.0", "E20990102", "7100000000000000102"),
            ]
        )
        + "\n",
    )
    landing(
        MEMBERS,
        member(member_id=3801234567890123456)
        + "\n"
        + member(member_id="U2", card_no=12345.5)
        + "\n",
    )
    landing(
        MEITUAN,
        meituan_xlsx(
            {"order_id": Stored("3801234567890123456")},
            {"order_id": Stored("3801234567890123499")},
            {"order_id": "MT3", "meituan_store_id": Stored("880101.5")},
        ),
    )
    ingest(settings)

    assert bronze(settings, "pos_sales")["ticket_no"].to_list() == ["3801234567890123456"]
    assert quarantined(settings, "pos_sales") == [
        (
            2,
            "id_not_integer",
            "member_card_no=3801234567890123456.0",
            pos_row(POS_ROW_2, member_card_no="3801234567890123456.0"),
        )
    ]
    assert bronze(settings, "erp_stores")["douyin_poi"].to_list() == ["7100000000000000101"]
    assert quarantined(settings, "erp_stores") == [
        (
            2,
            "id_not_integer",
            "meituan_store_id=880102.0",
            store_row("SH102", "880102.0", "E20990102", "7100000000000000102"),
        )
    ]
    assert bronze(settings, "mp_members")["member_id"].to_list() == ["3801234567890123456"]
    assert quarantined(settings, "mp_members") == [
        (
            2,
            "id_not_integer",
            "card_no=12345.5 (a JSON number, not the id's text)",
            member(member_id="U2", card_no=12345.5),
        )
    ]
    # calamine alone would give 3801234567890122752 for both.
    assert bronze(settings, "meituan_orders")["order_id"].to_list() == [
        "3801234567890123456",
        "3801234567890123499",
    ]
    ((row, reason, detail, raw),) = quarantined(settings, "meituan_orders")
    assert (row, reason, detail) == (3, "id_not_integer", "meituan_store_id=880101.5")
    assert raw.startswith("MT3,880101.5,")
    assert "id_number_cells:3" in notes(settings, MEITUAN)
    for file in (POS, STORES, MEMBERS, MEITUAN):
        assert counts(settings, file) == ((3, 2, 1) if file == MEITUAN else (2, 1, 1))
    assert_accounting(settings)


# -- 2. ids Excel turned into scientific notation ----------------------------------------
def test_scientific_notation_ids_are_quarantined(settings, landing) -> None:
    landing(
        POS,
        "\r\n".join([POS_HEADER, pos_row(voucher_code="4.94078E+11"), POS_ROW_2]) + "\r\n",
        encoding="gbk",
    )
    landing(
        STORES,
        "\ufeff"
        + "\n".join(
            [
                STORES_HEADER,
                store_row("SH101", "MT880101", "E20990101", "7100000000000000101"),
                store_row("SH102", "MT880102", "E20990102", "7.1E+18"),
            ]
        )
        + "\n",
    )
    verification_header = ",".join(FEEDS_BY_NAME["douyin_verifications"].source_headers)
    verification = "4.94078E+11,2026-11-21 10:00:00,7100000000000000101,静安寺店,39.90,37.00,2.90"
    landing(VERIFICATIONS, "\ufeff" + verification_header + "\n" + verification + "\n")
    landing(
        MEMBERS,
        "\n".join(
            [
                '{"member_id": "U1", "card_no": 7.1E+18, "register_time": "2025-03-15T10:00:00",'
                ' "register_channel": "APP", "is_deleted": false, "updated_at": "2026-11-21"}',
                member(member_id="U2", unionid="4.94078E+11"),
                member(member_id="U3"),
            ]
        )
        + "\n",
    )
    landing(
        MEITUAN,
        meituan_xlsx(
            {"order_id": Stored("7.1E+18")},
            {"order_id": "MT2", "meituan_user_id": "4.94078E+11"},
            {"order_id": "MT3"},
        ),
    )
    ingest(settings)

    assert quarantined(settings, "pos_sales") == [
        (
            1,
            "id_scientific_notation",
            "voucher_code=4.94078E+11",
            pos_row(voucher_code="4.94078E+11"),
        )
    ]
    assert quarantined(settings, "erp_stores") == [
        (
            2,
            "id_scientific_notation",
            "douyin_poi=7.1E+18",
            store_row("SH102", "MT880102", "E20990102", "7.1E+18"),
        )
    ]
    assert quarantined(settings, "douyin_verifications") == [
        (1, "id_scientific_notation", "voucher_code=4.94078E+11", verification)
    ]
    members = quarantined(settings, "mp_members")
    assert [(r, reason, detail) for r, reason, detail, _ in members] == [
        (1, "id_scientific_notation", "card_no=7.1E+18 (a JSON number, not the id's text)"),
        (2, "id_scientific_notation", "unionid=4.94078E+11"),
    ]
    assert members[1][3] == member(member_id="U2", unionid="4.94078E+11")
    meituan = quarantined(settings, "meituan_orders")
    assert [(r, reason, detail) for r, reason, detail, _ in meituan] == [
        (1, "id_scientific_notation", "order_id=7.1E+18"),
        (2, "id_scientific_notation", "meituan_user_id=4.94078E+11"),
    ]
    assert meituan[0][3].startswith("7.1E+18,MT880101,")
    assert bronze(settings, "meituan_orders")["order_id"].to_list() == ["MT3"]
    assert bronze(settings, "mp_members")["member_id"].to_list() == ["U3"]
    assert counts(settings, POS) == (2, 1, 1)
    assert counts(settings, STORES) == (2, 1, 1)
    assert counts(settings, VERIFICATIONS) == (1, 0, 1)
    assert counts(settings, MEMBERS) == (3, 1, 2)
    assert counts(settings, MEITUAN) == (3, 1, 2)
    assert_accounting(settings)


# -- 3. invisible characters in keys ------------------------------------------------------
def test_line_boms_are_stripped_and_invisible_characters_noted(settings, landing) -> None:
    gbk_bom = "\ufeff".encode("gb18030")  # what a GBK tool writes for U+FEFF
    landing(
        POS,
        POS_HEADER.encode("gbk")
        + b"\r\n"
        + gbk_bom
        + POS_ROW.encode("gbk")
        + b"\r\n"
        + pos_row(POS_ROW_2, sku="B1002 ").encode("gbk")
        + b"\r\n",
    )
    landing(
        STORES,
        "\ufeff"
        + "\n".join(
            [
                STORES_HEADER,
                "\ufeff" + store_row("HZ202"),
                store_row("HZ203\u00a0"),
                store_row("HZ\u200b204"),
                store_row("HZ205 "),
            ]
        )
        + "\n",
    )
    landing(
        MEMBERS,
        member() + "\n\ufeff" + member(member_id="U2", register_store="HZ201\u200b") + "\n",
    )
    landing(
        MEITUAN,
        meituan_xlsx(
            {"meituan_store_id": "\ufeffMT880101"}, {"meituan_store_id": "MT880102\u00a0"}
        ),
    )
    ingest(settings)

    assert bronze(settings, "pos_sales")["store_code"].to_list() == ["SH101", "SH101"]
    assert bronze(settings, "pos_sales")["sku"].to_list() == ["B1001", "B1002 "]
    assert {"line_boms_stripped:1", "normalisable:1"} <= set(notes(settings, POS))
    assert bronze(settings, "erp_stores")["store_code"].to_list() == [
        "HZ202",
        "HZ203\u00a0",
        "HZ\u200b204",
        "HZ205 ",
    ]
    assert {"line_boms_stripped:1", "normalisable:3"} <= set(notes(settings, STORES))
    assert bronze(settings, "mp_members")["member_id"].to_list() == ["U1", "U2"]
    assert bronze(settings, "mp_members")["register_store"][1] == "HZ201\u200b"
    assert {"line_boms_stripped:1", "normalisable:1"} <= set(notes(settings, MEMBERS))
    assert bronze(settings, "meituan_orders")["meituan_store_id"].to_list() == [
        "\ufeffMT880101",
        "MT880102\u00a0",
    ]
    assert "normalisable:2" in notes(settings, MEITUAN)
    for file, read in ((POS, 2), (STORES, 4), (MEMBERS, 2), (MEITUAN, 2)):
        assert counts(settings, file) == (read, read, 0)
    assert_accounting(settings)


def test_silver_reads_identifiers_in_their_join_form(settings, landing, lake) -> None:
    from transforms.common.bronze import read_bronze

    landing(
        STORES,
        "\ufeff"
        + "\n".join(
            [STORES_HEADER, store_row("HZ203\u00a0", "ＭＴ８８０１０１"), store_row("HZ\u200b204")]
        )
        + "\n",
    )
    landing(MEITUAN, meituan_xlsx({"meituan_store_id": "\ufeffMT880101 "}))
    ingest(settings)
    stores = read_bronze(lake, lake._spark(), "erp_stores").orderBy("source_row").collect()
    assert [(r.store_code, r.meituan_store_id) for r in stores] == [
        ("HZ203", "MT880101"),
        ("HZ204", None),
    ]
    orders = read_bronze(lake, lake._spark(), "meituan_orders").collect()
    assert [r.meituan_store_id for r in orders] == ["MT880101"]


# -- 4. full-width digits in ids ----------------------------------------------------------
def test_full_width_ids_land_raw_and_normalise_to_one_identifier(settings, landing) -> None:
    full_width_phone = "１９８１９９０８６２８"
    landing(
        POS,
        "\r\n".join([POS_HEADER, pos_row(member_phone=full_width_phone)]) + "\r\n",
        encoding="gbk",
    )
    landing(STORES, "\ufeff" + STORES_HEADER + "\n" + store_row("ＨＺ２０２") + "\n")
    landing(MEMBERS, member(phone=full_width_phone) + "\n")
    landing(MEITUAN, meituan_xlsx({"order_id": "３８０１２３４５６７８９０１２３４５６"}))
    ingest(settings)

    assert bronze(settings, "pos_sales")["member_phone"].to_list() == [full_width_phone]
    assert bronze(settings, "erp_stores")["store_code"].to_list() == ["ＨＺ２０２"]
    assert bronze(settings, "mp_members")["phone"].to_list() == [full_width_phone]
    assert bronze(settings, "meituan_orders")["order_id"].to_list() == [
        "３８０１２３４５６７８９０１２３４５６"
    ]
    for file in (POS, STORES, MEMBERS, MEITUAN):
        assert "normalisable:1" in notes(settings, file), file
        assert counts(settings, file) == (1, 1, 0)
    assert normalize.phone(full_width_phone) == "19819908628"
    assert normalize.key_text("ＨＺ２０２") == "HZ202"
    assert normalize.key_text("３８０１２３４５６７８９０１２３４５６") == "3801234567890123456"
    assert_accounting(settings)


# -- 5. repeated keys ---------------------------------------------------------------------
def test_repeated_keys_and_columns_are_duplicate_key(settings, landing) -> None:
    deleted_twice = member().replace(
        '"is_deleted": false', '"is_deleted": false, "is_deleted": true'
    )
    landing(MEMBERS, deleted_twice + "\n" + member(member_id="U2") + "\n")
    status_twice = json.dumps(ORDER).replace(
        '"status": "PAID"', '"status": "PAID", "status": "COMPLETED"'
    )
    landing(ORDERS, status_twice + "\n" + json.dumps({**ORDER, "order_id": "MP2"}) + "\n")
    landing(
        POS,
        "\r\n".join([POS_HEADER + ",单据类型", POS_ROW + ",退货", POS_ROW_2 + ",销售"]) + "\r\n",
        encoding="gbk",
    )
    landing(
        STORES,
        "\ufeff"
        + "\n".join(
            [STORES_HEADER + ",状态", store_row("SH101") + ",停业", store_row("SH102") + ",营业"]
        )
        + "\n",
    )
    header = [*FEEDS_BY_NAME["meituan_orders"].source_headers, "订单状态"]
    landing(
        MEITUAN,
        meituan_xlsx(
            {"__extra": ["已取消"]}, {"order_id": "MT2", "__extra": ["已完成"]}, header=header
        ),
    )
    ingest(settings)

    assert quarantined(settings, "mp_members") == [
        (1, "duplicate_key", "key 'is_deleted' appears twice in one object", deleted_twice)
    ]
    assert quarantined(settings, "mp_orders") == [
        (1, "duplicate_key", "key 'status' appears twice in one object", status_twice)
    ]
    assert bronze(settings, "mp_orders")["order_id"].to_list() == ["MP2"]  # items share keys
    assert quarantined(settings, "pos_sales") == [
        (
            1,
            "duplicate_key",
            "a column appears twice with different values: doc_type: '销售' vs '退货'",
            POS_ROW + ",退货",
        )
    ]
    assert quarantined(settings, "erp_stores") == [
        (
            1,
            "duplicate_key",
            "a column appears twice with different values: status: '营业' vs '停业'",
            store_row("SH101") + ",停业",
        )
    ]
    ((row, reason, detail, raw),) = quarantined(settings, "meituan_orders")
    assert (row, reason) == (1, "duplicate_key")
    assert detail == "a column appears twice with different values: status: '已完成' vs '已取消'"
    assert raw.endswith(",已取消")
    assert bronze(settings, "meituan_orders")["order_id"].to_list() == ["MT2"]
    for file in (MEMBERS, ORDERS, POS, STORES, MEITUAN):
        assert counts(settings, file) == (2, 1, 1), file
    assert_accounting(settings)


# -- 6. text that is not text -------------------------------------------------------------
def test_text_that_is_no_character_is_quarantined(settings, landing) -> None:
    high = member(member_id="U1").replace('"郭伟"', '"郭\\ud800伟"')
    low = member(member_id="U2").replace('"郭伟"', '"郭\\udc00"')
    pair = member(member_id="U3").replace('"郭伟"', '"\\ud83d\\ude00"')  # a real pair: 😀
    landing(MEMBERS, "\n".join([high, low, pair]) + "\n")
    landing(MEITUAN, meituan_xlsx({"items_raw": "牛角包SURROGATE*1"}, {"order_id": "MT2"}))
    landing(
        POS,
        POS_HEADER.encode("gbk")
        + b"\r\n"
        + POS_ROW.encode("gbk").replace(b"C01", b"C\x81\x20")
        + b"\r\n"
        + POS_ROW_2.encode("gbk")
        + b"\r\n",
    )
    landing(
        STORES,
        ("\ufeff" + STORES_HEADER + "\n").encode()
        + store_row("SH101").encode().replace(b"SH101", b"SH\xed\xa0\x80")
        + b"\n"
        + (store_row("SH102") + "\n").encode(),
    )
    ingest(settings)

    members = quarantined(settings, "mp_members")
    assert [(r, reason, raw) for r, reason, _, raw in members] == [
        (1, "bad_text", high),
        (2, "bad_text", low),
    ]
    assert bronze(settings, "mp_members")["name"].to_list() == ["😀"]
    ((row, reason, _, raw),) = quarantined(settings, "meituan_orders")
    assert (row, reason) == (1, "bad_text") and "牛角包_xD800_*1" in raw
    ((row, reason, _, raw),) = quarantined(settings, "pos_sales")
    assert (row, reason) == (1, "bad_encoding") and "C\\x81 " in raw
    ((row, reason, _, raw),) = quarantined(settings, "erp_stores")
    assert (row, reason) == (1, "bad_encoding") and raw.startswith("SH\\xed\\xa0\\x80,")
    assert counts(settings, MEMBERS) == (3, 1, 2)
    for file in (MEITUAN, POS, STORES):
        assert counts(settings, file) == (2, 1, 1), file
    assert_accounting(settings)


# -- one JSON reading: the fast path and the line checker agree ---------------------------
def test_fast_path_and_line_checker_give_the_same_verdicts() -> None:
    feed = FEEDS_BY_NAME["mp_members"]
    lines = [
        member(member_id="U1"),
        member(member_id="U2").replace(
            '"is_deleted": false', '"is_deleted": false, "is_deleted": true'
        ),
        member(member_id="U3").replace('"郭伟"', '"\\ud800"'),
        member(member_id="U4").replace('"郭伟"', '"\\udc00"'),
        member(member_id="U5", card_no=7.1e18).replace("7.1e+18", "7.1E+18"),
        member(member_id="U6", phone="１９８１９９０８６２８"),
        # A repeat whose second value is null, and a key written as an escape.
        member(member_id="U7").replace(
            '"is_deleted": false', '"is_deleted": false, "is_deleted": null'
        ),
        member(member_id="U8")
        .replace('"unionid"', '"\\u0075nionid"')
        .replace('"openid"', '"unionid"'),
    ]
    body = ("\n".join(lines) + "\n").encode()

    def verdicts(raw) -> dict[int, str]:
        landed = {r: "landed" for r in raw.frame["source_row"].to_list()}
        return landed | {r.source_row: r.reason_code for r in raw.rejects}

    expected = {
        1: "landed",
        2: "duplicate_key",
        3: "bad_text",
        4: "bad_text",
        5: "id_scientific_notation",
        6: "landed",
        7: "duplicate_key",
        8: "duplicate_key",
    }
    # polars refuses a line with a low surrogate alone, so the fast path is shown
    # without it; with it (and with a malformed line) the lines are checked one by one.
    fast_lines = [line for i, line in enumerate(lines) if i != 3]
    fast = read_jsonl(feed, ("\n".join(fast_lines) + "\n").encode(), keep_lines=False)
    assert fast.lines_from is not None  # the polars fast path, no raw lines kept
    assert verdicts(fast) == {1: "landed", 2: "duplicate_key", 3: "bad_text"} | {
        4: "id_scientific_notation",
        5: "landed",
        6: "duplicate_key",
        7: "duplicate_key",
    }
    assert verdicts(read_jsonl(feed, body)) == expected
    checked = read_jsonl(feed, body + b'{"member_id": \n')  # a malformed line
    assert verdicts(checked) == expected | {9: "bad_json"}
    for raw in (fast, checked):
        assert "normalisable:1" in raw.notes


def test_streamed_chunks_sum_their_counted_notes() -> None:
    merged = merge_chunk_notes(
        [["line_boms_stripped:1", "normalisable:2"], ["normalisable:3", "bom_stripped"]]
    )
    assert merged == ["bom_stripped", "line_boms_stripped:1", "normalisable:5"]
