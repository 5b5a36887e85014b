"""`resolve_frame` / `resolve_file`: person ids for a file of person records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from bakehouse.resolve.clusters import cluster
from bakehouse.resolve.explain import WATERFALL_COLUMNS
from bakehouse.resolve.model import predict
from bakehouse.resolve.records import conform, prepare, read_people

DEFAULT_THRESHOLD = 0.95


@dataclass(frozen=True)
class ResolveConfig:
    """Decision parameters; everything else is estimated from the input.

    threshold: match probability at which a pair links (OneID's 0.95).
    max_cluster_size: no person gets more records than this (OneID's 40).
    personal_floor: a link needs personal evidence (first name, birth date, e-mail,
        gender) summing to at least this many bits (see `model.predict`).
    conflict_floor: pairs whose personal evidence is below this many bits must not
        share a person (see `clusters.cluster`).
    pairs_per_record: a blocking rule yielding more than this many pairs per record
        is not used (keeps large files within time).
    """

    threshold: float = DEFAULT_THRESHOLD
    max_cluster_size: int = 40
    personal_floor: float = 0.0
    conflict_floor: float = -10.0
    pairs_per_record: int = 5
    seed: int = 42


@dataclass
class ResolveSummary:
    """What `resolve_frame` did, for the CLI to print."""

    records: int = 0
    persons: int = 0
    multi_record_persons: int = 0
    largest_person: int = 0
    linked_pairs: int = 0
    conflict_pairs: int = 0
    refused_links: int = 0
    threshold: float = DEFAULT_THRESHOLD
    prior: float | None = None
    prediction_rules: list[str] = field(default_factory=list)
    training_rules: list[str] = field(default_factory=list)
    seconds: float = 0.0
    model: dict[str, Any] = field(default_factory=dict, repr=False)

    def rows(self) -> list[tuple[str, str]]:
        """(what, value) lines for a summary table."""
        return [
            ("records", f"{self.records:,}"),
            ("persons", f"{self.persons:,}"),
            ("persons with 2+ records", f"{self.multi_record_persons:,}"),
            ("largest person (records)", f"{self.largest_person:,}"),
            ("linked pairs", f"{self.linked_pairs:,}"),
            ("conflicting pairs kept apart", f"{self.conflict_pairs:,}"),
            ("links refused (conflict or size)", f"{self.refused_links:,}"),
            ("match threshold", f"{self.threshold:g}"),
            (
                "prior (two random records match)",
                "-" if self.prior is None else f"{self.prior:.3g}",
            ),
            ("blocking rules", f"{len(self.prediction_rules)}"),
            ("EM training passes", f"{len(self.training_rules)}"),
            ("seconds", f"{self.seconds:.1f}"),
        ]


def resolve_frame(
    people: pl.DataFrame, config: ResolveConfig | None = None, *, explain: bool = False
) -> tuple[pl.DataFrame, ResolveSummary, pl.DataFrame | None]:
    """record_id -> person_id for a frame of person records, in input order.

    `people` holds `INPUT_COLUMNS` (or the names `records.conform` accepts); a
    person_id is the smallest record_id of the person's records. Returns the
    assignment, the summary and, with `explain`, the waterfall data of the pairs
    that joined records (`explain.WATERFALL_COLUMNS`), else None.
    """
    config = config or ResolveConfig()
    started = time.perf_counter()
    people = conform(people)
    summary = ResolveSummary(records=people.height, threshold=config.threshold)
    records = prepare(people)
    model = predict(
        records,
        threshold=config.threshold,
        seed=config.seed,
        pairs_per_record=config.pairs_per_record,
        explain=explain,
        personal_floor=config.personal_floor,
        conflict_floor=config.conflict_floor,
    )
    labels, summary.refused_links = cluster(
        records.height, model.edges, model.conflicts, max_size=config.max_cluster_size
    )
    assignment = records.select("record_id").with_columns(pl.Series("label", labels, pl.Int64))
    person_ids = assignment.group_by("label").agg(
        pl.col("record_id").min().alias("person_id"), pl.len().alias("size")
    )
    result = assignment.join(person_ids, on="label", how="left", maintain_order="left").select(
        "record_id", "person_id"
    )
    summary.persons = person_ids.height
    summary.multi_record_persons = person_ids.filter(pl.col("size") > 1).height
    summary.largest_person = int(person_ids["size"].max() or 0)
    kept = model.edges.filter(
        pl.Series(
            labels[model.edges["unique_id_l"].to_numpy()]
            == labels[model.edges["unique_id_r"].to_numpy()]
        )
        if model.edges.height
        else pl.lit(True)
    )
    summary.linked_pairs = kept.height
    summary.conflict_pairs = model.conflicts.height
    summary.prior = model.prior
    summary.prediction_rules = model.prediction_rules
    summary.training_rules = model.training_rules
    summary.model = model.settings
    waterfall = None
    if explain:
        waterfall = _linked_waterfall(model.waterfall, kept, records)
    summary.seconds = round(time.perf_counter() - started, 3)
    return result, summary, waterfall


def _linked_waterfall(
    waterfall: pl.DataFrame | None, kept: pl.DataFrame, records: pl.DataFrame
) -> pl.DataFrame:
    ids = records.select("unique_id", "record_id")
    if waterfall is None or waterfall.is_empty():
        return pl.DataFrame(schema={c: pl.String for c in WATERFALL_COLUMNS[:2]}).with_columns(
            *(pl.lit(None).alias(c) for c in WATERFALL_COLUMNS[2:])
        )
    return (
        waterfall.join(kept.select("unique_id_l", "unique_id_r"), on=["unique_id_l", "unique_id_r"])
        .join(
            ids.rename({"unique_id": "unique_id_l", "record_id": "record_id_l"}), on="unique_id_l"
        )
        .join(
            ids.rename({"unique_id": "unique_id_r", "record_id": "record_id_r"}), on="unique_id_r"
        )
        .sort("record_id_l", "record_id_r", "step")
        .select(WATERFALL_COLUMNS)
    )


def resolve_file(
    input_csv: Path,
    output_csv: Path,
    *,
    threshold: float | None = None,
    explain_csv: Path | None = None,
) -> ResolveSummary:
    """Resolve the people in `input_csv`; write record_id,person_id to `output_csv`.

    With `explain_csv`, also write the waterfall data of the linked pairs there.
    Raises ValueError for a file that cannot be keyed (see `records.read_people`).
    """
    config = ResolveConfig(threshold=threshold if threshold is not None else DEFAULT_THRESHOLD)
    people = read_people(Path(input_csv))
    result, summary, waterfall = resolve_frame(people, config, explain=explain_csv is not None)
    output = Path(output_csv)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.write_csv(output)
    if explain_csv is not None and waterfall is not None:
        Path(explain_csv).parent.mkdir(parents=True, exist_ok=True)
        waterfall.write_csv(explain_csv)
    return summary
