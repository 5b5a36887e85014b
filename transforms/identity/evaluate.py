"""Measuring identity resolution: pairwise precision, recall, F1 and over-merge rate.

Pairwise metrics count record pairs: a predicted pair is correct when both records
belong to the same true person. They are computed from cluster-intersection sizes
(sum of n*(n-1)/2), never by enumerating pairs, so they are cheap at any size. The
over-merge rate is the share of predicted clusters holding more than one true person.

Also here: `labelled_people`, a generator of labelled people records with realistic
noise (typos, formats, missing values, shared family phones), used by the tests and
the benchmark until labelled simulator output is available, and
`evaluate_oneid`, which scores silver/identity_map against the simulator's truth.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl


@dataclass(frozen=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    over_merge_rate: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    records: int
    predicted_clusters: int
    true_people: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(sizes: pl.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(assignment: pl.DataFrame) -> PairwiseScores:
    """Scores of an `item, predicted, truth` frame (one row per record)."""
    predicted_pairs = _pairs(assignment.group_by("predicted").len()["len"])
    true_pairs = _pairs(assignment.group_by("truth").len()["len"])
    correct_pairs = _pairs(assignment.group_by(["predicted", "truth"]).len()["len"])
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    people_per_cluster = assignment.group_by("predicted").agg(pl.col("truth").n_unique())
    clusters = people_per_cluster.height
    over = people_per_cluster.filter(pl.col("truth") > 1).height
    return PairwiseScores(
        precision=round(precision, 5),
        recall=round(recall, 5),
        f1=round(f1, 5),
        over_merge_rate=round(over / clusters, 5) if clusters else 0.0,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        correct_pairs=correct_pairs,
        records=assignment.height,
        predicted_clusters=clusters,
        true_people=assignment["truth"].n_unique(),
    )


def evaluate_resolve(output_csv: Path, truth_csv: Path) -> PairwiseScores:
    """Score a `resolve` output (record_id, person_id) against (record_id, true id).

    The truth file's id column may be named `person_id`, `true_id`, `cluster` or
    `entity_id`.
    """
    predicted = pl.read_csv(output_csv, infer_schema=False)
    truth = pl.read_csv(truth_csv, infer_schema=False)
    truth_column = next(
        c for c in ("true_id", "person_id", "entity_id", "cluster", "label") if c in truth.columns
    )
    joined = predicted.select("record_id", pl.col("person_id").alias("predicted")).join(
        truth.select("record_id", pl.col(truth_column).alias("truth")), on="record_id"
    )
    return pairwise_scores(joined)


# -- OneID against the simulator's truth -----------------------------------------------
TRUTH_ID_TYPES = {
    # simulator's id_type -> OneID id_type (identical unless listed)
    "wecom_external_userid": "wecom_external_id",
    "external_userid": "wecom_external_id",
    "card": "card_no",
    "member_card_no": "card_no",
}
STRONG_ID_TYPES = {"phone", "card_no", "member_id", "unionid", "openid", "wecom_external_id"}


def evaluate_oneid(lake: Any, truth_dir: Path, key: bytes) -> dict[str, Any]:
    """Score silver/identity_map against `truth/identifiers.parquet`.

    Each true identifier (id_type, id_value in clear, person_id) is pseudonymised with
    the pipeline's key and looked up in the map. Scored are the identifiers the
    pipeline has seen (the map holds every observed, non-shared identifier); the
    others are reported as coverage. Identifiers the truth gives no person (store
    phones typed for walk-ins) must not be in the map: `shared_in_map` counts them.
    Returns scores overall, strong identifiers only, and pairs touching a platform
    (weak) identifier.
    """
    from bakehouse.pii import normalize_phone, pseudonym

    truth = pl.read_parquet(truth_dir / "identifiers.parquet")
    truth = truth.with_columns(
        pl.col("id_type").replace(TRUTH_ID_TYPES).alias("id_type"),
        pl.col("person_id").cast(pl.String),
    )

    def hash_row(id_type: str, value: str) -> str | None:
        value = value.strip()
        if id_type == "phone":
            value = normalize_phone(value) or value
        return pseudonym(key, id_type, value)

    truth = truth.with_columns(
        pl.struct("id_type", "id_value")
        .map_elements(lambda r: hash_row(r["id_type"], str(r["id_value"])), return_dtype=pl.String)
        .alias("id_hash")
    )
    mapped = pl.from_arrow(
        lake.read_arrow("silver", "identity_map", columns=["id_type", "id_hash", "one_id"])
    )
    assert isinstance(mapped, pl.DataFrame)
    joined = truth.join(mapped, on=["id_type", "id_hash"], how="inner")
    shared_in_map = joined.filter(pl.col("person_id").is_null()).height
    joined = (
        joined.filter(pl.col("person_id").is_not_null())
        .unique(["id_type", "id_hash"])
        .with_columns(pl.col("one_id").alias("predicted"), pl.col("person_id").alias("truth"))
    )
    strong = joined.filter(pl.col("id_type").is_in(list(STRONG_ID_TYPES)))
    return {
        "overall": pairwise_scores(joined),
        "strong": pairwise_scores(strong),
        "weak": _weak_scores(joined),
        "coverage": round(joined.height / max(truth.height, 1), 4),
        "shared_in_map": shared_in_map,
    }


def _weak_scores(joined: pl.DataFrame) -> PairwiseScores:
    """Pairs involving at least one platform identifier: did weak ids land right?

    Computed as all pairs among records of people or clusters that hold a platform
    id, minus the pairs among their strong identifiers.
    """
    weak = joined.filter(~pl.col("id_type").is_in(list(STRONG_ID_TYPES)))
    people = weak["truth"].unique()
    clusters = weak["predicted"].unique()
    related = joined.filter(pl.col("truth").is_in(people) | pl.col("predicted").is_in(clusters))
    every = pairwise_scores(related)
    strong = pairwise_scores(related.filter(pl.col("id_type").is_in(list(STRONG_ID_TYPES))))
    predicted = every.predicted_pairs - strong.predicted_pairs
    true = every.true_pairs - strong.true_pairs
    correct = every.correct_pairs - strong.correct_pairs
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(
        precision=round(precision, 5),
        recall=round(recall, 5),
        f1=round(f1, 5),
        over_merge_rate=every.over_merge_rate,
        predicted_pairs=predicted,
        true_pairs=true,
        correct_pairs=correct,
        records=weak.height,
        predicted_clusters=every.predicted_clusters,
        true_people=every.true_people,
    )


# -- labelled synthetic people ----------------------------------------------------------------
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梅玉兰丹萍鹏辉宇浩然子轩欣怡梓涵雨欣思远嘉怡晨阳俊杰"  # noqa: E501
_FIRST = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Wei",
    "Li",
    "Ming",
    "Hui",
    "Yan",
    "Jun",
    "Lei",
    "Jing",
]
_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Taylor",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Lee",
    "Clark",
    "Lewis",
    "Walker",
]
_CITIES = [
    ("上海市", "200"),
    ("杭州市", "310"),
    ("北京市", "100"),
    ("南京市", "210"),
    ("苏州市", "215"),
    ("London", "SW1"),
    ("Shenzhen", "518"),
    ("广州市", "510"),
]
_STREETS = [
    "南京西路",
    "淮海中路",
    "文三路",
    "延安东路",
    "中山路",
    "人民路",
    "High Street",
    "Station Road",
    "Church Lane",
    "解放路",
    "建国路",
    "长江路",
]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 2:
        return text
    i = rng.randrange(len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind < 0.7:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice("aeiounrst") + text[i + 1 :]


def _phone_format(phone: str, rng: random.Random) -> str:
    return rng.choice(
        [
            phone,
            f"+86 {phone}",
            f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"{phone[:3]} {phone[3:7]} {phone[7:]}",
            f"0086{phone}",
        ]
    )


def _date_format(day: date, rng: random.Random) -> str:
    return rng.choice(
        [
            day.isoformat(),
            day.strftime("%Y/%m/%d"),
            day.strftime("%d/%m/%Y"),
            day.strftime("%Y%m%d"),
            f"{day.year}年{day.month}月{day.day}日",
            day.strftime("%d %b %Y"),
        ]
    )


def labelled_people(
    n_people: int, *, seed: int = 7, max_records: int = 4, noise: float = 0.25
) -> pl.DataFrame:
    """Labelled people records: the input columns of `resolve` plus `true_id`.

    Each person has 1..max_records records from different sources with formatting
    variation on every record and, with probability `noise` per field, a typo or a
    missing value. About 3% of people share a family phone and address with another
    person (a different name and birthday), the case the guards exist for.
    """
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    record = 0
    family: dict[str, Any] | None = None
    for person in range(n_people):
        chinese = rng.random() < 0.6
        if chinese:
            full_name = rng.choice(_SURNAMES) + "".join(
                rng.choice(_GIVEN) for _ in range(rng.choice([1, 2]))
            )
            latin = False
        else:
            full_name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            latin = True
        phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        handle = f"user{person}{rng.randrange(1000)}"
        domain = rng.choice(["qq.com", "163.com", "gmail.com", "outlook.com"])
        email = f"{handle}@{domain}"
        birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        gender = rng.choice(["M", "F"])
        city, post = rng.choice(_CITIES)
        address = f"{rng.choice(_STREETS)}{rng.randrange(1, 999)}号"
        postcode = f"{post}{rng.randrange(100, 999)}"
        if family is not None and rng.random() < 0.03:
            phone, address, city, postcode = (
                family["phone"],
                family["address"],
                family["city"],
                family["postcode"],
            )
        family = {"phone": phone, "address": address, "city": city, "postcode": postcode}
        for _ in range(rng.randint(1, max_records)):
            record += 1

            def noisy(value: str | None, typo: bool = True) -> str | None:
                roll = rng.random()
                if value is None or roll < noise / 2:
                    return None
                if typo and roll < noise:
                    return _typo(value, rng)
                return value

            name_value = full_name
            if latin and rng.random() < 0.2:
                first, last = full_name.split(" ")
                name_value = rng.choice(
                    [f"{last} {first}", f"{first.upper()} {last.upper()}", f"{first[0]}. {last}"]
                )
            email_value = email
            if domain == "gmail.com" and rng.random() < 0.3:
                email_value = f"{handle[:3]}.{handle[3:]}@gmail.com"
            rows.append(
                {
                    "record_id": f"R{record:07d}",
                    "source": rng.choice(["pos", "miniprogram", "wecom", "crm"]),
                    "name": noisy(name_value),
                    "phone": noisy(_phone_format(phone, rng)),
                    "email": noisy(email_value.upper() if rng.random() < 0.2 else email_value),
                    "birthday": noisy(_date_format(birthday, rng), typo=False),
                    "gender": noisy(gender, typo=False),
                    "address": noisy(address),
                    "city": noisy(city, typo=False),
                    "postcode": noisy(postcode, typo=False),
                    "true_id": f"T{person:07d}",
                }
            )
    return pl.DataFrame(rows)
