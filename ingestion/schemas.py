"""The contract between the landing files and bronze: one `Feed` per file kind.

Each feed names its source system, the file-name pattern, the encoding and format the
source exports in (docs: ../shared/specs/source-extracts.md), and the columns: the
source's (Chinese) header, the bronze (English snake_case) name and the bronze type.
Bronze tables carry these columns plus the lineage columns in `LINEAGE_COLUMNS`.

Types are strings understood by `ingestion.common` ("string", "int", "decimal(18,2)",
"decimal(12,3)", "date", "timestamp", "bool", and "json" for a nested value kept as
its JSON text). Timestamps are stored as UTC instants; times without an offset are
read as Asia/Shanghai local time. Money is yuan decimal(18,2) in CSV/XLSX feeds and
integer fen in JSON feeds, exactly as the source sends it: silver converts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MONEY = "decimal(18,2)"
QTY = "decimal(12,3)"
RATE = "decimal(9,4)"


@dataclass(frozen=True)
class Column:
    source: str
    name: str
    type: str = "string"
    required: bool = True
    # An identifier (order id, 券码, platform store id, POI, user id, phone, card, SKU):
    # read as text from every format, exactly as the file holds it; a number-shaped
    # damage (`7.1E+18`, `3801234567890123456.0`) quarantines the row (`casting`).
    identifier: bool = False


@dataclass(frozen=True)
class Feed:
    """One kind of landing file and the bronze table it lands in."""

    name: str  # bronze table name, also the quarantine table name
    source: str  # source system = landing sub-folder = code folder
    pattern: str  # regex on the file name; group `d` is the yyyymmdd or yyyymm date
    format: str  # csv | jsonl | xlsx
    encoding: str  # declared encoding of the export
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...] = ()
    sheet: str | None = None  # xlsx: the sheet to read
    header_row: int = 1  # xlsx: 1-based row of the header (row 1 is a title on Meituan)
    snapshot: bool = False  # master data: every file is a full snapshot
    monthly: bool = False  # file date is yyyymm
    # When files are expected (ingestion.completeness): "daily" one file per business
    # date, "per_store_daily" one per open store per date, "monthly" one per month (due
    # with the month's first business date). Files may arrive up to 3 days late.
    arrival: str = "daily"
    description: str = ""
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern))

    def match(self, file_name: str) -> re.Match[str] | None:
        return self._regex.fullmatch(file_name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def source_headers(self) -> list[str]:
        return [c.source for c in self.columns]

    @property
    def identifier_names(self) -> list[str]:
        """Bronze names of the columns the contract marks as identifiers."""
        return [c.name for c in self.columns if c.identifier]


# Lineage columns on every bronze row (name, type).
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("business_date", "date"),  # the date the file is for (from its name)
    ("source_file", "string"),  # path relative to landing/, e.g. pos/pos_sales_SH001_20261121.csv
    ("file_sha256", "string"),
    ("source_row", "int"),  # 1-based data row number within the file (header excluded)
    ("ingested_at", "timestamp"),
    ("batch_id", "string"),
)

_D8 = r"(?P<d>\d{8})"

FEEDS: tuple[Feed, ...] = (
    Feed(
        name="pos_sales",
        source="pos",
        pattern=rf"pos_sales_(?P<store>[A-Za-z0-9]+)_{_D8}\.csv",
        format="csv",
        encoding="gbk",
        arrival="per_store_daily",
        partition_by=("business_date",),
        description="Store till ticket lines, one file per store per day.",
        columns=(
            Column("门店编码", "store_code", identifier=True),
            Column("门店名称", "store_name"),
            Column("小票号", "ticket_no", identifier=True),
            Column("单据类型", "doc_type"),
            Column("原小票号", "original_ticket_no", identifier=True),
            Column("销售时间", "sold_at", "timestamp"),
            Column("收银员", "cashier_id", identifier=True),
            Column("会员卡号", "member_card_no", identifier=True),
            Column("会员手机号", "member_phone", identifier=True),
            Column("行号", "line_no", "int"),
            Column("商品编码", "sku", identifier=True),
            Column("商品名称", "product_name"),
            Column("数量", "qty", QTY),
            Column("单价", "unit_price", MONEY),
            Column("折扣金额", "discount_amount", MONEY),
            Column("实收金额", "received_amount", MONEY),
            Column("支付方式", "payment_method"),
            Column("券码", "voucher_code", identifier=True),
        ),
    ),
    Feed(
        name="mp_orders",
        source="miniprogram",
        pattern=rf"mp_orders_{_D8}\.jsonl",
        format="jsonl",
        encoding="utf-8",
        partition_by=("business_date",),
        description="Mini-program order change records; the latest updated_at wins.",
        columns=(
            Column("order_id", "order_id", identifier=True),
            Column("created_at", "created_at", "timestamp"),
            Column("updated_at", "updated_at", "timestamp"),
            Column("status", "status"),
            Column("fulfillment", "fulfillment"),
            Column("store_code", "store_code", identifier=True),
            Column("member.member_id", "member_id", required=False, identifier=True),
            Column("member.unionid", "member_unionid", required=False, identifier=True),
            Column("member.openid", "member_openid", required=False, identifier=True),
            Column("member.phone", "member_phone", required=False, identifier=True),
            Column("items", "items_json", "json"),
            Column("coupon_ids", "coupon_ids_json", "json", required=False),
            Column("freight_fen", "freight_fen", "int"),
            Column("pay_amount_fen", "pay_amount_fen", "int"),
            Column("refund_amount_fen", "refund_amount_fen", "int"),
            Column("points_used", "points_used", "int", required=False),
        ),
    ),
    Feed(
        name="mp_members",
        source="miniprogram",
        pattern=rf"mp_members_{_D8}\.jsonl",
        format="jsonl",
        encoding="utf-8",
        description="CRM members created or changed that day (upsert by member_id).",
        columns=(
            Column("member_id", "member_id", identifier=True),
            Column("card_no", "card_no", required=False, identifier=True),
            Column("unionid", "unionid", required=False, identifier=True),
            Column("openid", "openid", required=False, identifier=True),
            Column("phone", "phone", required=False, identifier=True),
            Column("name", "name", required=False),
            Column("gender", "gender", required=False),
            Column("birthday", "birthday", "date", required=False),
            Column("register_time", "registered_at", "timestamp"),
            Column("register_channel", "register_channel"),
            Column("register_store", "register_store", required=False, identifier=True),
            Column("level", "level", required=False),
            Column("points_balance", "points_balance", "int", required=False),
            Column("marketing_consent", "marketing_consent", "bool", required=False),
            Column("consent_updated_at", "consent_updated_at", "timestamp", required=False),
            Column("is_deleted", "is_deleted", "bool"),
            Column("updated_at", "updated_at", "timestamp"),
        ),
    ),
    Feed(
        name="wecom_contacts",
        source="wecom",
        pattern=rf"wecom_contacts_{_D8}\.jsonl",
        format="jsonl",
        encoding="utf-8",
        description="Customers added as WeCom contacts by store staff.",
        columns=(
            Column("external_userid", "external_userid", identifier=True),
            Column("unionid", "unionid", required=False, identifier=True),
            Column("staff_id", "staff_id", identifier=True),
            Column("store_code", "store_code", identifier=True),
            Column("add_time", "added_at", "timestamp"),
            Column("remark_phone", "remark_phone", required=False, identifier=True),
            Column("tags", "tags_json", "json", required=False),
            Column("deleted_at", "deleted_at", "timestamp", required=False),
        ),
    ),
    Feed(
        name="douyin_orders",
        source="douyin",
        pattern=rf"douyin_orders_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        description="Douyin group-buy vouchers sold, one row per voucher.",
        columns=(
            Column("订单编号", "order_id", identifier=True),
            Column("商品ID", "douyin_product_id", identifier=True),
            Column("商品名称", "product_title"),
            Column("券码", "voucher_code", identifier=True),
            Column("售价", "list_price", MONEY),
            Column("实付金额", "paid_amount", MONEY),
            Column("平台补贴", "platform_subsidy", MONEY),
            Column("达人昵称", "host_nickname"),
            Column("达人佣金", "host_commission", MONEY),
            Column("下单时间", "ordered_at", "timestamp"),
            Column("用户ID", "douyin_open_id", identifier=True),
            Column("手机号", "masked_phone"),
            Column("订单状态", "status"),
        ),
    ),
    Feed(
        name="douyin_verifications",
        source="douyin",
        pattern=rf"douyin_verifications_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        description="Douyin vouchers redeemed in stores.",
        columns=(
            Column("券码", "voucher_code", identifier=True),
            Column("核销时间", "redeemed_at", "timestamp"),
            Column("核销门店POI", "douyin_poi", identifier=True),
            Column("核销门店名称", "poi_name"),
            Column("核销金额", "redeemed_amount", MONEY),
            Column("商家应得", "merchant_amount", MONEY),
            Column("平台服务费", "platform_fee", MONEY),
        ),
    ),
    Feed(
        name="meituan_orders",
        source="meituan",
        pattern=rf"meituan_orders_{_D8}\.xlsx",
        format="xlsx",
        encoding="xlsx",
        sheet="订单明细",
        header_row=2,
        description="Meituan delivery orders; items kept as Meituan's raw item string.",
        columns=(
            Column("订单号", "order_id", identifier=True),
            Column("美团门店ID", "meituan_store_id", identifier=True),
            Column("门店名称", "store_name"),
            Column("下单时间", "ordered_at", "timestamp"),
            Column("完成时间", "completed_at", "timestamp", required=False),
            Column("订单状态", "status"),
            Column("商品", "items_raw"),
            Column("商品原价", "goods_amount", MONEY),
            Column("用户实付", "customer_paid", MONEY),
            Column("商家活动补贴", "merchant_subsidy", MONEY),
            Column("平台佣金", "platform_commission", MONEY),
            Column("配送费", "delivery_fee", MONEY),
            Column("商家应收", "merchant_receivable", MONEY),
            Column("顾客电话", "masked_phone"),
            Column("收货地址", "masked_address"),
            Column("用户ID", "meituan_user_id", identifier=True),
            Column("退款金额", "refund_amount", MONEY),
        ),
    ),
    Feed(
        name="eleme_orders",
        source="eleme",
        pattern=rf"eleme_orders_{_D8}\.csv",
        format="csv",
        encoding="utf-8",
        description="Ele.me delivery orders; items kept as the raw JSON cell.",
        columns=(
            Column("订单编号", "order_id", identifier=True),
            Column("饿了么店铺ID", "eleme_store_id", identifier=True),
            Column("下单时间", "ordered_at", "timestamp"),
            Column("订单状态", "status"),
            Column("商品信息", "items_raw"),
            Column("订单总价", "goods_amount", MONEY),
            Column("顾客实付", "customer_paid", MONEY),
            Column("商户补贴", "merchant_subsidy", MONEY),
            Column("平台服务费", "platform_commission", MONEY),
            Column("配送费", "delivery_fee", MONEY),
            Column("商户实收", "merchant_receivable", MONEY),
            Column("顾客手机号", "masked_phone"),
            Column("顾客ID", "eleme_user_id", identifier=True),
            Column("退款金额", "refund_amount", MONEY),
        ),
    ),
    Feed(
        name="erp_stores",
        source="erp",
        pattern=rf"erp_stores_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        snapshot=True,
        description="Store master snapshot; the only map from platform store ids to codes.",
        columns=(
            Column("门店编码", "store_code", identifier=True),
            Column("门店名称", "store_name"),
            Column("城市", "city"),
            Column("区域", "region"),
            Column("门店类型", "store_type"),
            Column("开业日期", "opened_on", "date"),
            Column("营业面积", "floor_area_sqm", "decimal(10,1)"),
            Column("美团门店ID", "meituan_store_id", identifier=True),
            Column("饿了么店铺ID", "eleme_store_id", identifier=True),
            Column("抖音POI", "douyin_poi", identifier=True),
            Column("加盟商编码", "franchisee_code", identifier=True),
            Column("特许权使用费率", "royalty_rate", RATE),
            Column("状态", "status"),
        ),
    ),
    Feed(
        name="erp_products",
        source="erp",
        pattern=rf"erp_products_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        snapshot=True,
        description="Product master snapshot with platform product names.",
        columns=(
            Column("商品编码", "sku", identifier=True),
            Column("商品名称", "product_name"),
            Column("大类", "category"),
            Column("小类", "subcategory"),
            Column("规格", "spec"),
            Column("零售价", "retail_price", MONEY),
            Column("标准成本", "standard_cost", MONEY),
            Column("保质期小时", "shelf_life_hours", "int"),
            Column("是否现烤", "is_baked_in_store"),
            Column("上市日期", "launched_on", "date"),
            Column("下市日期", "delisted_on", "date"),
            Column("美团商品名", "meituan_name"),
            Column("饿了么商品名", "eleme_name"),
            Column("抖音商品ID", "douyin_product_id", identifier=True),
        ),
    ),
    Feed(
        name="erp_inventory",
        source="erp",
        pattern=rf"erp_inventory_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        partition_by=("business_date",),
        description="Daily stock movements per store and SKU, with waste and its reason.",
        columns=(
            Column("日期", "stock_date", "date"),
            Column("门店编码", "store_code", identifier=True),
            Column("商品编码", "sku", identifier=True),
            Column("期初库存", "opening_qty", QTY),
            Column("配送入库", "delivered_qty", QTY),
            Column("现烤生产", "baked_qty", QTY),
            Column("销售出库", "sold_qty", QTY),
            Column("报损数量", "waste_qty", QTY),
            Column("报损原因", "waste_reason"),
            Column("期末库存", "closing_qty", QTY),
        ),
    ),
    Feed(
        name="erp_b2b_customers",
        source="erp",
        pattern=rf"erp_b2b_customers_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        snapshot=True,
        description="B2B customer master snapshot.",
        columns=(
            Column("客户编码", "customer_code", identifier=True),
            Column("客户名称", "customer_name"),
            Column("客户类型", "customer_type"),
            Column("区域", "region"),
            Column("信用额度", "credit_limit", MONEY),
            Column("账期天数", "payment_terms_days", "int"),
            Column("联系人", "contact_name"),
            Column("联系电话", "contact_phone", identifier=True),
            Column("创建日期", "created_on", "date"),
        ),
    ),
    Feed(
        name="erp_b2b_orders",
        source="erp",
        pattern=rf"erp_b2b_orders_{_D8}\.csv",
        format="csv",
        encoding="utf-8-sig",
        description="B2B order lines; a line reappears when its status or payment changes.",
        columns=(
            Column("订单号", "order_id", identifier=True),
            Column("客户编码", "customer_code", identifier=True),
            Column("订单日期", "order_date", "date"),
            Column("交货日期", "delivery_date", "date"),
            Column("商品编码", "sku", identifier=True),
            Column("数量", "qty", QTY),
            Column("单价", "unit_price", MONEY),
            Column("金额", "amount", MONEY),
            Column("税率", "vat_rate", RATE),
            Column("状态", "status"),
            Column("回款日期", "paid_date", "date"),
        ),
    ),
    Feed(
        name="erp_store_costs",
        source="erp",
        pattern=r"erp_store_costs_(?P<d>\d{6})\.csv",
        format="csv",
        encoding="gbk",
        monthly=True,
        arrival="monthly",
        description="Monthly store operating costs.",
        columns=(
            Column("月份", "cost_month"),
            Column("门店编码", "store_code", identifier=True),
            Column("租金", "rent_amount", MONEY),
            Column("人工", "labour_amount", MONEY),
            Column("水电", "utilities_amount", MONEY),
            Column("折旧", "depreciation_amount", MONEY),
            Column("营销费用", "marketing_amount", MONEY),
            Column("其他", "other_amount", MONEY),
        ),
    ),
)

FEEDS_BY_NAME: dict[str, Feed] = {feed.name: feed for feed in FEEDS}
SOURCES: tuple[str, ...] = tuple(dict.fromkeys(feed.source for feed in FEEDS))


def feed_for_file(source: str, file_name: str) -> tuple[Feed, re.Match[str]] | None:
    """The feed a landing file belongs to, by its folder and name."""
    for feed in FEEDS:
        if feed.source == source and (match := feed.match(file_name)):
            return feed, match
    return None


# -- Added by the bronze ingestion (additions only; nothing above is renamed) ----------

# Every bronze table also carries `extra_json`: the values of columns (CSV/XLSX) or
# keys (JSON) that the contract does not know, as a JSON object {header: value}, so a
# source adding a column loses nothing; null when the file had no extra column.
EXTRA_COLUMN: tuple[str, str] = ("extra_json", "json")

# Row-local data-quality flags, comma-separated codes, null when the row is clean. Only
# feeds whose rows can be checked on their own carry it (unknown store codes or SKUs
# need master data and are silver's business, not bronze's).
DQ_FLAGS_COLUMN: tuple[str, str] = ("dq_flags", "string")
DQ_FLAG_FEEDS: frozenset[str] = frozenset({"pos_sales"})

# The quarantine table of each feed (`lake/quarantine/<feed name>`): rows that could
# not be typed, with why and the original text.
QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("feed", "string"),
    ("source_file", "string"),
    ("file_sha256", "string"),
    ("source_row", "int"),
    ("reason_code", "string"),
    ("reason_detail", "string"),
    ("raw_line", "string"),
    ("business_date", "date"),
    ("batch_id", "string"),
    ("ingested_at", "timestamp"),
)

# The file ledger (`lake/bronze/file_ledger`): one row per (landing file name, content).
LEDGER_TABLE = "file_ledger"
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_file", "string"),  # path relative to landing/
    ("source", "string"),  # landing sub-folder
    ("feed", "string"),  # null for a file name no feed recognises
    ("business_date", "date"),
    ("file_size", "int"),
    ("file_mtime", "timestamp"),
    ("file_sha256", "string"),
    ("status", "string"),  # landed | rejected | superseded | duplicate
    ("reason", "string"),  # why rejected / duplicate of what / what quarantined the file
    ("notes", "string"),  # '; '-joined: encoding_fallback, extra_columns, ...
    ("encoding", "string"),  # the encoding the file was actually read with
    ("rows_read", "int"),
    ("rows_landed", "int"),
    ("rows_quarantined", "int"),
    ("batch_id", "string"),
    ("ingested_at", "timestamp"),
    ("superseded_at", "timestamp"),
)


def bronze_columns(feed: Feed) -> list[tuple[str, str]]:
    """The full bronze schema of a feed: contract columns, extras, flags, lineage."""
    columns = [(c.name, c.type) for c in feed.columns]
    columns.append(EXTRA_COLUMN)
    if feed.name in DQ_FLAG_FEEDS:
        columns.append(DQ_FLAGS_COLUMN)
    columns.extend(LINEAGE_COLUMNS)
    return columns
