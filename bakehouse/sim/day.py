"""One simulated business day: orders in every channel, stock, and the feeds they produce.

``simulate_day`` turns the day's behaviour draws into formatted feed frames plus the
day's truth (who really placed each order, true demand versus sales). Cross-day effects
(mini-program status changes, Douyin redemptions and expiries, B2B deliveries and
payments, returns of yesterday's tickets, stock carried over) live in ``SimState`` as
small queues keyed by the day they happen, so memory stays flat however many days run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from bakehouse.sim.behaviour import (
    ANONYMOUS_DAYPART_SHARE,
    active_buyers,
    draw_events,
    draw_products,
    draw_quantities,
    lifecycle_factor,
    times_in_dayparts,
)
from bakehouse.sim.calendar import DayContext
from bakehouse.sim.frames import table, text, zfill
from bakehouse.sim.ids import digit_ids, mix64, unique_numbers
from bakehouse.sim.world import DAYPARTS, Catalogue, People, Stores
from bakehouse.sim.writers import json_float_yuan, json_number_yuan, json_object, json_str, yuan

POS_COLUMNS = [
    "门店编码",
    "门店名称",
    "小票号",
    "单据类型",
    "原小票号",
    "销售时间",
    "收银员",
    "会员卡号",
    "会员手机号",
    "行号",
    "商品编码",
    "商品名称",
    "数量",
    "单价",
    "折扣金额",
    "实收金额",
    "支付方式",
    "券码",
]
_PAY_METHODS = np.array(["微信", "支付宝", "现金", "银联", "储值卡", "微信+储值卡"])
_PAY_SHARE = np.array([0.45, 0.3, 0.08, 0.05, 0.07, 0.05])
_LEVELS = np.array(["普通", "银卡", "金卡", "黑金"])
_REGISTER_CHANNELS = np.array(["POS", "MINIPROGRAM", "DOUYIN", "WECOM", "MEITUAN"])
_WECOM_TAGS = np.array(
    ["[]", '["生日会员"]', '["蛋糕客户"]', '["生日会员", "蛋糕客户"]', '["早餐常客"]']
)
_HOSTS = np.array(["烘焙达人小林", "甜品探店王", "魔都吃货", "杭州美食家", "面包控阿May"])
# Retail category mixes (bread, cake, pastry, drink) per channel.
_POS_MIX = np.array([0.5, 0.15, 0.15, 0.2])
_MP_MIX = np.array([0.3, 0.4, 0.2, 0.1])
_DELIVERY_MIX = np.array([0.35, 0.15, 0.15, 0.35])
MEITUAN_COLUMNS = [
    "订单号",
    "美团门店ID",
    "门店名称",
    "下单时间",
    "完成时间",
    "订单状态",
    "商品",
    "商品原价",
    "用户实付",
    "商家活动补贴",
    "平台佣金",
    "配送费",
    "商家应收",
    "顾客电话",
    "收货地址",
    "用户ID",
    "退款金额",
]
MEITUAN_NUMERIC = {
    "商品原价",
    "用户实付",
    "商家活动补贴",
    "平台佣金",
    "配送费",
    "商家应收",
    "退款金额",
}
ELEME_COLUMNS = [
    "订单编号",
    "饿了么店铺ID",
    "下单时间",
    "订单状态",
    "商品信息",
    "订单总价",
    "顾客实付",
    "商户补贴",
    "平台服务费",
    "配送费",
    "商户实收",
    "顾客手机号",
    "顾客ID",
    "退款金额",
]
DOUYIN_ORDER_COLUMNS = [
    "订单编号",
    "商品ID",
    "商品名称",
    "券码",
    "售价",
    "实付金额",
    "平台补贴",
    "达人昵称",
    "达人佣金",
    "下单时间",
    "用户ID",
    "手机号",
    "订单状态",
]
DOUYIN_VERIFICATION_COLUMNS = [
    "券码",
    "核销时间",
    "核销门店POI",
    "核销门店名称",
    "核销金额",
    "商家应得",
    "平台服务费",
]
CHANNEL_POS, CHANNEL_MP, CHANNEL_MEITUAN, CHANNEL_ELEME = "pos", "miniprogram", "meituan", "eleme"


@dataclass(slots=True)
class FileOut:
    """One landing file's content for a business date, before rendering and faults."""

    feed: str
    name: str
    business_date: date
    frame: pl.DataFrame  # text columns in file order; JSON-lines feeds have one "line" column


@dataclass(slots=True)
class DayResult:
    files: list[FileOut]
    order_people: pl.DataFrame
    demand: pl.DataFrame


@dataclass(slots=True)
class SimState:
    """What one day leaves for the following days; bounded by the longest pending delay."""

    n_stores: int
    n_products: int
    pending: dict[int, dict[str, list[pl.DataFrame]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    carried_stock: np.ndarray | None = None
    returnable: pl.DataFrame | None = None
    wecom_added: np.ndarray | None = None
    voucher_serial: int = 0

    def schedule(self, day_index: int, queue: str, frame: pl.DataFrame) -> None:
        if frame.height:
            self.pending[day_index][queue].append(frame)

    def take(self, day_index: int, queue: str) -> list[pl.DataFrame]:
        return self.pending.get(day_index, {}).pop(queue, [])

    def take_frame(self, day_index: int, queue: str, empty: pl.DataFrame) -> pl.DataFrame:
        """The queue's rows for the day as one frame; ``empty`` (its schema) when none."""
        frames = self.take(day_index, queue)
        return pl.concat(frames) if frames else empty.clear()

    def forget_before(self, day_index: int) -> None:
        for old in [d for d in self.pending if d < day_index]:
            del self.pending[old]


@dataclass(slots=True)
class StockDay:
    """Per store x product cell (flattened ``store * n_products + product``) for one day."""

    demand: np.ndarray
    sold: np.ndarray
    produced: np.ndarray
    baked: np.ndarray


@dataclass(slots=True)
class World:
    catalogue: Catalogue
    stores: Stores
    people: People
    b2b_customers: pl.DataFrame
    start: date
    scale: float
    seed: int


def _clock(day: date, seconds: pl.Expr, fmt: str) -> pl.Expr:
    """Seconds after midnight of ``day`` as local-time text in ``fmt``."""
    midnight = pl.lit(day).cast(pl.Datetime("ms"))
    return (midnight + pl.duration(seconds=seconds)).dt.strftime(fmt)


def _messy_phone(phone: pl.Series, style: np.ndarray) -> pl.Series:
    """Phones as staff type them: style 0 clean, 1 ``+86``, 2 spaces, 3 dashes, 4 ``+86 ``."""
    frame = table({"p": phone, "style": style})
    p = pl.col("p")
    return frame.select(
        pl.when(pl.col("style") == 1)
        .then(pl.lit("+86") + p)
        .when(pl.col("style") == 2)
        .then(
            pl.concat_str([p.str.slice(0, 3), p.str.slice(3, 4), p.str.slice(7, 4)], separator=" ")
        )
        .when(pl.col("style") == 3)
        .then(
            pl.concat_str([p.str.slice(0, 3), p.str.slice(3, 4), p.str.slice(7, 4)], separator="-")
        )
        .when(pl.col("style") == 4)
        .then(pl.lit("+86 ") + p)
        .otherwise(p)
    ).to_series()


def _text_or_null(values: np.ndarray, keep: np.ndarray) -> pl.Series:
    """Text where ``keep`` is true, null elsewhere (what an empty CSV field becomes)."""
    frame = table({"value": pl.Series(values, dtype=pl.String), "keep": keep})
    return frame.select(pl.when(pl.col("keep")).then(pl.col("value"))).to_series()


def _masked_phone(phone: pl.Series) -> pl.Series:
    return phone.str.slice(0, 3) + "****" + phone.str.slice(7, 4)


class DaySimulator:
    """Generates each day in order; owns the state that carries between days."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.state = SimState(world.stores.size, world.catalogue.size)
        self.state.carried_stock = np.zeros(
            (world.stores.size, world.catalogue.size), dtype=np.int64
        )
        self.state.wecom_added = np.zeros(world.people.size, dtype=bool)
        self._returnable_today = pl.DataFrame()

    # ------------------------------------------------------------------ entry point
    def run(self, day_index: int, ctx: DayContext) -> DayResult:
        world = self.world
        rng = np.random.default_rng([world.seed, 1000 + day_index])
        active = active_buyers(world.people, day_index)
        files: list[FileOut] = []
        people_rows: list[pl.DataFrame] = []

        mp_lines, mp_files, mp_people = self._miniprogram(day_index, ctx, active, rng)
        delivery_lines, delivery_files, delivery_people = self._delivery(
            day_index, ctx, active, rng
        )
        redemptions, douyin_files, douyin_people = self._douyin(day_index, ctx, active, rng)
        online = pl.concat([mp_lines, delivery_lines])
        pos_files, stock, pos_people = self._pos(day_index, ctx, active, online, redemptions, rng)
        inventory, demand = self._inventory(ctx, stock, rng)

        files += pos_files + mp_files + delivery_files + douyin_files
        files += [self._members(day_index, ctx, rng), self._wecom(day_index, ctx, rng), inventory]
        files += self._erp(day_index, ctx, rng)
        people_rows += [mp_people, delivery_people, douyin_people, pos_people]
        self.state.forget_before(day_index + 1)
        order_people = (
            pl.concat(people_rows)
            .with_columns(
                person_id=pl.when(pl.col("person") >= 0)
                .then(pl.lit("P") + pl.col("person").cast(pl.String).str.zfill(9))
                .otherwise(None)
            )
            .select("channel", "order_key", "person_id")
        )
        return DayResult(files=files, order_people=order_people, demand=demand)

    # ------------------------------------------------------------------ mini-program
    def _order_items(
        self,
        buyers: np.ndarray,
        mix: np.ndarray,
        ctx: DayContext,
        rng: np.random.Generator,
        max_lines: int = 4,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Order index, product and quantity of each line for one order per buyer."""
        people, catalogue = self.world.people, self.world.catalogue
        n_lines = np.minimum(1 + rng.poisson(0.8, buyers.size), max_lines)
        order = np.repeat(np.arange(buyers.size), n_lines)
        product = draw_products(
            catalogue, ctx, order.size, people.favourite_category[buyers][order], mix, rng
        )
        return order, product, draw_quantities(catalogue, product, rng)

    def _miniprogram(self, d: int, ctx: DayContext, active: np.ndarray, rng: np.random.Generator):
        world, people, catalogue = self.world, self.world.people, self.world.catalogue
        member_now = people.is_member_on(d) & active
        buyers = draw_events(people.mp_rate * ctx.online_boost * member_now, rng)
        n = buyers.size
        order, product, qty = self._order_items(buyers, _MP_MIX, ctx, rng)
        price = catalogue.price_fen[product]
        discount = (qty * price * rng.choice([0, 0, 5, 10], order.size) // 100).astype(np.int64)
        net = np.bincount(order, qty * price - discount, minlength=n).astype(np.int64)
        coupon = np.where(
            rng.random(n) < 0.3, np.minimum(rng.choice([500, 1000, 2000], n), net // 2), 0
        )
        delivery = rng.random(n) < 0.4
        freight = np.where(delivery, rng.choice([500, 600, 800], n), 0)
        pay = net - coupon + freight
        created = times_in_dayparts(people.daypart[buyers], rng)
        order_id = digit_ids(
            f"MP{ctx.yyyymmdd}", unique_numbers(np.arange(n), 10**8, world.seed, 40 + d), 8
        )
        store = people.home_store[buyers]
        fate = rng.choice(4, n, p=[0.82, 0.06, 0.05, 0.07])  # done, cancelled, refunded, partial
        paid_at = created + rng.integers(60, 300, n)
        cancelled_at = np.minimum(paid_at + rng.integers(120, 1800, n), 86399)
        done_at = (
            paid_at + rng.integers(1800, 3 * 3600, n) + np.where(rng.random(n) < 0.1, 86400, 0)
        )
        refund_at = done_at + rng.integers(3600, 3 * 86400, n)
        first_line = np.searchsorted(order, np.arange(n))
        partial_refund = np.minimum(qty[first_line] * price[first_line] - discount[first_line], pay)

        items = (
            table(
                {
                    "order": order,
                    "sku": catalogue.sku[product],
                    "name": catalogue.frame["商品名称"].to_numpy()[product],
                    "qty": qty,
                    "price": price,
                    "discount": discount,
                }
            )
            .select(
                "order",
                item=json_object(
                    {
                        "sku": json_str(pl.col("sku")),
                        "name": json_str(pl.col("name")),
                        "qty": pl.col("qty").cast(pl.String),
                        "price_fen": pl.col("price").cast(pl.String),
                        "discount_fen": pl.col("discount").cast(pl.String),
                    }
                ),
            )
            .group_by("order", maintain_order=True)
            .agg(items=pl.lit("[") + pl.col("item").str.join(", ") + pl.lit("]"))
        )
        coupon_ids = pl.Series(np.where(coupon > 0, "CP" + zfill(rng.integers(0, 10**8, n), 8), ""))
        base = table(
            {
                "order_id": order_id,
                "created": created,
                "store": world.stores.code[store],
                "fulfillment": np.where(delivery, "DELIVERY", "PICKUP"),
                "member_id": people.member_id_str(buyers),
                "unionid": people.unionid_str(buyers),
                "openid": people.openid_str(buyers),
                "phone": people.phone_str(buyers),
                "has_unionid": people.has_unionid[buyers],
                "items": items["items"],
                "coupons": coupon_ids,
                "freight": freight,
                "pay": pay,
                "points": np.where(rng.random(n) < 0.1, rng.integers(1, 50, n) * 100, 0),
            }
        )
        records = [
            (paid_at, "PAID", np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)),
            (cancelled_at, "CANCELLED", pay, fate == 1),
            (done_at, "COMPLETED", np.zeros(n, dtype=np.int64), fate != 1),
            (refund_at, "REFUNDED", pay, fate == 2),
            (refund_at, "PARTIALLY_REFUNDED", partial_refund, fate == 3),
        ]
        for when, status, refund, keep in records:
            frame = base.with_columns(
                updated=pl.Series(when), status=pl.lit(status), refund=pl.Series(refund)
            ).filter(pl.Series(keep))
            lines = frame.select(
                pl.col("updated"),
                line=json_object(
                    {
                        "order_id": json_str(pl.col("order_id")),
                        "created_at": json_str(
                            _clock(ctx.day, pl.col("created"), "%Y-%m-%dT%H:%M:%S+08:00")
                        ),
                        "updated_at": json_str(
                            _clock(ctx.day, pl.col("updated"), "%Y-%m-%dT%H:%M:%S+08:00")
                        ),
                        "status": json_str(pl.col("status")),
                        "fulfillment": json_str(pl.col("fulfillment")),
                        "store_code": json_str(pl.col("store")),
                        "member": json_object(
                            {
                                "member_id": json_str(pl.col("member_id")),
                                "unionid": json_str(
                                    pl.when(pl.col("has_unionid")).then(pl.col("unionid"))
                                ),
                                "openid": json_str(pl.col("openid")),
                                "phone": json_str(pl.col("phone")),
                            }
                        ),
                        "items": pl.col("items"),
                        "coupon_ids": pl.when(pl.col("coupons") == "")
                        .then(pl.lit("[]"))
                        .otherwise(pl.lit('["') + pl.col("coupons") + pl.lit('"]')),
                        "freight_fen": pl.col("freight").cast(pl.String),
                        "pay_amount_fen": pl.col("pay").cast(pl.String),
                        "refund_amount_fen": pl.col("refund").cast(pl.String),
                        "points_used": pl.col("points").cast(pl.String),
                    }
                ),
            )
            for offset in range(6):  # the latest change (a refund) comes within 5 days
                in_day = lines.filter((pl.col("updated") // 86400) == offset).with_columns(
                    pl.col("updated") % 86400
                )
                self.state.schedule(d + offset, "mp_orders", in_day)
        today = self.state.take_frame(d, "mp_orders", lines).sort("updated", maintain_order=True)
        files = [
            FileOut("mp_orders", f"mp_orders_{ctx.yyyymmdd}.jsonl", ctx.day, today.select("line"))
        ]
        consumed = fate[order] != 1
        lines_out = table(
            {
                "store": store[order][consumed],
                "product": product[consumed],
                "qty": qty[consumed],
                "channel": CHANNEL_MP,
            }
        )
        people_frame = table({"channel": CHANNEL_MP, "order_key": order_id, "person": buyers})
        return lines_out, files, people_frame

    # ------------------------------------------------------------------ Meituan and Ele.me
    def _delivery(self, d: int, ctx: DayContext, active: np.ndarray, rng: np.random.Generator):
        world, people, catalogue, stores = (
            self.world,
            self.world.people,
            self.world.catalogue,
            self.world.stores,
        )
        files, consumed_lines, people_frames = [], [], []
        for platform, rate, commission_range in (
            ("meituan", people.meituan_rate, (0.18, 0.22)),
            ("eleme", people.eleme_rate, (0.16, 0.20)),
        ):
            buyers = draw_events(rate * ctx.online_boost * active, rng)
            n = buyers.size
            order, product, qty = self._order_items(buyers, _DELIVERY_MIX, ctx, rng)
            price = catalogue.price_fen[product]
            goods = np.bincount(order, qty * price, minlength=n).astype(np.int64)
            subsidy = np.round(goods * rng.uniform(0.05, 0.15, n)).astype(np.int64)
            fee = rng.choice([300, 400, 500, 600], n)
            status = rng.choice(4, n, p=[0.88, 0.05, 0.03, 0.04])  # 已完成 已取消 已退款 部分退款
            first_line = np.searchsorted(order, np.arange(n))
            partial = np.minimum(price[first_line], goods - subsidy)
            refund = np.select([status == 2, status == 3], [goods - subsidy, partial], 0)
            commission = np.round(
                (goods - subsidy - refund) * rng.uniform(*commission_range, n)
            ).astype(np.int64)
            commission = np.where(status == 2, 0, commission)
            zero = status == 1
            goods_out, subsidy_out, fee_out = (np.where(zero, 0, v) for v in (goods, subsidy, fee))
            commission_out, refund_out = np.where(zero, 0, commission), np.where(zero, 0, refund)
            paid = goods_out - subsidy_out + fee_out - refund_out
            settled = goods_out - subsidy_out - commission_out - refund_out
            placed = times_in_dayparts(rng.choice(len(DAYPARTS), n, p=[0.15, 0.4, 0.2, 0.25]), rng)
            store = people.home_store[buyers]
            phone = people.phone_str(buyers)
            status_cn = np.array(["已完成", "已取消", "已退款", "部分退款"])[status]
            names = (
                catalogue.meituan_name_in_file
                if platform == "meituan"
                else catalogue.eleme_name_in_file
            )[product]
            line_frame = table({"order": order, "name": names, "qty": qty, "price": price})
            money = {
                "goods": goods_out,
                "paid": paid,
                "subsidy": subsidy_out,
                "commission": commission_out,
                "fee": fee_out,
                "settled": settled,
                "refund": refund_out,
            }
            base = table({"placed": placed, **money})
            if platform == "meituan":
                order_id = digit_ids(
                    f"MT{ctx.yyyymmdd}",
                    unique_numbers(np.arange(n), 10**10, world.seed, 50 + d),
                    10,
                )
                items = line_frame.group_by("order", maintain_order=True).agg(
                    pl.concat_str(
                        [pl.col("name"), pl.lit("*"), pl.col("qty").cast(pl.String)]
                    ).str.join(",")
                )
                tail_only = rng.random(n) < 0.5
                frame = base.with_columns(
                    订单号=order_id,
                    美团门店ID=text(stores.meituan_id[store]),
                    门店名称=text("烘焙坊(" + stores.name[store] + ")"),
                    下单时间=_clock(ctx.day, pl.col("placed"), "%Y-%m-%d %H:%M:%S"),
                    完成时间=_clock(ctx.day, pl.col("placed") + 2400, "%Y-%m-%d %H:%M:%S"),
                    订单状态=text(status_cn),
                    商品=items["name"],
                    顾客电话=text(
                        np.where(
                            tail_only,
                            ("尾号" + phone.str.slice(7, 4)).to_numpy(),
                            _masked_phone(phone).to_numpy(),
                        )
                    ),
                    收货地址=text(stores.frame["城市"].to_numpy()[store] + "市**路**号"),
                    用户ID=people.meituan_str(buyers),
                ).sort("placed", maintain_order=True)
                frame = frame.with_columns(
                    [
                        json_number_yuan(pl.col(c)).alias(cn)
                        for c, cn in (
                            ("goods", "商品原价"),
                            ("paid", "用户实付"),
                            ("subsidy", "商家活动补贴"),
                            ("commission", "平台佣金"),
                            ("fee", "配送费"),
                            ("settled", "商家应收"),
                            ("refund", "退款金额"),
                        )
                    ]
                ).select(MEITUAN_COLUMNS)
                files.append(
                    FileOut("meituan_orders", f"meituan_orders_{ctx.yyyymmdd}.xlsx", ctx.day, frame)
                )
            else:
                order_id = digit_ids(
                    f"EL{ctx.yyyymmdd}",
                    unique_numbers(np.arange(n), 10**10, world.seed, 60 + d),
                    10,
                )
                items = (
                    line_frame.select(
                        "order",
                        item=json_object(
                            {
                                "name": json_str(pl.col("name")),
                                "quantity": pl.col("qty").cast(pl.String),
                                "price": json_float_yuan(pl.col("price")),
                            }
                        ),
                    )
                    .group_by("order", maintain_order=True)
                    .agg((pl.lit("[") + pl.col("item").str.join(", ") + pl.lit("]")).alias("item"))
                )
                frame = base.with_columns(
                    订单编号=order_id,
                    饿了么店铺ID=text(stores.eleme_id[store]),
                    下单时间=_clock(ctx.day, pl.col("placed"), "%Y-%m-%d %H:%M:%S"),
                    订单状态=text(status_cn),
                    商品信息=items["item"],
                    顾客手机号=_masked_phone(phone),
                    顾客ID=people.eleme_str(buyers),
                ).sort("placed", maintain_order=True)
                frame = frame.with_columns(
                    [
                        yuan(pl.col(c)).alias(cn)
                        for c, cn in (
                            ("goods", "订单总价"),
                            ("paid", "顾客实付"),
                            ("subsidy", "商户补贴"),
                            ("commission", "平台服务费"),
                            ("fee", "配送费"),
                            ("settled", "商户实收"),
                            ("refund", "退款金额"),
                        )
                    ]
                ).select(ELEME_COLUMNS)
                files.append(
                    FileOut("eleme_orders", f"eleme_orders_{ctx.yyyymmdd}.csv", ctx.day, frame)
                )
            keep = status[order] != 1
            consumed_lines.append(
                table(
                    {
                        "store": store[order][keep],
                        "product": product[keep],
                        "qty": qty[keep],
                        "channel": platform,
                    }
                )
            )
            people_frames.append(
                table({"channel": platform, "order_key": order_id, "person": buyers})
            )
        return pl.concat(consumed_lines), files, pl.concat(people_frames)

    # ------------------------------------------------------------------ Douyin vouchers
    def _douyin(self, d: int, ctx: DayContext, active: np.ndarray, rng: np.random.Generator):
        world, people, catalogue = self.world, self.world.people, self.world.catalogue
        buyers = draw_events(people.douyin_rate * ctx.online_boost * active, rng)
        n = buyers.size
        eligible = np.flatnonzero((catalogue.price_fen >= 2500) & (catalogue.season == ""))
        weights = catalogue.popularity[eligible]
        product = rng.choice(eligible, n, p=weights / weights.sum())
        list_price = (catalogue.price_fen[product] * 85 // 10000) * 100
        paid = np.round(list_price * rng.uniform(0.85, 1.0, n)).astype(np.int64)
        subsidy = np.round(list_price * 0.05).astype(np.int64)
        via_host = rng.random(n) < 0.3
        host_fee = np.where(via_host, np.round(paid * rng.uniform(0.05, 0.15, n)), 0).astype(
            np.int64
        )
        serial = self.state.voucher_serial + np.arange(n)
        self.state.voucher_serial += n
        code = digit_ids("", unique_numbers(serial, 10**12, world.seed, 70), 12)
        placed = times_in_dayparts(rng.choice(len(DAYPARTS), n, p=[0.1, 0.3, 0.2, 0.4]), rng)
        validity = np.where(rng.random(n) < 0.1, 2, 30)
        outcome = rng.random(n)
        redeem_delay = np.minimum(rng.geometric(0.25, n) - 1, validity - 1)
        refund_delay = np.minimum(rng.integers(0, 5, n), validity - 1)
        phone = people.phone_str(buyers)
        rows = table(
            {
                "订单编号": digit_ids(f"DY{ctx.yyyymmdd}", np.arange(n), 5),
                "商品ID": catalogue.frame["抖音商品ID"].to_numpy()[product],
                "商品名称": "【全国门店通用】" + catalogue.frame["商品名称"].to_numpy()[product],
                "券码": code,
                "售价": yuan(pl.Series(list_price)),
                "实付金额": yuan(pl.Series(paid)),
                "平台补贴": yuan(pl.Series(subsidy)),
                "达人昵称": np.where(via_host, rng.choice(_HOSTS, n), ""),
                "达人佣金": yuan(pl.Series(host_fee)),
                "下单时间": table({"t": placed})
                .select(_clock(ctx.day, pl.col("t"), "%Y-%m-%d %H:%M:%S"))
                .to_series(),
                "用户ID": people.douyin_str(buyers),
                "手机号": _masked_phone(phone),
                "订单状态": "已支付",
            }
        )
        fates = [
            (outcome < 0.85, redeem_delay, "已核销"),
            ((outcome >= 0.85) & (outcome < 0.93), refund_delay, "已退款"),
            (outcome >= 0.93, validity, "已过期"),
        ]
        for chosen, delay, status in fates:
            for offset in np.unique(delay[chosen]):
                picked = chosen & (delay == offset)
                self.state.schedule(
                    d + int(offset),
                    "douyin_orders",
                    rows.filter(pl.Series(picked)).with_columns(订单状态=pl.lit(status)),
                )
        redeemed = outcome < 0.85
        redemption = table(
            {
                "code": code,
                "person": buyers,
                "product": product,
                "price": list_price,
                "store": people.home_store[buyers],
                "after": np.where(redeem_delay == 0, placed, 0),
            }
        )
        for offset in np.unique(redeem_delay[redeemed]):
            self.state.schedule(
                d + int(offset),
                "douyin_redemptions",
                redemption.filter(pl.Series(redeemed & (redeem_delay == offset))),
            )
        status_today = self.state.take(d, "douyin_orders")
        today = pl.concat([rows, *status_today]) if status_today else rows
        redemptions_today = self.state.take(d, "douyin_redemptions")
        redemptions = pl.concat(redemptions_today) if redemptions_today else redemption.clear()
        files = [FileOut("douyin_orders", f"douyin_orders_{ctx.yyyymmdd}.csv", ctx.day, today)]
        people_frame = table({"channel": "douyin", "order_key": code, "person": buyers})
        return redemptions, files, people_frame

    # ------------------------------------------------------------------ store tills
    def _pos(
        self,
        d: int,
        ctx: DayContext,
        active: np.ndarray,
        online: pl.DataFrame,
        redemptions: pl.DataFrame,
        rng: np.random.Generator,
    ):
        world, people, catalogue, stores = (
            self.world,
            self.world.people,
            self.world.catalogue,
            self.world.stores,
        )
        open_stores = stores.open_index
        share = stores.traffic[open_stores] / stores.traffic[open_stores].sum()

        # Who comes in: members and card-sharing family by habit, the rest anonymous.
        rate = people.visit_rate * lifecycle_factor(people, d) * ctx.store_traffic * active
        visitors = draw_events(rate, rng)
        visitor_store = people.home_store[visitors]
        elsewhere = rng.random(visitors.size) < 0.1
        visitor_store[elsewhere] = rng.choice(open_stores, elsewhere.sum(), p=share)
        anonymous_per_store = rng.poisson(share * 40000 * 0.55 * world.scale * ctx.store_traffic)
        anon_store = np.repeat(open_stores, anonymous_per_store)
        store = np.concatenate([visitor_store, anon_store])
        person = np.concatenate([visitors, np.full(anon_store.size, -1)])
        is_person = person >= 0
        daypart = np.where(
            is_person,
            people.daypart[np.maximum(person, 0)],
            rng.choice(len(DAYPARTS), person.size, p=ANONYMOUS_DAYPART_SHARE),
        )
        when = times_in_dayparts(daypart, rng)
        basket = np.where(is_person, people.basket_mean[np.maximum(person, 0)], 2.2)
        n_lines = np.minimum(1 + rng.poisson(basket - 1.0), 8)
        ticket = np.repeat(np.arange(person.size), n_lines)
        favourite = np.where(
            is_person,
            people.favourite_category[np.maximum(person, 0)],
            rng.integers(0, 4, person.size),
        )
        product = draw_products(catalogue, ctx, ticket.size, favourite[ticket], _POS_MIX, rng)
        qty = draw_quantities(catalogue, product, rng)

        # Fresh products sell out: online orders and voucher redemptions are served first.
        n_products = catalogue.size
        key = store[ticket] * n_products + product
        cells = stores.size * n_products
        pos_demand = np.bincount(key, qty, minlength=cells).astype(np.int64)
        online_qty = np.bincount(
            online["store"].to_numpy() * n_products + online["product"].to_numpy(),
            online["qty"].to_numpy(),
            minlength=cells,
        ).astype(np.int64)
        voucher_key = (
            redemptions["store"].to_numpy() * n_products + redemptions["product"].to_numpy()
        )
        voucher_qty = np.bincount(voucher_key, minlength=cells)
        reserved = online_qty + voucher_qty
        baked = np.tile(catalogue.baked_daily, stores.size)
        plan = np.round((pos_demand + reserved) * rng.lognormal(0.0, 0.22, cells)).astype(np.int64)
        produced = np.where(baked, np.maximum(plan, reserved), 0)
        capacity = np.where(baked, produced - reserved, np.iinfo(np.int64).max // 4)
        order = np.lexsort((when[ticket], key))
        cumulative = np.cumsum(qty[order])
        group_start = np.r_[True, key[order][1:] != key[order][:-1]]
        start_total = np.maximum.accumulate(np.where(group_start, cumulative - qty[order], 0))
        before = np.empty_like(qty)
        before[order] = cumulative - qty[order] - start_total
        kept = np.clip(capacity[key] - before, 0, qty)
        pos_sold = np.bincount(key, kept, minlength=cells).astype(np.int64)

        price = catalogue.price_fen[product]
        pct = np.where(is_person[ticket], rng.choice([0, 0, 0, 5, 10], ticket.size), 0)
        line_mask = kept > 0
        lines = table(
            {
                "ticket": ticket,
                "product": product,
                "qty": kept,
                "price": price,
                "discount": kept * price * pct // 100,
            }
        ).filter(pl.Series(line_mask))
        served = np.unique(ticket[line_mask])

        # Ticket attributes: identification typed at the till, payment.
        person_s = person[served]
        holder = np.where(person_s >= 0, people.card_holder[np.maximum(person_s, 0)], -1)
        card_owner = np.where(holder >= 0, holder, person_s)
        mode = rng.choice(
            4, served.size, p=[0.45, 0.2, 0.3, 0.05]
        )  # card, card+phone, phone, nothing
        show_card = (person_s >= 0) & ((mode <= 1) | (holder >= 0))
        show_phone = (person_s >= 0) & ((mode == 1) | (mode == 2)) & (holder < 0)
        card = people.card_str(np.maximum(card_owner, 0)).to_numpy()
        phone_typed = _messy_phone(
            people.phone_str(np.maximum(person_s, 0)),
            np.where(rng.random(served.size) < 0.12, rng.integers(1, 5, served.size), 0),
        ).to_numpy()
        shop_phone_store = (mix64(np.arange(stores.size), world.seed) % np.uint64(10) < 3)[
            store[served]
        ]
        shop_phone = (person_s < 0) & shop_phone_store & (rng.random(served.size) < 0.05)
        shop_phone_text = pl.Series(stores.phone[store[served]]).cast(pl.String).to_numpy()
        pay = rng.choice(_PAY_METHODS, served.size, p=_PAY_SHARE)
        meituan_voucher = rng.random(served.size) < 0.02
        pay = np.where(meituan_voucher, "美团券", pay)
        tickets = table(
            {
                "ticket": served,
                "store": store[served],
                "person": person_s,
                "time": when[served],
                "type": "销售",
                "original": None,
                "card": _text_or_null(card, show_card),
                "phone": _text_or_null(
                    np.where(show_phone, phone_typed, shop_phone_text), show_phone | shop_phone
                ),
                "pay": pay,
                "voucher": _text_or_null(
                    zfill(rng.integers(0, 10**10, served.size), 10),
                    meituan_voucher,
                ),
            },
            schema_overrides={
                "original": pl.String,
                "card": pl.String,
                "phone": pl.String,
                "voucher": pl.String,
            },
        )

        # Douyin voucher redemptions: a ticket paid by the voucher for exactly its price.
        n_red = redemptions.height
        red_ids = person.size + np.arange(n_red)
        red_person = redemptions["person"].to_numpy()
        red_is_member = people.is_member_on(d)[red_person]
        red_time = np.maximum(
            redemptions["after"].to_numpy() + 600, rng.integers(9 * 3600, 21 * 3600, n_red)
        )
        red_time = np.minimum(red_time, 86399)
        red_product = redemptions["product"].to_numpy()
        red_retail = catalogue.price_fen[red_product]
        tickets = pl.concat(
            [
                tickets,
                table(
                    {
                        "ticket": red_ids,
                        "store": redemptions["store"].to_numpy(),
                        "person": red_person,
                        "time": red_time,
                        "type": "销售",
                        "original": None,
                        "card": _text_or_null(
                            people.card_str(red_person).to_numpy(), red_is_member
                        ),
                        "phone": None,
                        "pay": "抖音券",
                        "voucher": redemptions["code"],
                    },
                    schema_overrides={
                        "original": pl.String,
                        "card": pl.String,
                        "phone": pl.String,
                        "voucher": pl.String,
                    },
                ),
            ]
        )
        lines = pl.concat(
            [
                lines,
                table(
                    {
                        "ticket": red_ids,
                        "product": red_product,
                        "qty": np.ones(n_red, dtype=np.int64),
                        "price": red_retail,
                        "discount": red_retail - redemptions["price"].to_numpy(),
                    }
                ),
            ]
        )
        pos_sold += np.bincount(voucher_key, minlength=cells)

        tickets, lines = self._voids_and_returns(d, tickets, lines, rng)
        tickets = self._number_tickets(ctx, tickets, rng)
        files = self._pos_files(ctx, tickets, lines)
        files.append(self._verifications(ctx, tickets, redemptions, rng))
        stock = StockDay(
            demand=pos_demand + reserved, sold=pos_sold + online_qty, produced=produced, baked=baked
        )
        people_frame = tickets.select(
            pl.lit(CHANNEL_POS).alias("channel"), pl.col("ticket_no").alias("order_key"), "person"
        )
        return files, stock, people_frame

    def _voids_and_returns(
        self, d: int, tickets: pl.DataFrame, lines: pl.DataFrame, rng: np.random.Generator
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Add voided re-rings and returns (of today's and yesterday's tickets)."""
        next_id = int(tickets["ticket"].max() or 0) + 1
        plain = tickets.filter(pl.col("pay") != "抖音券")
        voided = plain.sample(fraction=0.005, seed=int(rng.integers(2**31)))
        void_ids = pl.Series(np.arange(next_id, next_id + voided.height))
        next_id += voided.height
        void_tickets = voided.with_columns(
            ticket=void_ids, type=pl.lit("作废"), time=(pl.col("time") - 120).clip(0, 86399)
        )
        void_lines = (
            lines.join(voided.select("ticket").with_columns(new=void_ids), on="ticket")
            .with_columns(ticket=pl.col("new"))
            .drop("new")
        )

        first_lines = lines.group_by("ticket", maintain_order=True).first()
        returned = plain.sample(fraction=0.008, seed=int(rng.integers(2**31))).join(
            first_lines, on="ticket"
        )
        return_ids = pl.Series(np.arange(next_id, next_id + returned.height))
        next_id += returned.height
        return_time = returned["time"].to_numpy() + (
            (86399 - returned["time"].to_numpy()) * rng.random(returned.height)
        ).astype(np.int64)
        same_day = returned.with_columns(
            ticket=return_ids,
            type=pl.lit("退货"),
            time=pl.Series(return_time),
            original_ticket=pl.col("ticket"),
            pay=pl.col("pay"),
            voucher=pl.lit(None, pl.String),
        )
        return_rows = [same_day]
        if self.state.returnable is not None and self.state.returnable.height:
            earlier = self.state.returnable.sample(fraction=0.3, seed=int(rng.integers(2**31)))
            earlier_ids = pl.Series(np.arange(next_id, next_id + earlier.height))
            return_rows.append(
                earlier.with_columns(
                    ticket=earlier_ids,
                    type=pl.lit("退货"),
                    original_ticket=pl.lit(-1, pl.Int64),
                    time=pl.Series(rng.integers(9 * 3600, 21 * 3600, earlier.height)),
                    voucher=pl.lit(None, pl.String),
                )
            )
        returns = pl.concat(return_rows, how="diagonal_relaxed")
        return_lines = returns.select(
            "ticket", "product", -pl.col("qty"), "price", -pl.col("discount")
        )
        return_tickets = returns.select(*tickets.columns, "original_ticket")

        # Yesterday's tickets that may come back tomorrow (a small sample keeps memory flat).
        self.state.returnable = None
        self._returnable_today = plain.sample(fraction=0.02, seed=int(rng.integers(2**31))).join(
            first_lines, on="ticket"
        )
        all_tickets = pl.concat(
            [
                tickets.with_columns(original_ticket=pl.lit(None, pl.Int64)),
                void_tickets.with_columns(original_ticket=pl.lit(None, pl.Int64)),
                return_tickets,
            ],
            how="vertical_relaxed",
        )
        return all_tickets, pl.concat([lines, void_lines, return_lines], how="vertical_relaxed")

    def _number_tickets(
        self, ctx: DayContext, tickets: pl.DataFrame, rng: np.random.Generator
    ) -> pl.DataFrame:
        """Till numbering: per store in time order, ``SH001-20261121-0457``."""
        codes = pl.Series(self.world.stores.code)
        numbered = (
            tickets.sort("store", "time", "ticket")
            .with_columns(
                seq=pl.int_range(1, pl.len() + 1).over("store"),
                cashier=pl.Series(
                    np.char.add("C0", rng.integers(1, 9, tickets.height).astype(str))
                ),
            )
            .with_columns(
                ticket_no=pl.concat_str(
                    [
                        pl.col("store").replace_strict(
                            np.arange(len(codes)), codes.to_numpy(), return_dtype=pl.String
                        ),
                        pl.lit(f"-{ctx.yyyymmdd}-"),
                        pl.col("seq").cast(pl.String).str.zfill(4),
                    ]
                )
            )
        )
        originals = numbered.select(
            pl.col("ticket").alias("original_ticket"),
            pl.col("ticket_no").alias("same_day_original"),
        )
        numbered = (
            numbered.join(originals, on="original_ticket", how="left", maintain_order="left")
            .with_columns(original=pl.coalesce("same_day_original", "original"))
            .drop("same_day_original")
        )
        returnable = self._returnable_today.join(
            numbered.select("ticket", "ticket_no"), on="ticket"
        )
        self.state.returnable = returnable.with_columns(original=pl.col("ticket_no")).drop(
            "ticket_no"
        )
        return numbered

    def _pos_files(
        self, ctx: DayContext, tickets: pl.DataFrame, lines: pl.DataFrame
    ) -> list[FileOut]:
        catalogue, stores = self.world.catalogue, self.world.stores
        rows = (
            lines.with_columns(line_no=pl.int_range(1, pl.len() + 1).over("ticket"))
            .join(tickets, on="ticket")
            .sort("store", "seq", "line_no")
        )
        amount = pl.col("qty") * pl.col("price") - pl.col("discount")
        rendered = rows.with_columns(
            门店编码=pl.col("ticket_no").str.slice(0, pl.col("ticket_no").str.find("-")),
            门店名称=pl.col("store").replace_strict(
                np.arange(stores.size), stores.name, return_dtype=pl.String
            ),
            小票号=pl.col("ticket_no"),
            单据类型=pl.col("type"),
            原小票号=pl.col("original"),
            销售时间=_clock(ctx.day, pl.col("time"), "%Y/%m/%d %H:%M:%S"),
            收银员=pl.col("cashier"),
            会员卡号=pl.col("card"),
            会员手机号=pl.col("phone"),
            行号=pl.col("line_no").cast(pl.String),
            商品编码=pl.col("product").replace_strict(
                np.arange(catalogue.size), catalogue.sku, return_dtype=pl.String
            ),
            商品名称=pl.col("product").replace_strict(
                np.arange(catalogue.size),
                catalogue.frame["商品名称"].to_numpy(),
                return_dtype=pl.String,
            ),
            数量=pl.col("qty").cast(pl.String),
            单价=yuan(pl.col("price")),
            折扣金额=yuan(pl.col("discount")),
            实收金额=yuan(amount),
            支付方式=pl.col("pay"),
            券码=pl.col("voucher"),
        )
        by_store = {
            key[0]: frame
            for key, frame in rendered.partition_by(
                "store", as_dict=True, maintain_order=True
            ).items()
        }
        empty = rendered.clear()
        return [
            FileOut(
                "pos_sales",
                f"pos_sales_{stores.code[s]}_{ctx.yyyymmdd}.csv",
                ctx.day,
                by_store.get(s, empty).select(POS_COLUMNS),
            )
            for s in stores.open_index
        ]

    def _verifications(
        self,
        ctx: DayContext,
        tickets: pl.DataFrame,
        redemptions: pl.DataFrame,
        rng: np.random.Generator,
    ) -> FileOut:
        stores = self.world.stores
        redeemed = (
            tickets.filter((pl.col("pay") == "抖音券") & (pl.col("type") == "销售"))
            .join(redemptions.select(pl.col("code").alias("voucher"), "price"), on="voucher")
            .sort("time", "voucher")
        )
        fee = np.round(
            redeemed["price"].to_numpy() * rng.uniform(0.025, 0.08, redeemed.height)
        ).astype(np.int64)
        frame = redeemed.with_columns(fee=pl.Series(fee, dtype=pl.Int64)).select(
            券码=pl.col("voucher"),
            核销时间=_clock(ctx.day, pl.col("time"), "%Y-%m-%d %H:%M:%S"),
            核销门店POI=pl.col("store").replace_strict(
                np.arange(stores.size), stores.douyin_poi, return_dtype=pl.String
            ),
            核销门店名称=pl.lit("烘焙坊(")
            + pl.col("store").replace_strict(
                np.arange(stores.size), stores.name, return_dtype=pl.String
            )
            + pl.lit(")"),
            核销金额=yuan(pl.col("price")),
            商家应得=yuan(pl.col("price") - pl.col("fee")),
            平台服务费=yuan(pl.col("fee")),
        )
        return FileOut(
            "douyin_verifications", f"douyin_verifications_{ctx.yyyymmdd}.csv", ctx.day, frame
        )

    # ------------------------------------------------------------------ stock
    def _inventory(
        self, ctx: DayContext, stock: StockDay, rng: np.random.Generator
    ) -> tuple[FileOut, pl.DataFrame]:
        """ERP stock movements and the demand truth: sell-outs hide demand, leftovers are waste."""
        catalogue, stores = self.world.catalogue, self.world.stores
        carried = self.state.carried_stock.ravel()
        opening = np.where(stock.baked, 0, carried)
        delivered = np.where(
            ~stock.baked & (stock.sold > 0), np.maximum(stock.sold + 10 - opening, 0), 0
        )
        damaged = np.where(~stock.baked & (rng.random(carried.size) < 0.01), 1, 0)
        damaged = np.minimum(damaged, opening + delivered - stock.sold)
        leftover = stock.produced - stock.sold
        waste = np.where(stock.baked, leftover, damaged)
        closing = np.where(stock.baked, 0, opening + delivered - stock.sold - damaged)
        self.state.carried_stock = closing.reshape(stores.size, catalogue.size)
        reason = np.where(
            stock.baked,
            rng.choice(np.array(["过期", "试吃", "破损"]), carried.size, p=[0.9, 0.06, 0.04]),
            "破损",
        )
        reason = np.where(waste > 0, reason, "")
        cell = np.flatnonzero((opening + delivered + stock.produced + stock.sold) > 0)
        store_of, product_of = cell // catalogue.size, cell % catalogue.size
        text = {
            name: pl.Series(values[cell]).cast(pl.String)
            for name, values in (
                ("期初库存", opening),
                ("配送入库", delivered),
                ("现烤生产", stock.produced),
                ("销售出库", stock.sold),
                ("报损数量", waste),
            )
        }
        inventory = table(
            {
                "日期": ctx.day.isoformat(),
                "门店编码": stores.code[store_of],
                "商品编码": catalogue.sku[product_of],
                **text,
                "报损原因": reason[cell],
                "期末库存": pl.Series(closing[cell]).cast(pl.String),
            }
        )
        truth_cell = np.flatnonzero((stock.demand + stock.produced) > 0)
        demand = table(
            {
                "business_date": ctx.day,
                "store_code": stores.code[truth_cell // catalogue.size],
                "sku": catalogue.sku[truth_cell % catalogue.size],
                "true_demand": stock.demand[truth_cell],
                "sold_qty": stock.sold[truth_cell],
                "lost_sales_qty": stock.demand[truth_cell] - stock.sold[truth_cell],
                "produced_qty": stock.produced[truth_cell],
                "waste_qty": waste[truth_cell],
            }
        )
        return FileOut(
            "erp_inventory", f"erp_inventory_{ctx.yyyymmdd}.csv", ctx.day, inventory
        ), demand

    # ------------------------------------------------------------------ CRM and WeCom
    def _members(self, d: int, ctx: DayContext, rng: np.random.Generator) -> FileOut:
        """New sign-ups, profile changes and cancellations of the day, in time order."""
        people = self.world.people
        member_now = people.is_member_on(d)
        joined = np.flatnonzero(people.join_day == d)
        cancelled = np.flatnonzero(people.delete_day == d)
        changed = np.setdiff1d(draw_events(np.where(member_now, 0.0005, 0.0), rng), joined)
        people.level[changed] = np.minimum(
            people.level[changed] + rng.integers(0, 2, changed.size), 3
        )
        people.points[changed] = rng.integers(0, 8000, changed.size)
        flip = changed[rng.random(changed.size) < 0.3]
        people.consent[flip] = ~people.consent[flip]
        who = np.concatenate([joined, changed, cancelled])
        updated = rng.integers(8 * 3600, 23 * 3600, who.size)
        lines = member_lines(
            self.world,
            who,
            ctx.day,
            updated,
            deleted=np.isin(who, cancelled),
            consent_changed=np.isin(who, flip),
            joined_today=np.isin(who, joined),
        )
        order = np.argsort(updated, kind="stable")
        return FileOut(
            "mp_members",
            f"mp_members_{ctx.yyyymmdd}.jsonl",
            ctx.day,
            table({"line": lines}).select(pl.col("line").gather(order)),
        )

    def _wecom(self, d: int, ctx: DayContext, rng: np.random.Generator) -> FileOut:
        """Contacts added by store staff, with the phone as the staff member typed it."""
        people, stores = self.world.people, self.world.stores
        added = self.state.wecom_added
        eligible = people.has_wecom & people.is_member_on(d)
        new = draw_events(np.where(eligible & ~added, 0.004, 0.0), rng)
        removed = draw_events(np.where(added, 0.002, 0.0), rng)
        added[new] = True
        added[removed] = False
        who = np.concatenate([new, removed])
        n = who.size
        style = np.where(rng.random(n) < 0.4, 0, rng.integers(1, 5, n))
        typed = _messy_phone(people.phone_str(who), style)
        typo = people.typo_phone_str(who)
        remark = np.where(
            rng.random(n) < 0.4,
            "",
            np.where(people.wecom_typo[who], typo.to_numpy(), typed.to_numpy()),
        )
        seconds = rng.integers(9 * 3600, 21 * 3600, n)
        frame = table(
            {
                "wm": people.wecom_str(who),
                "unionid": _text_or_null(
                    people.unionid_str(who).to_numpy(), people.has_unionid[who]
                ),
                "staff": np.char.add(
                    "S", zfill(people.home_store[who] * 7 + rng.integers(0, 7, n), 4)
                ),
                "store": stores.code[people.home_store[who]],
                "t": seconds,
                "remark": remark,
                "tags": rng.choice(_WECOM_TAGS, n),
                "removed": np.arange(n) >= new.size,
            },
            schema_overrides={"unionid": pl.String},
        ).sort("t", maintain_order=True)
        stamp = _clock(ctx.day, pl.col("t"), "%Y-%m-%dT%H:%M:%S+08:00")
        lines = frame.select(
            line=json_object(
                {
                    "external_userid": json_str(pl.col("wm")),
                    "unionid": json_str(pl.col("unionid")),
                    "staff_id": json_str(pl.col("staff")),
                    "store_code": json_str(pl.col("store")),
                    "add_time": json_str(stamp),
                    "remark_phone": json_str(pl.col("remark")),
                    "tags": pl.col("tags"),
                    "deleted_at": pl.when(pl.col("removed"))
                    .then(json_str(stamp))
                    .otherwise(pl.lit("null")),
                }
            )
        )
        return FileOut("wecom_contacts", f"wecom_contacts_{ctx.yyyymmdd}.jsonl", ctx.day, lines)

    # ------------------------------------------------------------------ ERP
    def _erp(self, d: int, ctx: DayContext, rng: np.random.Generator) -> list[FileOut]:
        world = self.world
        files = [
            FileOut(
                "erp_stores",
                f"erp_stores_{ctx.yyyymmdd}.csv",
                ctx.day,
                world.stores.frame.cast(pl.String),
            ),
            FileOut(
                "erp_products",
                f"erp_products_{ctx.yyyymmdd}.csv",
                ctx.day,
                world.catalogue.frame.cast(pl.String),
            ),
            FileOut(
                "erp_b2b_customers",
                f"erp_b2b_customers_{ctx.yyyymmdd}.csv",
                ctx.day,
                world.b2b_customers.cast(pl.String),
            ),
            FileOut(
                "erp_b2b_orders",
                f"erp_b2b_orders_{ctx.yyyymmdd}.csv",
                ctx.day,
                self._b2b_orders(d, ctx, rng),
            ),
        ]
        if d == 0 or ctx.day.day == 1:
            files.append(
                FileOut(
                    "erp_store_costs",
                    f"erp_store_costs_{ctx.day:%Y%m}.csv",
                    ctx.day,
                    store_costs(world, ctx.day),
                )
            )
        return files

    def _b2b_orders(self, d: int, ctx: DayContext, rng: np.random.Generator) -> pl.DataFrame:
        """New order lines today plus every line whose status or payment changes today."""
        world, catalogue = self.world, self.world.catalogue
        customers = world.b2b_customers
        n_lines = max(1, int(rng.poisson(300 * world.scale)))
        n_orders = max(1, n_lines // 3)
        order = np.sort(rng.integers(0, n_orders, n_lines))
        customer = rng.integers(0, customers.height, n_orders)[order]
        sellable = np.flatnonzero((catalogue.season == "") & np.isin(catalogue.category, [0, 2]))
        product = rng.choice(sellable, n_lines)
        qty = rng.integers(2, 20, n_lines) * 10
        unit = np.round(catalogue.price_fen[product] * 0.65).astype(np.int64)
        lead = rng.integers(1, 3, n_orders)[order]
        terms = customers["账期天数"].to_numpy()[customer]
        late_payer = (mix64(customer, world.seed + 5) % np.uint64(5)) == 0
        pay_delay = terms + np.where(
            late_payer,
            rng.integers(5, 60, n_lines),
            -rng.integers(0, np.maximum(terms, 1) // 2 + 1),
        )
        returned = rng.random(n_lines) < 0.04
        base = table(
            {
                "订单号": digit_ids(f"SO{ctx.yyyymmdd}", order + 1, 3),
                "客户编码": customers["客户编码"].to_numpy()[customer],
                "订单日期": ctx.day.isoformat(),
                "交货日期": [(ctx.day + timedelta(days=int(k))).isoformat() for k in lead],
                "商品编码": catalogue.sku[product],
                "数量": pl.Series(qty).cast(pl.String),
                "单价": yuan(pl.Series(unit)),
                "金额": yuan(pl.Series(unit * qty)),
                "税率": "0.13",
            }
        )
        steps = [
            (np.zeros(n_lines, dtype=np.int64), "已下单", None, np.ones(n_lines, dtype=bool)),
            (lead - 1, "已发货", None, np.ones(n_lines, dtype=bool)),
            (lead, "已签收", None, np.ones(n_lines, dtype=bool)),
            (lead + 1 + rng.integers(0, 3, n_lines), "已退货", None, returned),
            (lead + np.maximum(pay_delay, 0), "已签收", "paid", ~returned),
        ]
        for offset, status, paid, keep in steps:
            frame = base.with_columns(
                状态=pl.lit(status), 回款日期=pl.lit(""), offset=pl.Series(offset)
            ).filter(pl.Series(keep))
            if paid:
                frame = frame.with_columns(
                    回款日期=pl.col("offset").map_elements(
                        lambda k: (ctx.day + timedelta(days=int(k))).isoformat(),
                        return_dtype=pl.String,
                    )
                )
            for k, part in frame.partition_by("offset", as_dict=True, maintain_order=True).items():
                self.state.schedule(d + int(k[0]), "erp_b2b_orders", part.drop("offset"))
        return self.state.take_frame(d, "erp_b2b_orders", frame.drop("offset"))


def store_costs(world: World, month_day: date) -> pl.DataFrame:
    """Monthly P&L costs per store (rent scales with floor area; labour with footfall)."""
    stores = world.stores
    rng = np.random.default_rng([world.seed, 90, month_day.year, month_day.month])
    keep = stores.frame["状态"].to_numpy() != "筹备"
    area = stores.frame["营业面积"].to_numpy()[keep]
    n = int(keep.sum())
    fen = {
        "租金": area * rng.integers(25000, 45000, n),
        "人工": np.round(stores.traffic[keep] * 4_200_000 * rng.uniform(0.9, 1.1, n)),
        "水电": rng.integers(250000, 450000, n),
        "折旧": rng.integers(400000, 600000, n),
        "营销费用": rng.integers(100000, 400000, n),
        "其他": rng.integers(50000, 150000, n),
    }
    return table(
        {
            "月份": f"{month_day:%Y-%m}",
            "门店编码": stores.code[keep],
            **{k: yuan(pl.Series(v.astype(np.int64))) for k, v in fen.items()},
        }
    )


def member_lines(
    world: World,
    who: np.ndarray,
    day: date,
    seconds: np.ndarray,
    *,
    deleted: np.ndarray,
    consent_changed: np.ndarray,
    joined_today: np.ndarray,
) -> pl.Series:
    """CRM member records as JSON lines, ``updated_at`` on ``day`` at ``seconds``."""
    people = world.people
    register_date = np.datetime64(day, "D") - np.where(
        joined_today, 0, people.register_day[who]
    ).astype("timedelta64[D]")
    birthday = np.datetime64("0001-01-01", "D") + (people.birthday_ordinal[who] - 1).astype(
        "timedelta64[D]"
    )
    frame = table(
        {
            "member_id": people.member_id_str(who),
            "card_no": people.card_str(who),
            "unionid": _text_or_null(people.unionid_str(who).to_numpy(), people.has_unionid[who]),
            "openid": people.openid_str(who),
            "phone": people.phone_str(who),
            "name": people.name_str(who),
            "gender": people.gender[who],
            "birthday": pl.Series(birthday).dt.strftime("%Y-%m-%d"),
            "known_birthday": people.birthday_ordinal[who] > 0,
            "register_date": pl.Series(register_date),
            "register_channel": _REGISTER_CHANNELS[people.register_channel[who]],
            "register_store": world.stores.code[people.home_store[who]],
            "level": _LEVELS[people.level[who]],
            "points": people.points[who],
            "consent": people.consent[who],
            "consent_changed": consent_changed,
            "deleted": deleted,
            "t": seconds,
            "reg_t": 36000 + people.register_day[who] % 3600 * 7,
        },
        schema_overrides={"unionid": pl.String},
    )
    updated = _clock(day, pl.col("t"), "%Y-%m-%dT%H:%M:%S+08:00")
    register = (
        pl.col("register_date").cast(pl.Datetime("ms")) + pl.duration(seconds=pl.col("reg_t"))
    ).dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    consent_at = pl.when(pl.col("consent_changed")).then(updated).otherwise(register)
    return frame.select(
        json_object(
            {
                "member_id": json_str(pl.col("member_id")),
                "card_no": json_str(pl.col("card_no")),
                "unionid": json_str(pl.col("unionid")),
                "openid": json_str(pl.col("openid")),
                "phone": json_str(pl.col("phone")),
                "name": json_str(pl.col("name")),
                "gender": json_str(pl.col("gender")),
                "birthday": json_str(pl.when(pl.col("known_birthday")).then(pl.col("birthday"))),
                "register_time": json_str(register),
                "register_channel": json_str(pl.col("register_channel")),
                "register_store": json_str(pl.col("register_store")),
                "level": json_str(pl.col("level")),
                "points_balance": pl.col("points").cast(pl.String),
                "marketing_consent": pl.col("consent").cast(pl.String).str.to_lowercase(),
                "consent_updated_at": json_str(consent_at),
                "is_deleted": pl.col("deleted").cast(pl.String).str.to_lowercase(),
                "updated_at": json_str(updated),
            }
        )
    ).to_series()
