"""The static chain: products, stores, B2B customers and the people who buy.

Built once per run from the seed. People are numpy arrays indexed by a person number
(members first, then non-members), so per-day behaviour is a handful of array
operations however large the member base is. Everything a person "is" (habits,
life cycle, identifiers, the day they join or cancel) is decided here, which keeps the
truth files static and the daily loop free of growing state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from bakehouse.sim.ids import digit_ids, hex_ids, mix64, unique_numbers
from bakehouse.sim.writers import yuan

CATEGORIES = ("bread", "cake", "pastry", "drink", "seasonal")
CATEGORY_CN = {
    "bread": "面包",
    "cake": "蛋糕",
    "pastry": "西点",
    "drink": "饮品",
    "seasonal": "季节",
}
DAYPARTS = ("morning", "noon", "afternoon", "evening")
LIFECYCLES = ("new", "loyal", "regular", "lapsing", "churned")

# (sku prefix, category, sub-category, names with prices in fen, shelf life h, baked in store)
_CATALOGUE: list[tuple[str, str, str, list[tuple[str, int]], int, bool]] = [
    (
        "B1",
        "bread",
        "硬欧",
        [
            ("法式长棍", 1200),
            ("全麦欧包", 1800),
            ("黑麦核桃包", 2200),
            ("法棍三明治", 2600),
            ("芝士软欧", 1600),
            ("红豆欧包", 1500),
            ("蔓越莓欧包", 1700),
            ("德式碱水包", 1000),
            ("恰巴塔", 1300),
            ("乡村面包", 2400),
        ],
        24,
        True,
    ),
    (
        "B1",
        "bread",
        "起酥",
        [
            ("牛角包", 850),
            ("巧克力可颂", 1200),
            ("杏仁可颂", 1300),
            ("丹麦苹果酥", 1100),
            ("肉桂卷", 1200),
            ("葡式蛋挞", 800),
            ("拿破仑酥", 1400),
            ("咸蛋黄可颂", 1300),
        ],
        24,
        True,
    ),
    (
        "B1",
        "bread",
        "吐司",
        [
            ("全麦吐司", 1600),
            ("牛奶吐司", 1500),
            ("红豆吐司", 1800),
            ("黑芝麻吐司", 1700),
            ("紫米吐司", 1900),
            ("岩烧乳酪吐司", 2200),
            ("巧克力吐司", 1900),
            ("芝士吐司", 2000),
            ("黑麦吐司", 1800),
        ],
        72,
        True,
    ),
    (
        "B1",
        "bread",
        "甜面包",
        [
            ("肉松小贝", 990),
            ("毛毛虫面包", 900),
            ("椰蓉面包", 800),
            ("菠萝包", 750),
            ("奶酥面包", 850),
            ("火腿芝士包", 1100),
            ("香葱肉松卷", 1000),
            ("豆沙面包", 700),
            ("奶油餐包", 650),
            ("抹茶红豆包", 1050),
            ("芋泥麻薯包", 1200),
            ("咖喱牛肉包", 1250),
            ("玉米沙拉包", 950),
            ("奶黄包", 800),
            ("南瓜面包", 850),
            ("黄油餐包", 700),
            ("紫薯包", 850),
            ("巧克力软包", 950),
            ("榴莲面包", 1300),
            ("香肠面包", 900),
            ("提子面包", 950),
            ("蓝莓乳酪包", 1150),
        ],
        48,
        True,
    ),
    (
        "C2",
        "cake",
        "生日蛋糕",
        [
            ("6英寸草莓蛋糕", 16800),
            ("8英寸草莓蛋糕", 23800),
            ("6英寸黑森林", 15800),
            ("8英寸芒果慕斯", 25800),
            ("6英寸巧克力慕斯", 16800),
            ("10英寸水果蛋糕", 32800),
            ("6英寸芋泥蛋糕", 16800),
            ("8英寸榴莲千层", 29800),
        ],
        48,
        True,
    ),
    (
        "C2",
        "cake",
        "切块",
        [
            ("提拉米苏切块", 2800),
            ("芝士蛋糕切块", 2600),
            ("抹茶千层", 3000),
            ("红丝绒切块", 2600),
            ("黑森林切块", 2600),
            ("芒果千层", 3000),
            ("巴斯克芝士", 3200),
            ("歌剧院蛋糕", 3200),
        ],
        48,
        True,
    ),
    (
        "C2",
        "cake",
        "小蛋糕",
        [
            ("半熟芝士", 1200),
            ("瑞士卷", 1800),
            ("奶油泡芙", 900),
            ("闪电泡芙", 1600),
            ("海绵蛋糕", 1000),
            ("纸杯蛋糕", 1100),
            ("马卡龙", 1200),
            ("雪媚娘", 800),
            ("蛋糕卷", 1500),
            ("舒芙蕾", 1800),
            ("布丁", 900),
            ("慕斯杯", 1600),
            ("可露丽", 1200),
        ],
        48,
        True,
    ),
    (
        "P3",
        "pastry",
        "中式",
        [
            ("蛋黄酥", 750),
            ("绿豆糕", 600),
            ("凤梨酥", 700),
            ("老婆饼", 650),
            ("鲜花饼", 800),
            ("桃酥", 500),
            ("麻薯", 700),
            ("枣泥酥", 750),
            ("红豆酥", 700),
            ("榴莲酥", 900),
            ("杏仁酥", 600),
            ("椰子酥", 650),
            ("鲍鱼酥", 800),
            ("葱油饼", 600),
            ("肉松酥", 750),
        ],
        168,
        False,
    ),
    (
        "P3",
        "pastry",
        "礼盒",
        [
            ("蝴蝶酥礼盒", 6800),
            ("曲奇礼盒", 8800),
            ("凤梨酥礼盒", 9800),
            ("蛋黄酥礼盒", 7800),
            ("糕点八件套", 12800),
            ("下午茶礼盒", 15800),
            ("牛轧糖礼盒", 5800),
            ("手工饼干罐", 4800),
            ("坚果酥礼盒", 9800),
            ("法式甜点礼盒", 16800),
            ("饼干礼盒", 6800),
            ("伴手礼盒", 8800),
            ("茶点礼盒", 11800),
        ],
        720,
        False,
    ),
    (
        "D4",
        "drink",
        "咖啡",
        [
            ("美式咖啡", 1500),
            ("拿铁咖啡", 1800),
            ("卡布奇诺", 1800),
            ("生椰拿铁", 2000),
            ("焦糖玛奇朵", 2200),
            ("冷萃咖啡", 2000),
            ("澳白", 2000),
        ],
        4,
        True,
    ),
    (
        "D4",
        "drink",
        "果汁",
        [
            ("鲜榨橙汁", 1800),
            ("西瓜汁", 1600),
            ("芒果汁", 1800),
            ("柠檬茶", 1200),
            ("葡萄汁", 1800),
        ],
        4,
        True,
    ),
    (
        "D4",
        "drink",
        "奶茶",
        [
            ("原味奶茶", 1300),
            ("珍珠奶茶", 1500),
            ("抹茶拿铁", 1800),
            ("热可可", 1600),
            ("豆浆", 600),
            ("鲜牛奶", 800),
            ("燕麦拿铁", 2000),
            ("红茶", 1000),
            ("乌龙茶", 1200),
            ("酸奶", 900),
        ],
        4,
        True,
    ),
    (
        "S5",
        "seasonal",
        "月饼",
        [
            ("五仁月饼", 1200),
            ("蛋黄莲蓉月饼", 1500),
            ("豆沙月饼", 1000),
            ("流心奶黄月饼", 1800),
            ("鲜肉月饼", 600),
            ("冰皮月饼", 1200),
            ("月饼礼盒", 19800),
            ("流心月饼礼盒", 26800),
            ("火腿月饼", 1500),
            ("抹茶月饼", 1400),
            ("企业月饼礼盒", 36800),
        ],
        720,
        False,
    ),
    (
        "S5",
        "seasonal",
        "粽子",
        [
            ("鲜肉粽", 900),
            ("蛋黄肉粽", 1100),
            ("豆沙粽", 700),
            ("碱水粽", 500),
            ("粽子礼盒", 12800),
        ],
        360,
        False,
    ),
    (
        "S5",
        "seasonal",
        "圣诞",
        [("圣诞树桩蛋糕", 22800), ("圣诞姜饼人", 1200), ("史多伦面包", 6800), ("潘多洛", 8800)],
        72,
        False,
    ),
    ("S5", "seasonal", "年货", [("新春糕点礼盒", 16800), ("年年有余年糕", 3800)], 720, False),
]
_SEASON_OF_SUB = {
    "月饼": "mooncake",
    "粽子": "zongzi",
    "圣诞": "christmas",
    "年货": "new_year_gift",
}
_CITIES = [
    (
        "SH",
        "上海",
        "华东",
        0.30,
        [
            "静安寺",
            "徐家汇",
            "五角场",
            "陆家嘴",
            "人民广场",
            "中山公园",
            "七宝",
            "莘庄",
            "南京西路",
            "虹桥",
            "张江",
            "世纪公园",
        ],
    ),
    ("HZ", "杭州", "华东", 0.15, ["西湖", "滨江", "武林", "湖滨", "城西", "钱江新城", "萧山"]),
    ("NJ", "南京", "华东", 0.10, ["新街口", "河西", "仙林", "江宁", "鼓楼"]),
    ("SU", "苏州", "华东", 0.10, ["观前街", "园区", "新区", "吴中"]),
    ("NB", "宁波", "华东", 0.07, ["天一广场", "鄞州", "江北"]),
    ("BJ", "北京", "华北", 0.12, ["国贸", "中关村", "望京", "三里屯", "西单", "五道口"]),
    ("SZ", "深圳", "华南", 0.08, ["南山", "福田", "宝安", "龙岗"]),
    ("CD", "成都", "西南", 0.08, ["春熙路", "高新", "天府", "武侯"]),
]
_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程"
)
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "婷",
    "雪",
    "佳怡",
    "子涵",
    "浩然",
    "欣怡",
    "梓萱",
    "宇轩",
    "思远",
    "一诺",
    "嘉怡",
    "晨",
    "萌",
    "博",
    "悦",
    "琳",
    "昊",
    "雨桐",
]
_PHONE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        157,
        158,
        159,
        166,
        176,
        177,
        180,
        181,
        182,
        186,
        187,
        188,
        189,
        191,
        198,
        199,
    ],
    dtype=np.int64,
)
_B2B_TYPES = ("KA", "经销商", "团购", "便利店", "车销")
_B2B_NAMES = {
    "KA": ["华联超市", "联华超市", "永辉超市", "盒马鲜生", "大润发", "家乐福", "物美"],
    "经销商": ["沪东经销", "浙北食品", "苏南商贸", "京华经销", "川味供应链"],
    "团购": ["科技园团购", "银行工会", "医院食堂", "学校后勤", "企业福利"],
    "便利店": ["全家便利", "罗森便利", "快客便利", "好德便利", "美宜佳"],
    "车销": ["城东车销", "城西车销", "郊区车销", "早餐车"],
}


@dataclass(slots=True)
class Catalogue:
    """The product master; arrays are indexed by product number."""

    frame: pl.DataFrame
    sku: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    price_fen: np.ndarray
    cost_fen: np.ndarray
    baked_daily: np.ndarray
    season: np.ndarray  # season key or "" for all-year items
    popularity: np.ndarray
    meituan_name_in_file: np.ndarray
    eleme_name_in_file: np.ndarray

    @property
    def size(self) -> int:
        return len(self.sku)

    def daily_weights(self, season_boost: dict[str, float]) -> np.ndarray:
        """Relative demand per product for a day: seasonal items only sell in season."""
        factor = np.ones(self.size)
        for season, boost in season_boost.items():
            in_season = self.season == season
            factor[in_season] = boost * 6.0
        return self.popularity * factor


def _platform_variant(name: str, pick: int, platform: str) -> str:
    """The name a delivery platform prints: the merchant's listing, decorated over time."""
    variants = {
        "meituan": [name, name, f"{name}（新品）", f"【招牌】{name}", name.replace("(", "（")],
        "eleme": [name, name, f"【招牌】{name}", f"{name} ", f"{name}(热)"],
    }[platform]
    return variants[pick % len(variants)]


def build_catalogue(seed: int) -> Catalogue:
    """~150 SKUs, numbered per category like the ERP does (B1001, C2001, ...)."""
    rng = np.random.default_rng([seed, 11])
    rows = []
    counters: dict[str, int] = {}
    for prefix, category, sub, items, shelf_hours, baked in _CATALOGUE:
        for name, price in items:
            counters[prefix] = counters.get(prefix, 0) + 1
            rows.append(
                (
                    f"{prefix}{counters[prefix]:03d}",
                    name,
                    category,
                    sub,
                    price,
                    shelf_hours,
                    baked,
                    _SEASON_OF_SUB.get(sub, ""),
                )
            )
    n = len(rows)
    sku = np.array([r[0] for r in rows])
    names = [r[1] for r in rows]
    price = np.array([r[4] for r in rows], dtype=np.int64)
    cost = np.round(price * rng.uniform(0.28, 0.4, n)).astype(np.int64)
    popularity = rng.lognormal(0.0, 0.6, n)
    pick = rng.integers(0, 10, size=(n, 2))
    meituan = np.array(
        [_platform_variant(nm, int(p), "meituan") for nm, p in zip(names, pick[:, 0], strict=True)]
    )
    eleme = np.array(
        [_platform_variant(nm, int(p), "eleme") for nm, p in zip(names, pick[:, 1], strict=True)]
    )
    frame = pl.DataFrame(
        {
            "商品编码": sku,
            "商品名称": names,
            "大类": [CATEGORY_CN[r[2]] if r[3] != "礼盒" else "礼盒" for r in rows],
            "小类": [r[3] for r in rows],
            "规格": ["盒" if "礼盒" in r[1] else "个" for r in rows],
            "零售价": yuan(pl.Series(price)),
            "标准成本": yuan(pl.Series(cost)),
            "保质期小时": [r[5] for r in rows],
            "是否现烤": ["是" if r[6] else "否" for r in rows],
            "上市日期": ["2024-01-01"] * n,
            "下市日期": [""] * n,
            "美团商品名": names,
            "饿了么商品名": names,
            "抖音商品ID": [f"35{s}" for s in sku],
        }
    )
    return Catalogue(
        frame=frame,
        sku=sku,
        category=np.array([CATEGORIES.index(r[2]) for r in rows]),
        price_fen=price,
        cost_fen=cost,
        baked_daily=np.array([r[6] for r in rows]),
        season=np.array([r[7] for r in rows]),
        popularity=popularity,
        meituan_name_in_file=meituan,
        eleme_name_in_file=eleme,
    )


@dataclass(slots=True)
class Stores:
    """The store master; arrays are indexed by store number."""

    frame: pl.DataFrame
    code: np.ndarray
    name: np.ndarray
    is_open: np.ndarray
    is_franchise: np.ndarray
    traffic: np.ndarray  # relative footfall
    meituan_id: np.ndarray
    eleme_id: np.ndarray
    douyin_poi: np.ndarray
    phone: np.ndarray  # the shop's own mobile, typed at the till for walk-ins

    @property
    def size(self) -> int:
        return len(self.code)

    @property
    def open_index(self) -> np.ndarray:
        return np.flatnonzero(self.is_open)


def build_stores(n_stores: int, seed: int) -> Stores:
    """Stores spread over cities, ~1/4 franchised, with the platforms' ids for each."""
    rng = np.random.default_rng([seed, 12])
    weights = np.array([c[3] for c in _CITIES])
    city_of = np.sort(rng.choice(len(_CITIES), size=n_stores, p=weights / weights.sum()))
    city_of[: min(n_stores, 3)] = 0  # the chain started in Shanghai
    city_of = np.sort(city_of)
    codes, names, cities, regions = [], [], [], []
    per_city: dict[int, int] = {}
    for c in city_of:
        prefix, city, region, _, districts = _CITIES[c]
        k = per_city.get(c, 0)
        per_city[c] = k + 1
        codes.append(f"{prefix}{k + 1:03d}")
        district = districts[k % len(districts)]
        round_no = k // len(districts)
        names.append(f"{district}店" if round_no == 0 else f"{district}{round_no + 1}店")
        cities.append(city)
        regions.append(region)
    index = np.arange(n_stores)
    is_franchise = rng.random(n_stores) < 0.25
    is_franchise[: min(n_stores, 3)] = False
    status = np.full(n_stores, "营业", dtype=object)
    if n_stores >= 20:
        status[-1] = "筹备"
        status[-2] = "停业"
    royalty = np.where(is_franchise, rng.choice([0.04, 0.05, 0.06, 0.08], n_stores), np.nan)
    franchisee = np.where(is_franchise, [f"F{1 + i // 3:03d}" for i in index], "")
    meituan = digit_ids("MT", 880000 + unique_numbers(index, 100000, seed, 21), 6)
    eleme = digit_ids("E2099", unique_numbers(index, 10000, seed, 22), 4)
    douyin = digit_ids("71000000", unique_numbers(index, 10**11, seed, 23), 11)
    opened = [date(2019, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 2400, n_stores)]
    area = rng.integers(45, 180, n_stores)
    frame = pl.DataFrame(
        {
            "门店编码": codes,
            "门店名称": names,
            "城市": cities,
            "区域": regions,
            "门店类型": np.where(is_franchise, "加盟", "直营"),
            "开业日期": [d.isoformat() for d in opened],
            "营业面积": area,
            "美团门店ID": meituan,
            "饿了么店铺ID": eleme,
            "抖音POI": douyin,
            "加盟商编码": franchisee,
            "特许权使用费率": [f"{r:.2f}" if r == r else "" for r in royalty],
            "状态": status.astype(str),
        }
    )
    phone_suffix = unique_numbers(index + 10**7 * 9, 10**8, seed, 31)
    return Stores(
        frame=frame,
        code=np.array(codes),
        name=np.array(names),
        is_open=status == "营业",
        is_franchise=is_franchise,
        traffic=rng.lognormal(0.0, 0.35, n_stores) * (area / 85.0) ** 0.3,
        meituan_id=meituan.to_numpy().astype(str),
        eleme_id=eleme.to_numpy().astype(str),
        douyin_poi=douyin.to_numpy().astype(str),
        phone=rng.choice(_PHONE_PREFIXES, n_stores) * 10**8 + phone_suffix,
    )


def build_b2b_customers(n_customers: int, seed: int) -> pl.DataFrame:
    """KA chains, dealers, group-buy accounts, convenience stores and van sellers."""
    rng = np.random.default_rng([seed, 13])
    kinds = rng.choice(len(_B2B_TYPES), n_customers, p=[0.15, 0.2, 0.25, 0.25, 0.15])
    rows = []
    for i, k in enumerate(kinds):
        kind = _B2B_TYPES[k]
        base = _B2B_NAMES[kind][i % len(_B2B_NAMES[kind])]
        city = _CITIES[i % len(_CITIES)]
        rows.append(
            {
                "客户编码": f"K{i + 1:03d}",
                "客户名称": f"{city[1]}{base}{i + 1:03d}",
                "客户类型": kind,
                "区域": city[2],
                "信用额度": int(rng.choice([20000, 50000, 80000, 200000, 500000])),
                "账期天数": int(rng.choice([0, 15, 30, 45, 60] if kind != "车销" else [0, 7])),
                "联系人": f"{_SURNAMES[i % len(_SURNAMES)]}经理",
                "联系电话": f"1{rng.integers(3, 9)}{rng.integers(0, 10**9):09d}",
                "创建日期": (
                    date(2022, 1, 1) + timedelta(days=int(rng.integers(0, 1200)))
                ).isoformat(),
            }
        )
    return pl.DataFrame(rows)


@dataclass(slots=True)
class People:
    """Everyone who buys: members first (``index < n_members``), then non-members.

    Rates are expected events per day before calendar effects; they are normalised so
    that the whole population produces the daily volumes of the brief at ``scale``.
    """

    n_members: int
    home_store: np.ndarray
    lifecycle: np.ndarray  # index into LIFECYCLES
    visit_rate: np.ndarray
    basket_mean: np.ndarray
    daypart: np.ndarray
    favourite_category: np.ndarray
    mp_rate: np.ndarray
    douyin_rate: np.ndarray
    meituan_rate: np.ndarray
    eleme_rate: np.ndarray
    join_day: np.ndarray  # simulated day the person becomes a member; <0 before start
    delete_day: np.ndarray  # simulated day the member cancels; huge if never
    churn_day: np.ndarray  # simulated day after which a churning person stops coming
    card_holder: np.ndarray  # family member whose card this person uses, -1 if none
    phone: np.ndarray
    card_no: np.ndarray
    member_no: np.ndarray
    has_unionid: np.ndarray
    has_wecom: np.ndarray
    wecom_typo: np.ndarray
    gender: np.ndarray
    birthday_ordinal: np.ndarray  # 0 when unknown
    name_index: np.ndarray
    level: np.ndarray
    points: np.ndarray
    consent: np.ndarray
    register_day: np.ndarray  # days before start the account was opened
    register_channel: np.ndarray
    seed: int

    @property
    def size(self) -> int:
        return len(self.home_store)

    def is_member_on(self, day_index: int) -> np.ndarray:
        return (self.join_day <= day_index) & (self.delete_day > day_index)

    # Identifier strings, formatted on demand for a set of people.
    def phone_str(self, idx: np.ndarray) -> pl.Series:
        return pl.Series(self.phone[idx]).cast(pl.String)

    def typo_phone_str(self, idx: np.ndarray) -> pl.Series:
        """The phone with two adjacent digits swapped, at a fixed position per person."""
        phone = self.phone_str(idx)
        position = (mix64(idx, self.seed * 7 + 8) % np.uint64(7)).astype(np.int64) + 3
        frame = pl.DataFrame({"p": phone, "i": position})
        p, i = pl.col("p"), pl.col("i")
        return frame.select(
            pl.concat_str(
                [p.str.slice(0, i), p.str.slice(i + 1, 1), p.str.slice(i, 1), p.str.slice(i + 2)]
            )
        ).to_series()

    def card_str(self, idx: np.ndarray) -> pl.Series:
        return digit_ids("M", self.card_no[idx], 10)

    def member_id_str(self, idx: np.ndarray) -> pl.Series:
        return digit_ids("U", self.member_no[idx], 9)

    def unionid_str(self, idx: np.ndarray) -> pl.Series:
        return hex_ids("oUn", mix64(idx, self.seed * 7 + 1), 16)

    def openid_str(self, idx: np.ndarray) -> pl.Series:
        return hex_ids("oOp", mix64(idx, self.seed * 7 + 2), 16)

    def wecom_str(self, idx: np.ndarray) -> pl.Series:
        return hex_ids("wm", mix64(idx, self.seed * 7 + 3), 14)

    def douyin_str(self, idx: np.ndarray) -> pl.Series:
        return hex_ids("dy_", mix64(idx, self.seed * 7 + 4), 12)

    def meituan_str(self, idx: np.ndarray) -> pl.Series:
        return hex_ids("mt", mix64(idx, self.seed * 7 + 5), 10)

    def eleme_str(self, idx: np.ndarray) -> pl.Series:
        return hex_ids("el", mix64(idx, self.seed * 7 + 6), 10)

    def name_str(self, idx: np.ndarray) -> pl.Series:
        surname = pl.Series(_SURNAMES).gather(self.name_index[idx] % len(_SURNAMES))
        given = pl.Series(_GIVEN).gather(self.name_index[idx] // len(_SURNAMES) % len(_GIVEN))
        return surname + given

    def person_id_str(self, idx: np.ndarray) -> pl.Series:
        return digit_ids("P", idx, 9)


def _normalise(rate: np.ndarray, total: float) -> np.ndarray:
    return rate * (total / max(rate.sum(), 1e-9))


def build_people(n_members: int, stores: Stores, days: int, scale: float, seed: int) -> People:
    """Members (95% signed up in store) and the non-members seen on platforms and tills."""
    rng = np.random.default_rng([seed, 14])
    n_future = max(1, round(n_members * 0.0004 * days))  # sign-ups during the run
    n_platform_only = round(n_members * 0.25)
    n = n_members + n_future + n_platform_only
    index = np.arange(n)
    open_stores = stores.open_index
    home = rng.choice(
        open_stores, n, p=stores.traffic[open_stores] / stores.traffic[open_stores].sum()
    )
    lifecycle = rng.choice(len(LIFECYCLES), n, p=[0.1, 0.15, 0.4, 0.2, 0.15])
    lifecycle[n_members : n_members + n_future] = 0
    is_member = index < n_members + n_future

    base = rng.lognormal(0.0, 0.8, n) * np.array([1.2, 3.0, 1.0, 0.6, 0.8])[lifecycle]
    visit = np.where(is_member, base, 0.0)
    churn_day = np.full(n, 10**6, dtype=np.int64)
    churning = lifecycle == 4
    churn_day[churning] = rng.integers(-30, max(days, 1) + 60, churning.sum())

    def channel_rate(share: float, total: float, member_weight: float) -> np.ndarray:
        affinity = rng.random(n) < share
        weight = np.where(is_member, member_weight, 1.0) * rng.lognormal(0.0, 0.7, n)
        return _normalise(np.where(affinity, weight, 0.0), total * scale)

    join_day = np.full(n, -1, dtype=np.int64)
    join_day[n_members : n_members + n_future] = rng.integers(0, max(days, 1), n_future)
    join_day[n_members + n_future :] = 10**6
    delete_day = np.full(n, 10**6, dtype=np.int64)
    cancelling = (rng.random(n) < 0.0002 * max(days, 1)) & is_member
    delete_day[cancelling] = rng.integers(0, max(days, 1), cancelling.sum())

    card_holder = np.full(n, -1, dtype=np.int64)
    family = np.flatnonzero(~is_member & (rng.random(n) < 0.06))
    card_holder[family] = rng.integers(0, n_members, family.size)
    home[family] = home[card_holder[family]]
    visit[family] = rng.lognormal(-1.0, 0.6, family.size)

    # The member tickets are ~45% of the chain's ~40k tickets a day.
    visit = _normalise(visit, 40000 * 0.45 * scale)
    phone_suffix = unique_numbers(index, 10**8, seed, 32)
    register_channel = np.where(
        rng.random(n) < 0.95, 0, rng.integers(1, 5, n)
    )  # POS, MINIPROGRAM, DOUYIN, WECOM, MEITUAN
    return People(
        n_members=n_members,
        home_store=home,
        lifecycle=lifecycle,
        visit_rate=visit,
        basket_mean=rng.gamma(2.0, 0.8, n) + 1.0,
        daypart=rng.choice(len(DAYPARTS), n, p=[0.35, 0.2, 0.2, 0.25]),
        favourite_category=rng.choice(4, n, p=[0.45, 0.2, 0.15, 0.2]),
        mp_rate=channel_rate(0.2, 3000, 1.0) * is_member,
        douyin_rate=channel_rate(0.15, 2000, 0.6),
        meituan_rate=channel_rate(0.2, 3000, 0.5),
        eleme_rate=channel_rate(0.12, 1500, 0.5),
        join_day=join_day,
        delete_day=delete_day,
        churn_day=churn_day,
        card_holder=card_holder,
        phone=rng.choice(_PHONE_PREFIXES, n) * 10**8 + phone_suffix,
        card_no=unique_numbers(index, 10**10, seed, 33),
        member_no=unique_numbers(index, 10**9, seed, 34),
        has_unionid=rng.random(n) < 0.8,
        has_wecom=is_member & (rng.random(n) < 0.3),
        wecom_typo=rng.random(n) < 0.05,
        gender=rng.choice(np.array(["M", "F", "U"]), n, p=[0.35, 0.5, 0.15]),
        birthday_ordinal=np.where(
            rng.random(n) < 0.7, date(1960, 1, 1).toordinal() + rng.integers(0, 16000, n), 0
        ),
        name_index=rng.integers(0, len(_SURNAMES) * len(_GIVEN), n),
        level=rng.choice(4, n, p=[0.6, 0.25, 0.12, 0.03]),
        points=rng.integers(0, 5000, n),
        consent=rng.random(n) < 0.7,
        register_day=rng.integers(1, 1100, n),
        register_channel=register_channel,
        seed=seed,
    )
