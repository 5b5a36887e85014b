"""Ground truth for scoring the pipeline; never read by the pipeline itself.

People and their identifiers are static for a run and written once. Per-day truth
(who placed each order, demand versus sales) goes to one parquet file per business
date, and the file and fault logs are appended line by line, so nothing accumulates in
memory across days.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from bakehouse.sim.world import CATEGORIES, DAYPARTS, LIFECYCLES, People, Stores

_NEVER = 10**6
_IDENTIFIER_SCHEMA = pa.schema(
    [
        ("id_type", pa.string()),
        ("id_value", pa.string()),
        ("person_id", pa.string()),
        ("note", pa.string()),
    ]
)


class TruthWriter:
    """Writes everything under ``truth/``; one instance per run."""

    def __init__(self, truth: Path) -> None:
        self.root = truth
        (truth / "order_people").mkdir(parents=True, exist_ok=True)
        (truth / "demand").mkdir(parents=True, exist_ok=True)
        self._files_log = (truth / "files.jsonl").open("wb")
        self._faults_log = (truth / "faults.jsonl").open("wb")

    def close(self) -> None:
        self._files_log.close()
        self._faults_log.close()

    def record_file(self, **entry: Any) -> None:
        self._files_log.write(orjson.dumps(entry) + b"\n")

    def record_fault(self, **entry: Any) -> None:
        self._faults_log.write(orjson.dumps(entry) + b"\n")

    def write_day(self, day: date, order_people: pl.DataFrame, demand: pl.DataFrame) -> None:
        order_people.write_parquet(self.root / "order_people" / f"{day.isoformat()}.parquet")
        demand.write_parquet(self.root / "demand" / f"{day.isoformat()}.parquet")

    def write_people(self, people: People, stores: Stores, start: date) -> None:
        """``persons.parquet`` and ``identifiers.parquet`` for everyone in the run."""
        everyone = np.arange(people.size)
        is_member = people.join_day < _NEVER

        def day_or_null(day_index: np.ndarray) -> pl.Series:
            capped = np.where(day_index >= _NEVER, 0, day_index)
            dates = pl.Series(np.datetime64(start, "D") + capped.astype("timedelta64[D]"))
            return _null_where(dates, day_index >= _NEVER)

        member_since = np.where(people.join_day < 0, -people.register_day, people.join_day)
        member_since = np.where(is_member, member_since, _NEVER)
        holder = people.card_holder
        persons = pl.DataFrame(
            {
                "person_id": people.person_id_str(everyone),
                "is_member": is_member,
                "member_id": _null_where(people.member_id_str(everyone), ~is_member),
                "member_since": day_or_null(member_since),
                "cancelled_on": day_or_null(people.delete_day),
                "churned_after": day_or_null(
                    np.where(people.lifecycle == 4, people.churn_day, _NEVER)
                ),
                "home_store": stores.code[people.home_store],
                "lifecycle": np.array(LIFECYCLES)[people.lifecycle],
                "visits_per_day": people.visit_rate,
                "basket_lines_mean": people.basket_mean,
                "daypart": np.array(DAYPARTS)[people.daypart],
                "favourite_category": np.array(CATEGORIES)[people.favourite_category],
                "miniprogram_orders_per_day": people.mp_rate,
                "douyin_orders_per_day": people.douyin_rate,
                "meituan_orders_per_day": people.meituan_rate,
                "eleme_orders_per_day": people.eleme_rate,
                "uses_card_of": _null_where(
                    people.person_id_str(np.maximum(holder, 0)), holder < 0
                ),
            }
        )
        persons.write_parquet(self.root / "persons.parquet")

        person_id = people.person_id_str(everyone)
        members = np.flatnonzero(is_member)
        unionid = np.flatnonzero(is_member & people.has_unionid)
        wecom = np.flatnonzero(people.has_wecom)
        typo = np.flatnonzero(people.has_wecom & people.wecom_typo)
        identifier_sets = [
            ("phone", everyone, people.phone_str(everyone), None),
            ("phone", typo, people.typo_phone_str(typo), "staff_typo"),
            ("card_no", members, people.card_str(members), None),
            ("member_id", members, people.member_id_str(members), None),
            ("unionid", unionid, people.unionid_str(unionid), None),
            ("openid", members, people.openid_str(members), None),
            ("wecom_external_userid", wecom, people.wecom_str(wecom), None),
        ]
        for id_type, rate, formatter in (
            ("douyin_open_id", people.douyin_rate, people.douyin_str),
            ("meituan_user_id", people.meituan_rate, people.meituan_str),
            ("eleme_user_id", people.eleme_rate, people.eleme_str),
        ):
            who = np.flatnonzero(rate > 0)
            identifier_sets.append((id_type, who, formatter(who), None))
        with pq.ParquetWriter(self.root / "identifiers.parquet", _IDENTIFIER_SCHEMA) as writer:
            for id_type, who, values, note in identifier_sets:
                writer.write_table(
                    pa.table(
                        {
                            "id_type": pa.array([id_type] * who.size, pa.string()),
                            "id_value": values.to_arrow().cast(pa.string()),
                            "person_id": person_id.gather(who).to_arrow().cast(pa.string()),
                            "note": pa.array([note] * who.size, pa.string()),
                        },
                        schema=_IDENTIFIER_SCHEMA,
                    )
                )
            shop_phones = pl.Series(stores.phone).cast(pl.String)
            writer.write_table(
                pa.table(
                    {
                        "id_type": pa.array(["phone"] * stores.size, pa.string()),
                        "id_value": shop_phones.to_arrow().cast(pa.string()),
                        "person_id": pa.nulls(stores.size, pa.string()),
                        "note": pa.array(["store_phone_for_walk_ins"] * stores.size, pa.string()),
                    },
                    schema=_IDENTIFIER_SCHEMA,
                )
            )


def _null_where(values: pl.Series, mask: np.ndarray) -> pl.Series:
    frame = pl.DataFrame({"value": values, "mask": mask})
    return frame.select(pl.when(pl.col("mask")).then(None).otherwise(pl.col("value"))).to_series()
