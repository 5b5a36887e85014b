"""OneID benchmarks: the nightly identity graph at SF1, `resolve` on 100k records, and
the accuracy run against the simulator's truth.

    .venv/bin/python bench/bench_oneid.py graph --members 2000000   # + 2 incremental nights
    .venv/bin/python bench/bench_oneid.py resolve --people 40000
    .venv/bin/python bench/bench_oneid.py evaluate --scale 0.1 --days 14

`graph` writes a synthetic bronze member base (members with card, phone, unionid,
openid; POS tickets with card and phone, some with a new phone; WeCom contacts; store
phones typed next to many cards; Meituan orders with masked phones) with the bronze
contract's schema, then times `run_identity` (Sail in-process, so the peak RSS
includes the engine). `resolve` generates labelled records (`labelled_people`, about
2.5 records per person) and scores the output. `evaluate` runs the simulator, ingests,
resolves and scores against truth/identifiers.parquet. Each prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bakehouse.config import Settings, apply_telemetry_off
from ingestion.schemas import FEEDS_BY_NAME, LINEAGE_COLUMNS

NIGHT = date(2026, 11, 1)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _arrow_type(type_name: str) -> pa.DataType:
    return {
        "string": pa.string(),
        "json": pa.string(),
        "int": pa.int64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }.get(type_name, pa.decimal128(18, 2))


def _bronze(
    name: str, columns: dict[str, pa.Array | list], rows: int, day: date = NIGHT
) -> pa.Table:
    """A bronze table with every contract column (nulls where not given), as one
    landing file of `day`."""
    feed = FEEDS_BY_NAME[name]
    spec = [(c.name, c.type) for c in feed.columns] + list(LINEAGE_COLUMNS)
    arrays = {}
    for column, type_name in spec:
        type_ = _arrow_type(type_name)
        if column in columns:
            arrays[column] = pa.array(columns[column], type=type_)
        elif column == "business_date":
            arrays[column] = pa.array([day] * rows, type=type_)
        elif column == "source_file":
            arrays[column] = pa.array([f"{name}_{day:%Y%m%d}.bench"] * rows, type=type_)
        else:
            arrays[column] = pa.nulls(rows, type=type_)
    return pa.table(arrays)


def synthetic_bronze(lake, members: int, seed: int = 1) -> dict[str, int]:
    """Write an SF-sized identifier base to bronze; returns row counts."""
    rng = np.random.default_rng(seed)
    ids = np.arange(members)
    phone = 13_000_000_000 + (ids * 7_919 + 12_345) % 6_000_000_000
    stores = np.array([f"S{i:03d}" for i in range(200)])
    home = rng.integers(0, 200, members)
    member_ids = [f"U{i:09d}" for i in ids]
    cards = [f"M{i:010d}" for i in ids]
    phones = phone.astype(str).tolist()
    lake.write_arrow(
        _bronze(
            "mp_members",
            {
                "member_id": member_ids,
                "card_no": cards,
                "phone": phones,
                "unionid": [f"oUn{i:016x}" for i in ids],
                "openid": [f"oOp{i:016x}" for i in ids],
                "name": ["张伟"] * members,
                "gender": ["U"] * members,
                "registered_at": [None] * members,
                "register_channel": ["POS"] * members,
                "register_store": stores[home].tolist(),
                "is_deleted": [False] * members,
            },
            members,
        ),
        "bronze",
        "mp_members",
        mode="overwrite",
    )
    # POS: half the members show card + phone; 5% a second phone; walk-in store phones.
    shoppers = rng.choice(members, members // 2, replace=False)
    movers = shoppers[: members // 20]
    walk_in_cards = rng.choice(members, 200 * 20, replace=False)
    ticket_cards = np.concatenate([shoppers, movers, walk_in_cards])
    ticket_phones = np.concatenate(
        [
            phone[shoppers],
            19_000_000_000 + movers,
            18_000_000_000 + np.repeat(np.arange(200), 20),
        ]
    )
    tickets = ticket_cards.size
    lake.write_arrow(
        _bronze(
            "pos_sales",
            {
                "store_code": stores[home[ticket_cards]].tolist(),
                "ticket_no": [f"T{i:09d}" for i in range(tickets)],
                "doc_type": ["销售"] * tickets,
                "member_card_no": [cards[i] for i in ticket_cards],
                "member_phone": ticket_phones.astype(str).tolist(),
                "line_no": [1] * tickets,
            },
            tickets,
        ),
        "bronze",
        "pos_sales",
        mode="overwrite",
    )
    wecom = rng.choice(members, members // 10, replace=False)
    lake.write_arrow(
        _bronze(
            "wecom_contacts",
            {
                "external_userid": [f"wm{i:012x}" for i in wecom],
                "unionid": [f"oUn{i:016x}" for i in wecom],
                "staff_id": ["S1"] * wecom.size,
                "store_code": stores[home[wecom]].tolist(),
                "remark_phone": [f"{p // 10**8} {p % 10**8:08d}" for p in phone[wecom]],
            },
            wecom.size,
        ),
        "bronze",
        "wecom_contacts",
        mode="overwrite",
    )
    buyers = rng.choice(members, members // 20, replace=False)
    masked = [f"{str(p)[:3]}****{str(p)[-4:]}" for p in phone[buyers]]
    lake.write_arrow(
        _bronze(
            "meituan_orders",
            {
                "order_id": [f"MT{i:012d}" for i in range(buyers.size)],
                "meituan_store_id": [f"MT{h:06d}" for h in home[buyers]],
                "masked_phone": masked,
                "masked_address": ["上海市**路**号"] * buyers.size,
                "meituan_user_id": [f"mt{i:010x}" for i in buyers],
                "ordered_at": [None] * buyers.size,
            },
            buyers.size,
        ),
        "bronze",
        "meituan_orders",
        mode="overwrite",
    )
    lake.write_arrow(
        _bronze(
            "erp_stores",
            {
                "store_code": stores.tolist(),
                "city": ["上海市"] * 200,
                "meituan_store_id": [f"MT{h:06d}" for h in range(200)],
            },
            200,
        ),
        "bronze",
        "erp_stores",
        mode="overwrite",
    )
    return {
        "mp_members": members,
        "pos_tickets": tickets,
        "wecom": int(wecom.size),
        "meituan_orders": int(buyers.size),
    }


def synthetic_night(lake, members: int, day: date, seed: int) -> dict[str, int]:
    """One night on top of `synthetic_bronze`: new files appended to bronze.

    At 2 million members (SF1): 250,000 member tickets (card and phone; 3% with a
    phone never seen before), 2,000 new members, 2,000 new WeCom contacts, 20,000
    mini-program orders and 40,000 Meituan orders; smaller bases scale it down.
    """
    rng = np.random.default_rng(seed)
    scale = members / 2_000_000

    def n(count: int) -> int:
        return max(1, round(count * scale))

    phone = 13_000_000_000 + (np.arange(members) * 7_919 + 12_345) % 6_000_000_000
    stores = np.array([f"S{i:03d}" for i in range(200)])
    offset = members + (day - NIGHT).days * 10_000
    new_ids = np.arange(offset, offset + n(2_000))
    new_phone = 17_000_000_000 + new_ids
    append = {"mode": "append"}
    lake.write_arrow(
        _bronze(
            "mp_members",
            {
                "member_id": [f"U{i:09d}" for i in new_ids],
                "card_no": [f"M{i:010d}" for i in new_ids],
                "phone": new_phone.astype(str).tolist(),
                "unionid": [f"oUn{i:016x}" for i in new_ids],
                "openid": [f"oOp{i:016x}" for i in new_ids],
                "name": ["李娜"] * new_ids.size,
                "gender": ["F"] * new_ids.size,
                "register_channel": ["MP"] * new_ids.size,
                "register_store": stores[new_ids % 200].tolist(),
                "is_deleted": [False] * new_ids.size,
            },
            new_ids.size,
            day,
        ),
        "bronze",
        "mp_members",
        **append,
    )
    shoppers = rng.integers(0, members, n(250_000))
    phones = phone[shoppers].copy()
    movers = rng.random(shoppers.size) < 0.03
    phones[movers] = 16_000_000_000 + shoppers[movers]
    lake.write_arrow(
        _bronze(
            "pos_sales",
            {
                "store_code": stores[shoppers % 200].tolist(),
                "ticket_no": [f"N{day:%m%d}{i:08d}" for i in range(shoppers.size)],
                "doc_type": ["销售"] * shoppers.size,
                "member_card_no": [f"M{i:010d}" for i in shoppers],
                "member_phone": phones.astype(str).tolist(),
                "line_no": [1] * shoppers.size,
            },
            shoppers.size,
            day,
        ),
        "bronze",
        "pos_sales",
        **append,
    )
    wecom = rng.integers(0, members, n(2_000))
    lake.write_arrow(
        _bronze(
            "wecom_contacts",
            {
                "external_userid": [f"wn{day:%m%d}{i:08x}" for i in range(wecom.size)],
                "unionid": [f"oUn{i:016x}" for i in wecom],
                "staff_id": ["S1"] * wecom.size,
                "store_code": stores[wecom % 200].tolist(),
                "remark_phone": phone[wecom].astype(str).tolist(),
            },
            wecom.size,
            day,
        ),
        "bronze",
        "wecom_contacts",
        **append,
    )
    buyers = rng.integers(0, members, n(20_000))
    lake.write_arrow(
        _bronze(
            "mp_orders",
            {
                "order_id": [f"MP{day:%m%d}{i:08d}" for i in range(buyers.size)],
                "member_id": [f"U{i:09d}" for i in buyers],
                "member_unionid": [f"oUn{i:016x}" for i in buyers],
                "member_openid": [f"oOp{i:016x}" for i in buyers],
                "member_phone": phone[buyers].astype(str).tolist(),
                "store_code": stores[buyers % 200].tolist(),
            },
            buyers.size,
            day,
        ),
        "bronze",
        "mp_orders",
        **append,
    )
    eaters = rng.choice(members, n(40_000), replace=False)
    masked = [f"{str(p)[:3]}****{str(p)[-4:]}" for p in phone[eaters]]
    lake.write_arrow(
        _bronze(
            "meituan_orders",
            {
                "order_id": [f"MT{day:%m%d}{i:08d}" for i in range(eaters.size)],
                "meituan_store_id": [f"MT{h % 200:06d}" for h in eaters],
                "masked_phone": masked,
                "masked_address": ["上海市**路**号"] * eaters.size,
                "meituan_user_id": [f"mt{i:010x}" for i in eaters],
            },
            eaters.size,
            day,
        ),
        "bronze",
        "meituan_orders",
        **append,
    )
    return {
        "pos_tickets": int(shoppers.size),
        "new_members": int(new_ids.size),
        "wecom": int(wecom.size),
        "mp_orders": int(buyers.size),
        "meituan_orders": int(eaters.size),
    }


def bench_night(members: int, home: Path, day: date) -> dict:
    """One incremental night over an existing `graph` home, in its own process."""
    from bakehouse.lake import Lake
    from bakehouse.spark import spark_session
    from transforms.identity.pipeline import run_identity

    settings = Settings(home=home)
    lake = Lake(settings, spark_session())
    rows = synthetic_night(lake, members, day, seed=day.toordinal())
    started = time.perf_counter()
    summary = run_identity(lake, night=day, key=b"bench-key")
    seconds = time.perf_counter() - started
    return {
        "bench": "oneid_night",
        "members": members,
        "night": day.isoformat(),
        "bronze_rows": rows,
        "mode": summary.mode,
        "run_identity_s": round(seconds, 1),
        "affected_identifiers": summary.affected_identifiers,
        "identifiers": summary.identifiers,
        "clusters": summary.clusters,
        "merges": summary.merges,
        "splits": summary.splits,
        "probabilistic_links": summary.probabilistic_links,
        "peak_rss_mb": _peak_rss_mb(),
    }


def bench_graph(members: int, home: Path) -> dict:
    from bakehouse.lake import Lake
    from bakehouse.spark import spark_session
    from transforms.identity.pipeline import run_identity

    settings = Settings(home=home)
    settings.ensure_dirs()
    lake = Lake(settings, spark_session())
    started = time.perf_counter()
    rows = synthetic_bronze(lake, members)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    summary = run_identity(lake, night=NIGHT, key=b"bench-key")
    seconds = time.perf_counter() - started
    return {
        "bench": "oneid_graph",
        "members": members,
        "bronze_rows": rows,
        "generate_s": round(generated, 1),
        "run_identity_s": round(seconds, 1),
        "identifiers": summary.identifiers,
        "clusters": summary.clusters,
        "shared_identifiers": summary.shared_identifiers,
        "probabilistic_links": summary.probabilistic_links,
        "cc_rounds": summary.rounds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def bench_resolve(people: int, home: Path) -> dict:
    import polars as pl

    from bakehouse.resolve import resolve_file
    from bench.resolve.generate import labelled_people
    from transforms.identity.evaluate import pairwise_scores

    records = labelled_people("chinese", people, seed=5)
    source, output = home / "people.csv", home / "clusters.csv"
    home.mkdir(parents=True, exist_ok=True)
    records.drop("true_id").write_csv(source)
    started = time.perf_counter()
    summary = resolve_file(source, output)
    seconds = time.perf_counter() - started
    predicted = pl.read_csv(output, infer_schema=False)
    scores = pairwise_scores(
        predicted.join(records.select("record_id", "true_id"), on="record_id").select(
            pl.col("person_id").alias("predicted"), pl.col("true_id").alias("truth")
        )
    )
    return {
        "bench": "resolve",
        "records": records.height,
        "people": people,
        "seconds": round(seconds, 1),
        "peak_rss_mb": _peak_rss_mb(),
        **{
            k: v
            for k, v in scores.as_dict().items()
            if k in {"precision", "recall", "f1", "over_merge_rate"}
        },
        "linked_pairs": summary.linked_pairs,
    }


def _people_and_labels(lake) -> tuple[dict, dict]:
    """identifier -> frozenset of its person's identifiers, and identifier -> link_kind."""
    rows = lake.read_arrow(
        "silver", "identity_map", columns=["one_id", "id_type", "id_hash", "link_kind"]
    )
    groups: dict[str, set] = {}
    labels = {}
    for row in rows.to_pylist():
        ident = (row["id_type"], row["id_hash"])
        groups.setdefault(row["one_id"], set()).add(ident)
        labels[ident] = row["link_kind"]
    person = {ident: frozenset(ids) for ids in groups.values() for ident in ids}
    return person, labels


def _grouping_differences(left: dict, right: dict) -> set:
    """Identifiers whose person (as a set of identifiers) differs between two maps."""
    return {ident for ident in set(left) | set(right) if left.get(ident) != right.get(ident)}


def bench_evaluate(scale: float, days: int, home: Path) -> dict:
    from bakehouse.lake import Lake
    from bakehouse.pii import load_key
    from bakehouse.sim.engine import simulate
    from bakehouse.spark import spark_session
    from ingestion.pipeline import ingest
    from transforms.identity.evaluate import evaluate_oneid
    from transforms.identity.pipeline import run_identity

    os.environ.setdefault("BAKEHOUSE_PII_KEY", "bench-key-not-secret")
    settings = Settings(home=home)
    settings.ensure_dirs()
    timings = {}
    started = time.perf_counter()
    simulate(settings.landing, settings.truth, scale=scale, start=NIGHT, days=days, seed=42)
    timings["simulate_s"] = round(time.perf_counter() - started, 1)
    lake = Lake(settings, spark_session())
    key = load_key(settings.pii_key_file)
    # Night by night, as production runs it: ingest a date, then identity reads only
    # the files it has not seen (the member base arrives as a dump dated start - 1).
    nights = [NIGHT + timedelta(days=offset) for offset in range(-1, days)]
    timings["ingest_s"] = timings["run_identity_nightly_s"] = 0.0
    for night in nights:
        started = time.perf_counter()
        ingest(settings, [night])
        timings["ingest_s"] += time.perf_counter() - started
        started = time.perf_counter()
        summary = run_identity(lake, night=night, key=key)
        timings["run_identity_nightly_s"] += time.perf_counter() - started
    timings = {name: round(value, 1) for name, value in timings.items()}
    nightly = evaluate_oneid(lake, settings.truth, key)
    nightly_people = _people_and_labels(lake)
    # And a full rebuild of the last night from every bronze row, with the nights'
    # weak-model version (refit=False), for comparison.
    started = time.perf_counter()
    full = run_identity(lake, night=nights[-1], key=key, full=True, refit=False)
    timings["run_identity_full_s"] = round(time.perf_counter() - started, 1)
    scores = evaluate_oneid(lake, settings.truth, key)
    full_people = _people_and_labels(lake)
    differ = {
        "identifiers_grouped_differently": len(
            _grouping_differences(nightly_people[0], full_people[0])
        ),
        "labels_differ": sum(
            1 for ident, kind in full_people[1].items() if nightly_people[1].get(ident) != kind
        ),
    }
    return {
        "bench": "oneid_evaluate",
        "scale": scale,
        "days": days,
        "nights": len(nights),
        **timings,
        "identifiers": full.identifiers,
        "clusters": full.clusters,
        "probabilistic_links": full.probabilistic_links,
        "platform_ids_left_alone": full.weak_left_alone,
        "shared_identifiers": full.shared_identifiers,
        "coverage": scores["coverage"],
        "shared_in_map": scores["shared_in_map"],
        "nightly": {name: nightly[name].as_dict() for name in ("overall", "strong", "weak")},
        "full": {name: scores[name].as_dict() for name in ("overall", "strong", "weak")},
        "nightly_vs_full": differ,
        "model_version": full.model_version,
        "last_night_mode": summary.mode,
        "peak_rss_mb": _peak_rss_mb(),
    }


def main() -> None:
    apply_telemetry_off()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    graph = sub.add_parser("graph", help="build over a synthetic base, then nights")
    graph.add_argument("--members", type=int, default=2_000_000)
    graph.add_argument("--nights", type=int, default=2, help="incremental nights after")
    build = sub.add_parser("build", help="the full build only")
    build.add_argument("--members", type=int, default=2_000_000)
    night = sub.add_parser("night")
    night.add_argument("--members", type=int, default=2_000_000)
    night.add_argument("--day", type=date.fromisoformat, required=True)
    resolve = sub.add_parser("resolve")
    resolve.add_argument("--people", type=int, default=40_000)
    evaluate = sub.add_parser("evaluate")
    evaluate.add_argument("--scale", type=float, default=0.1)
    evaluate.add_argument("--days", type=int, default=14)
    for command in (graph, build, night, resolve, evaluate):
        command.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-oneid-"))
    if args.command == "graph":
        # The build and each night in a process of its own, spawned from this small one:
        # Linux carries a parent's peak RSS (ru_maxrss) into its children.
        script = [sys.executable, __file__]
        subprocess.run(
            [*script, "build", "--home", str(home), "--members", str(args.members)], check=True
        )
        for n in range(1, args.nights + 1):
            day = NIGHT + timedelta(days=n)
            command = [*script, "night", "--home", str(home), "--members", str(args.members)]
            subprocess.run([*command, "--day", day.isoformat()], check=True)
        return
    if args.command == "build":
        result = bench_graph(args.members, home)
    elif args.command == "night":
        result = bench_night(args.members, home, args.day)
    elif args.command == "resolve":
        result = bench_resolve(args.people, home)
    else:
        result = bench_evaluate(args.scale, args.days, home)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
