"""Labelled person records with realistic errors, for measuring `resolve`.

Kept apart from the simulator on purpose: the simulator makes our chain's data, and
a resolver tuned on it learns our data. These sets imitate external files instead.

Kinds (`KINDS`):
- `typo`: Latin-script people, FEBRL-style: an original and 0-4 duplicates, each
  duplicate with 1-3 errors among typos (insert, delete, substitute with a
  keyboard neighbour, transpose), OCR and phonetic confusions, missing values,
  first/last names swapped, day/month transposed, abbreviated addresses,
  truncated postcodes.
- `nickname`: as `typo` with nicknames and aliases (Rob/Robert, Tom/Thomas, from
  the `nicknames` package) and heavier errors (2-5 per duplicate).
- `crowd`: about ten records per person (6-14), 1-4 errors each.
- `chinese`: Hanzi names (traditional forms, homophones, look-alike characters,
  pinyin in either order, minority names with middle dots), mobiles in any format
  (+86, 0086, dashes, spaces, full-width digits), Chinese and ISO dates.

Every kind has families: about 4% of people share a phone and address with another
person of the same surname (a different first name and birthday), the case that
tempts a model into merging. Columns: the `resolve` input columns plus `true_id`.
"""

from __future__ import annotations

import itertools
import random
import string
from datetime import date, timedelta
from typing import Any

import polars as pl

from bakehouse.resolve.records import INPUT_COLUMNS

KINDS = ("typo", "nickname", "crowd", "chinese")
COLUMNS = (*INPUT_COLUMNS, "true_id")  # what `bakehouse resolve` reads, plus the truth

_SURNAMES = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "gomez",
    "phillips",
    "evans",
    "turner",
    "diaz",
    "parker",
    "cruz",
    "edwards",
    "collins",
    "reyes",
    "stewart",
    "morris",
    "morales",
    "murphy",
    "cook",
    "rogers",
    "gutierrez",
    "ortiz",
    "morgan",
    "cooper",
    "peterson",
    "bailey",
    "reed",
    "kelly",
    "howard",
    "ramos",
    "kim",
    "cox",
    "ward",
    "richardson",
    "watson",
    "brooks",
    "chavez",
    "wood",
    "james",
    "bennett",
    "gray",
    "mendoza",
    "ruiz",
    "hughes",
    "price",
    "alvarez",
    "castillo",
    "sanders",
    "patel",
    "myers",
    "long",
    "ross",
    "foster",
    "jimenez",
    "powell",
    "jenkins",
    "perry",
    "russell",
    "sullivan",
    "bell",
    "coleman",
    "butler",
    "henderson",
    "barnes",
    "fisher",
    "vasquez",
    "simmons",
    "romero",
    "jordan",
    "patterson",
    "alexander",
    "hamilton",
    "graham",
    "reynolds",
    "griffin",
    "wallace",
    "moreno",
    "west",
    "cole",
    "hayes",
    "bryant",
    "herrera",
    "gibson",
    "ellis",
    "tran",
    "medina",
    "aguilar",
    "stevens",
    "murray",
    "ford",
    "castro",
    "marshall",
    "owens",
    "harrison",
    "fernandez",
    "mcdonald",
    "woods",
    "washington",
    "kennedy",
    "wells",
    "vargas",
    "henry",
    "chen",
    "freeman",
    "webb",
    "tucker",
    "guzman",
    "burns",
    "crawford",
    "olson",
    "simpson",
    "porter",
    "hunter",
    "gordon",
    "mendez",
    "silva",
    "shaw",
    "snyder",
    "mason",
    "dixon",
    "munoz",
    "hunt",
    "hicks",
    "holmes",
    "palmer",
]
_FIRST = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "dorothy",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "edward",
    "deborah",
    "ronald",
    "stephanie",
    "timothy",
    "rebecca",
    "jason",
    "sharon",
    "jeffrey",
    "laura",
    "ryan",
    "cynthia",
    "jacob",
    "kathleen",
    "gary",
    "amy",
    "nicholas",
    "shirley",
    "eric",
    "angela",
    "jonathan",
    "helen",
    "stephen",
    "anna",
    "larry",
    "brenda",
    "justin",
    "pamela",
    "scott",
    "nicole",
    "brandon",
    "emma",
    "benjamin",
    "samantha",
    "samuel",
    "katherine",
    "gregory",
    "christine",
    "frank",
    "debra",
    "alexander",
    "rachel",
    "raymond",
    "catherine",
    "patrick",
    "carolyn",
    "jack",
    "janet",
    "dennis",
    "ruth",
    "jerry",
    "maria",
    "tyler",
    "heather",
    "aaron",
    "diane",
    "jose",
    "virginia",
    "adam",
    "julie",
    "henry",
    "joyce",
    "nathan",
    "victoria",
    "douglas",
    "olivia",
    "zachary",
    "kelly",
    "peter",
    "christina",
    "kyle",
    "lauren",
    "walter",
    "joan",
    "ethan",
    "evelyn",
    "jeremy",
    "judith",
    "harold",
    "megan",
    "keith",
    "cheryl",
    "christian",
    "andrea",
    "roger",
    "hannah",
    "noah",
    "martha",
    "gerald",
    "jacqueline",
    "carl",
    "frances",
    "terry",
    "gloria",
    "sean",
    "ann",
    "austin",
    "teresa",
    "arthur",
    "kathryn",
    "lawrence",
    "sara",
    "jesse",
    "janice",
    "dylan",
    "jean",
    "bryan",
    "alice",
    "joe",
    "madison",
    "jordan",
    "doris",
    "billy",
    "abigail",
    "bruce",
    "julia",
    "albert",
    "judy",
    "willie",
    "grace",
    "gabriel",
    "denise",
    "logan",
    "amber",
    "alan",
    "marilyn",
    "juan",
    "beverly",
    "wayne",
    "danielle",
    "roy",
    "theresa",
    "ralph",
    "sophia",
    "randy",
    "marie",
    "eugene",
    "diana",
    "vincent",
    "brittany",
    "russell",
    "natalie",
    "elijah",
    "isabella",
    "louis",
    "charlotte",
    "bobby",
    "rose",
    "philip",
    "alexis",
    "johnny",
    "kayla",
]
_STREETS = [
    "high",
    "church",
    "station",
    "victoria",
    "green",
    "manor",
    "park",
    "queens",
    "kings",
    "grange",
    "mill",
    "school",
    "north",
    "south",
    "west",
    "east",
    "london",
    "york",
    "alexander",
    "wattle",
    "banksia",
    "acacia",
    "elm",
    "oak",
    "maple",
    "cedar",
    "pine",
    "willow",
]
_STREET_TYPES = {"street": "st", "road": "rd", "avenue": "ave", "lane": "ln", "place": "pl"}
_SUBURBS = [
    "kingston",
    "richmond",
    "newtown",
    "ashfield",
    "belmont",
    "clifton",
    "fairfield",
    "greenwood",
    "hillside",
    "lakeside",
    "maplewood",
    "oakdale",
    "riverside",
    "springfield",
    "westbury",
    "woodland",
    "brighton",
    "chester",
    "dover",
    "eastwood",
]
_KEYBOARD = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
    "0": "9",
    "1": "2",
    "2": "13",
    "3": "24",
    "4": "35",
    "5": "46",
    "6": "57",
    "7": "68",
    "8": "79",
    "9": "80",
}
_OCR = [("0", "o"), ("1", "l"), ("5", "s"), ("8", "b"), ("rn", "m"), ("cl", "d"), ("vv", "w")]
_PHONETIC = [
    ("ph", "f"),
    ("ck", "k"),
    ("ee", "ea"),
    ("y", "i"),
    ("ll", "l"),
    ("c", "k"),
    ("z", "s"),
]

# Chinese: surnames weighted as they are common; given-name characters; homophone
# groups (same pinyin) and look-alike pairs (OCR confusions) for errors.
_CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
_CN_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红梅玉丹萍鹏辉宇浩然子轩欣怡梓涵雨思远嘉晨阳俊文斌婷雪琳颖佳慧博宁凯鑫晶燕"  # noqa: E501
_HOMOPHONES = [
    "伟玮炜维",
    "芳方芬",
    "娜纳",
    "静晶婧",
    "丽莉立",
    "强蔷",
    "军君钧",
    "洋阳扬杨",
    "杰洁捷",
    "明铭鸣",
    "华桦骅",
    "红宏鸿",
    "玉钰昱",
    "鹏朋",
    "辉晖徽",
    "宇雨语羽",
    "欣新鑫馨",
    "怡仪宜",
    "嘉佳家",
    "婷庭亭",
    "斌彬",
    "颖莹英",
    "慧惠蕙",
    "凯恺",
]
_LOOKALIKE = [
    "王玉",
    "未末",
    "己已",
    "日曰",
    "人入",
    "土士",
    "天夭",
    "大太",
    "刀力",
    "贝见",
    "伟纬",
    "明朋",
    "静净",
    "晶品",
]
_MINORITY = [
    "古丽米热·艾比布力",
    "阿依古丽·买买提",
    "买买提·吐尔逊",
    "热依拉·阿不都",
    "艾力·库尔班",
]
_CN_CITIES = [
    ("上海市", "200"),
    ("杭州市", "310"),
    ("北京市", "100"),
    ("南京市", "210"),
    ("苏州市", "215"),
    ("广州市", "510"),
    ("深圳市", "518"),
    ("成都市", "610"),
]
_CN_STREETS = [
    "南京西路",
    "淮海中路",
    "文三路",
    "延安东路",
    "中山路",
    "人民路",
    "解放路",
    "建国路",
    "长江路",
    "天府大道",
    "建设路",
    "和平路",
]
_MIDDLE_DOTS = "·・‧•"


def _zipf_choice(rng: random.Random, items: list[str] | str, skew: float = 1.0) -> str:
    """Common names are common: item k drawn with weight 1/(k+5)**skew (the most
    common first name or surname is held by about 5% of people, as in censuses)."""
    weights = [1 / (k + 5) ** skew for k in range(len(items))]
    return rng.choices(list(items), weights=weights)[0]


# -- errors ----------------------------------------------------------------------------
def typo(text: str, rng: random.Random) -> str:
    """One keystroke error: insert, delete, substitute (keyboard neighbour), transpose."""
    if len(text) < 2:
        return text
    i = rng.randrange(len(text))
    kind = rng.randrange(4)
    near = _KEYBOARD.get(text[i].lower(), string.ascii_lowercase)
    if kind == 0:
        return text[:i] + rng.choice(near) + text[i:]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + rng.choice(near) + text[i + 1 :]
    i = min(i, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def confusion(text: str, rng: random.Random) -> str:
    """An OCR or phonetic confusion when one applies, else a typo."""
    pairs = [(a, b) for a, b in _OCR + _PHONETIC if a in text] + [
        (b, a) for a, b in _OCR + _PHONETIC if b in text
    ]
    if not pairs:
        return typo(text, rng)
    a, b = rng.choice(pairs)
    return text.replace(a, b, 1)


def _nicknames():
    from nicknames import NickNamer

    return NickNamer()


class _Latin:
    def __init__(self, rng: random.Random, nicknames: bool) -> None:
        self.rng = rng
        self.serial = itertools.count(rng.randrange(100))
        self.namer = _nicknames() if nicknames else None

    def person(self, surname: str | None = None) -> dict[str, Any]:
        rng = self.rng
        birthday = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 75))
        street = f"{rng.choice(_STREETS)} {rng.choice(list(_STREET_TYPES))}"
        first = _zipf_choice(rng, _FIRST)
        last = surname or _zipf_choice(rng, _SURNAMES)
        return {
            "first": first,
            "last": last,
            "phone": f"0{rng.choice('234')} {rng.randrange(1000, 9999)} "
            f"{rng.randrange(1000, 9999)}",
            # An address is one person's: the number makes it unique in the set.
            "email": f"{first[: rng.choice([1, len(first)])]}{last}{next(self.serial)}@"
            + rng.choice(["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]),
            "birthday": birthday,
            "gender": rng.choice("mf"),
            "number": str(rng.randrange(1, 300)),
            "street": street,
            "city": rng.choice(_SUBURBS),
            "postcode": str(rng.randrange(2000, 7999)),
        }

    def record(self, person: dict[str, Any], errors: int) -> dict[str, Any]:
        rng = self.rng
        value = dict(person)
        value["birthday"] = person["birthday"].strftime("%Y%m%d")
        fields = [
            "first",
            "last",
            "phone",
            "email",
            "birthday",
            "number",
            "street",
            "city",
            "postcode",
            "gender",
        ]
        for _ in range(errors):
            field = rng.choice(fields)
            roll = rng.random()
            current = value[field]
            if current is None:
                continue
            if roll < 0.18:
                value[field] = None
            elif field == "first" and self.namer is not None and roll < 0.55:
                nicks = sorted(self.namer.nicknames_of(current))
                value[field] = rng.choice(nicks) if nicks else typo(current, rng)
            elif field in {"first", "last"} and roll < 0.3:
                value["first"], value["last"] = value["last"], value["first"]
            elif field == "birthday" and roll < 0.45:
                value[field] = current[:4] + current[6:8] + current[4:6]
            elif field == "street" and roll < 0.5:
                words = current.split()
                value[field] = " ".join(_STREET_TYPES.get(w, w) for w in words)
            elif field == "postcode" and roll < 0.4:
                value[field] = current[:2]
            elif field == "gender":
                value[field] = None
            elif roll < 0.6:
                value[field] = confusion(current, rng)
            else:
                value[field] = typo(current, rng)
        address = " ".join(p for p in (value["number"], value["street"]) if p) or None
        name = " ".join(p for p in (value["first"], value["last"]) if p) or None
        return {
            "name": name,
            "phone": value["phone"],
            "email": value["email"],
            "birthday": value["birthday"],
            "gender": value["gender"],
            "address": address,
            "city": value["city"],
            "postcode": value["postcode"],
        }


class _Chinese:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def person(self, surname: str | None = None) -> dict[str, Any]:
        rng = self.rng
        if surname is None and rng.random() < 0.03:
            name = rng.choice(_MINORITY)
        else:
            name = (surname or _zipf_choice(rng, _CN_SURNAMES)) + "".join(
                rng.choice(_CN_GIVEN) for _ in range(rng.choice([1, 2, 2]))
            )
        city, post = rng.choice(_CN_CITIES)
        return {
            "name": name,
            "phone": "1" + rng.choice("3456789") + "".join(rng.choices(string.digits, k=9)),
            "email": f"{rng.choice(string.ascii_lowercase)}{rng.randrange(10**6)}@"
            + rng.choice(["qq.com", "163.com", "126.com", "sina.com"]),
            "birthday": date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55)),
            "gender": rng.choice("男女"),
            "address": f"{rng.choice(_CN_STREETS)}{rng.randrange(1, 999)}号",
            "city": city,
            "postcode": f"{post}{rng.randrange(100, 999)}",
        }

    def _name(self, name: str) -> str:
        from pypinyin import lazy_pinyin

        rng = self.rng
        roll = rng.random()
        if "·" in name:
            return name.replace("·", rng.choice(_MIDDLE_DOTS))
        if roll < 0.25:
            i = rng.randrange(1, len(name))
            group = next((g for g in _HOMOPHONES if name[i] in g), None)
            group = group or next((g for g in _LOOKALIKE if name[i] in g), None)
            if group:
                return name[:i] + rng.choice(group.replace(name[i], "")) + name[i + 1 :]
            return name
        if roll < 0.45:
            import zhconv

            return zhconv.convert(name, "zh-tw")
        syllables = lazy_pinyin(name)
        surname, given = syllables[0].capitalize(), "".join(syllables[1:]).capitalize()
        return rng.choice(
            [f"{surname} {given}", f"{given} {surname}", f"{surname.upper()} {given}"]
        )

    def _phone(self, phone: str) -> str:
        rng = self.rng
        written = rng.choice(
            [
                phone,
                f"+86 {phone}",
                f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
                f"0086{phone}",
                f"{phone[:3]} {phone[3:7]} {phone[7:]}",
            ]
        )
        if rng.random() < 0.15:
            written = written.translate(str.maketrans(string.digits, "０１２３４５６７８９"))
        return written

    def record(self, person: dict[str, Any], errors: int) -> dict[str, Any]:
        rng = self.rng
        day = person["birthday"]
        value = {
            "name": person["name"],
            "phone": self._phone(person["phone"]),
            "email": person["email"],
            "birthday": rng.choice(
                [
                    day.isoformat(),
                    day.strftime("%Y/%m/%d"),
                    day.strftime("%Y%m%d"),
                    f"{day.year}年{day.month}月{day.day}日",
                ]
            ),
            "gender": person["gender"],
            "address": person["address"],
            "city": person["city"] if rng.random() < 0.5 else person["city"].removesuffix("市"),
            "postcode": person["postcode"],
        }
        for _ in range(errors):
            field = rng.choice(list(value))
            if value[field] is None:
                continue
            roll = rng.random()
            if roll < 0.25:
                value[field] = None
            elif field == "name":
                value[field] = self._name(person["name"])
            elif field == "phone":
                digits = person["phone"]
                i = rng.randrange(3, 11)
                value[field] = digits[:i] + rng.choice(string.digits) + digits[i + 1 :]
            elif field == "birthday":
                value[field] = (day + timedelta(days=rng.choice([-1, 1, 30, 365]))).isoformat()
            elif field == "address":
                value[field] = value[field][: max(2, len(value[field]) - rng.randrange(1, 4))]
            elif field in {"email", "postcode"}:
                value[field] = typo(value[field], rng)
            else:
                value[field] = None
        return value


def labelled_people(
    kind: str, n_people: int, *, seed: int = 7, family_rate: float = 0.04
) -> pl.DataFrame:
    """Labelled person records of one `kind` (see module doc), `COLUMNS`, ordered by a shuffle.

    `n_people` true people; the number of records depends on the kind (typo and
    nickname: about 2.5 per person, crowd: about 10, chinese: about 2.5).
    `family_rate`: share of people sharing phone, address and surname with the
    person made before them. Deterministic for a given seed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    rng = random.Random(f"{kind}-{seed}")
    maker = _Chinese(rng) if kind == "chinese" else _Latin(rng, nicknames=kind == "nickname")
    rows: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for index in range(n_people):
        surname = None
        family = previous is not None and rng.random() < family_rate
        if family and previous is not None:
            surname = previous["last"] if "last" in previous else previous["name"][0]
        person = maker.person(surname)
        if family and previous is not None:
            for shared in ("phone", "address", "city", "postcode", "number", "street"):
                if shared in previous:
                    person[shared] = previous[shared]
        previous = person
        if kind == "crowd":
            copies, errors = rng.randint(6, 14), (1, 4)
        elif kind == "nickname":
            copies, errors = 1 + min(int(rng.expovariate(0.7)), 4), (2, 5)
        else:
            copies, errors = 1 + min(int(rng.expovariate(0.7)), 4), (1, 3)
        for copy in range(copies):
            count = 0 if copy == 0 and kind != "crowd" else rng.randint(*errors)
            record = maker.record(person, count)
            record["true_id"] = f"T{index:06d}"
            record["source"] = rng.choice(["crm", "shop", "web", "app"])
            rows.append(record)
    rng.shuffle(rows)
    for number, row in enumerate(rows):
        row["record_id"] = f"R{number:07d}"
    return pl.DataFrame(rows, schema={c: pl.String for c in COLUMNS}).select(COLUMNS)
