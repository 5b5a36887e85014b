"""`bakehouse resolve` end to end: small files, tiny and pairless inputs, labelled sets."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bakehouse.resolve import INPUT_COLUMNS, ResolveConfig, resolve_file, resolve_frame
from bakehouse.resolve.records import name_parts, phone_key, prepare
from bench.resolve.evaluate import evaluate_resolve, score
from bench.resolve.generate import labelled_people
from transforms.identity.evaluate import pairwise_scores


def _people(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=list(INPUT_COLUMNS), orient="row")


def test_preparation_shares_the_phone_key_and_folds_names():
    # The 11-digit mainland mobile, as OneID keys it, in any written form.
    assert (
        phone_key("+86 138-1234-5678")
        == phone_key("００８６１３８１２３４５６７８")
        == "13812345678"
    )
    # Other numbers keep their digits (no leading zeros): still evidence.
    assert phone_key("07700 900123") == "7700900123"
    assert phone_key("12345") is None
    # Hanzi, traditional forms and pinyin in either order share first name and surname.
    assert name_parts("张伟") == ("张伟", "wei", "zhang")
    assert name_parts("張偉") == ("张伟", "wei", "zhang")
    assert name_parts("Wei Zhang")[1:] == ("wei", "zhang")
    assert name_parts("欧阳娜娜") == ("欧阳娜娜", "nana", "ouyang")
    # Minority names: every middle dot form folds to one name.
    forms = {
        name_parts(n)[0] for n in ("古丽米热·艾比布力", "古丽米热・艾比布力", "古丽米热‧艾比布力")
    }
    assert forms == {"古丽米热艾比布力"}


def test_small_labelled_file_with_typos(tmp_path: Path):
    people = pl.DataFrame(
        [
            (
                "1",
                "pos",
                "张伟",
                "13812345678",
                None,
                "1990-05-01",
                "M",
                "南京西路100号",
                "上海",
                "200040",
                "A",
            ),
            (
                "2",
                "crm",
                "张伟",
                "+86 138 1234 5678",
                "zw@qq.com",
                "1990/5/1",
                "男",
                None,
                "上海市",
                None,
                "A",
            ),
            (
                "3",
                "mp",
                "張偉",
                None,
                "ZW@QQ.COM",
                "01/05/1990",
                None,
                "南京西路100号",
                "上海",
                "200040",
                "A",
            ),
            (
                "4",
                "pos",
                "张芳",
                "13812345678",
                None,
                "1962-11-03",
                "F",
                "南京西路100号",
                "上海",
                "200040",
                "B",
            ),
            (
                "5",
                "crm",
                "John Smith",
                "07700 900123",
                "john.smith@gmail.com",
                "3 Feb 1985",
                "M",
                "1 High St",
                "London",
                "SW1A 1AA",
                "C",
            ),
            (
                "6",
                "web",
                "Smith John",
                "+44 7700 900123",
                "johnsmith@gmail.com",
                "1985-02-03",
                "m",
                "1 High Street",
                "london",
                "sw1a1aa",
                "C",
            ),
            (
                "7",
                "pos",
                "Jon Smith",
                None,
                "jsmith@outlook.com",
                "1985-02-03",
                "M",
                "1 High St",
                "London",
                "SW1A 1AA",
                "C",
            ),
            (
                "8",
                "crm",
                "Mary Jones",
                "07700 900999",
                "mary@example.com",
                "1979-07-19",
                "F",
                "9 Church Lane",
                "Leeds",
                "LS1 4AP",
                "D",
            ),
        ],
        schema=[*INPUT_COLUMNS, "true_id"],
        orient="row",
    )
    source = tmp_path / "people.csv"
    people.drop("true_id").write_csv(source)
    truth = tmp_path / "truth.csv"
    people.select("record_id", "true_id").write_csv(truth)
    output = tmp_path / "out" / "clusters.csv"

    summary = resolve_file(source, output)

    result = pl.read_csv(output, infer_schema=False)
    assert result.columns == ["record_id", "person_id"]
    assert result["record_id"].to_list() == people["record_id"].to_list()
    scores = evaluate_resolve(output, truth)
    person = dict(zip(result["record_id"], result["person_id"], strict=True))
    # Formats, full-width/traditional variants and Gmail dots: same person.
    assert person["1"] == person["2"] == person["3"]
    assert person["5"] == person["6"]
    # The mother (4) shares her son's phone and address but not name or birthday.
    assert person["4"] != person["1"]
    assert scores.precision == 1.0
    # Eight records are too few to train the model: `Jon Smith` without phone or
    # e-mail may stay apart here (the generated-data test measures recall properly).
    assert scores.recall >= 0.66
    assert summary.records == 8


def test_inputs_of_zero_to_three_records_give_everyone_alone(tmp_path: Path):
    row = ("r1", "crm", "Ann Lee", None, None, "1990-01-02", "F", None, None, None)
    for size in range(4):
        people = _people([(f"r{i}", *row[1:]) for i in range(size)])
        result, summary, _ = resolve_frame(people)
        assert result["record_id"].to_list() == [f"r{i}" for i in range(size)]
        assert summary.records == size
        # Identical name and birthday alone, in a file too small to learn from,
        # is not enough to be sure; what matters is a correct, complete output.
        assert result["person_id"].null_count() == 0
    source = tmp_path / "empty.csv"
    source.write_text(",".join(INPUT_COLUMNS) + "\n", encoding="utf-8")
    summary = resolve_file(source, tmp_path / "out.csv")
    assert summary.records == summary.persons == 0
    assert (tmp_path / "out.csv").read_text().splitlines() == ["record_id,person_id"]


def test_a_file_without_candidate_pairs_keeps_everyone_alone():
    people = _people(
        [
            (
                "a",
                "crm",
                "Ann Lee",
                "13800000001",
                "ann@example.com",
                "1990-01-02",
                "F",
                None,
                None,
                None,
            ),
            (
                "b",
                "crm",
                "Bob Ray",
                "13900000002",
                "bob@example.com",
                "1971-05-06",
                "M",
                None,
                None,
                None,
            ),
            (
                "c",
                "web",
                "Cy Tan",
                "13700000003",
                "cy@example.com",
                "1985-09-10",
                "M",
                None,
                None,
                None,
            ),
        ]
    )
    result, summary, _ = resolve_frame(people)
    assert result["person_id"].to_list() == ["a", "b", "c"]
    assert summary.persons == 3
    assert summary.linked_pairs == 0


def test_only_identifiers_nobody_shares():
    people = _people(
        [
            (str(i), None, None, f"1380000{i:04d}", None, None, None, None, None, None)
            for i in range(30)
        ]
    )
    result, summary, _ = resolve_frame(people)
    assert result["person_id"].to_list() == result["record_id"].to_list()
    assert summary.persons == 30


def test_middle_dot_forms_join_on_name_and_city():
    people = _people(
        [
            ("1", "pos", "古丽米热·艾比布力", None, None, None, None, None, "乌鲁木齐", None),
            ("2", "crm", "古丽米热・艾比布力", None, None, None, None, None, "乌鲁木齐市", None),
            ("3", "web", "古丽米热‧艾比布力", None, None, None, None, None, "乌鲁木齐", None),
        ]
    )
    records = prepare(people)
    assert records["full_name"].n_unique() == 1
    assert records["city"].n_unique() == 1


@pytest.mark.parametrize("kind", ["typo", "chinese"])
def test_generated_labelled_sets(kind: str):
    people = labelled_people(kind, 150, seed=11)
    result, _, _ = resolve_frame(people.drop("true_id"))
    scores = score(result, people)
    assert scores.precision >= 0.97
    assert scores.recall >= 0.95


def test_explain_writes_the_waterfall_of_every_linked_pair(tmp_path: Path):
    people = labelled_people("typo", 60, seed=3)
    source = tmp_path / "people.csv"
    people.drop("true_id").write_csv(source)
    explain = tmp_path / "why.csv"
    summary = resolve_file(source, tmp_path / "out.csv", explain_csv=explain)
    waterfall = pl.read_csv(explain)
    pairs = waterfall.select("record_id_l", "record_id_r").unique()
    assert pairs.height == summary.linked_pairs > 0
    steps = waterfall.filter(pl.col("record_id_l") == pairs["record_id_l"][0]).filter(
        pl.col("record_id_r") == pairs["record_id_r"][0]
    )
    assert steps["column_name"][0] == "Prior"
    assert steps["column_name"][-1] == "Final score"
    # The final score is the sum of the steps before it (match weights add up).
    assert steps["log2_bayes_factor"][:-1].sum() == pytest.approx(steps["log2_bayes_factor"][-1])
    # No compared value is written: only ids, levels and weights.
    assert "value_l" not in waterfall.columns
    clear = set(people["name"].drop_nulls()) | set(people["email"].drop_nulls())
    assert not clear & {str(v) for c in waterfall.columns for v in waterfall[c].to_list()}


def test_summary_rows_read_as_a_table():
    people = labelled_people("typo", 20, seed=2)
    _, summary, _ = resolve_frame(people.drop("true_id"), ResolveConfig(threshold=0.9))
    rows = dict(summary.rows())
    assert rows["records"] == f"{people.height:,}"
    assert rows["match threshold"] == "0.9"


def test_generator_is_deterministic_and_labelled():
    first = labelled_people("nickname", 40, seed=1)
    assert first.equals(labelled_people("nickname", 40, seed=1))
    assert first.columns == [*INPUT_COLUMNS, "true_id"]
    assert first["record_id"].is_unique().all()
    assert first["true_id"].n_unique() == 40
    crowd = labelled_people("crowd", 10, seed=1)
    assert 60 <= crowd.height <= 140
    with pytest.raises(ValueError, match="unknown kind"):
        labelled_people("nope", 1)


def test_pairwise_scores_count_pairs_not_records():
    frame = pl.DataFrame({"predicted": ["a", "a", "a", "b"], "truth": ["x", "x", "y", "y"]})
    scores = pairwise_scores(frame)
    assert (scores.predicted_pairs, scores.true_pairs, scores.correct_pairs) == (3, 2, 1)
    assert scores.precision == pytest.approx(1 / 3, abs=1e-4)
    assert scores.recall == 0.5
    assert scores.over_merge_rate == 0.5


def test_columns_named_as_other_systems_name_them():
    from bakehouse.resolve.records import conform

    frame = pl.DataFrame(
        {
            "record_id": ["a"],
            "given_name": ["ann"],
            "surname": ["lee"],
            "street_number": ["12"],
            "address_1": ["oak road"],
            "suburb": ["kew"],
            "date_of_birth": ["19900102"],
        }
    )
    row = conform(frame).row(0, named=True)
    assert (row["name"], row["address"], row["city"], row["birthday"]) == (
        "ann lee",
        "12 oak road",
        "kew",
        "19900102",
    )
    assert row["phone"] is None
