"""Our dbt-duckdb plugin's publishing step, on real Delta tables."""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable

from bakehouse.dbt_delta import is_placeholder_row, publish

SCHEMA = pa.schema([("one_id", pa.string()), ("spend_amount", pa.decimal128(18, 2))])


def test_an_empty_model_publishes_an_empty_typed_table(tmp_path) -> None:
    placeholder = pa.Table.from_pylist([{"one_id": None, "spend_amount": None}], SCHEMA)
    assert is_placeholder_row(placeholder)
    publish(placeholder, tmp_path / "member_360", "Member 360")
    table = DeltaTable(str(tmp_path / "member_360"))
    assert (
        table.get_add_actions(flatten=True).num_rows == 0
        or sum(table.get_add_actions(flatten=True).column("num_records").to_pylist()) == 0
    )
    assert pa.schema(table.schema().to_arrow()) == SCHEMA
    assert table.metadata().description == "Member 360"


def test_a_republish_replaces_rows_and_schema_in_one_commit(tmp_path) -> None:
    target = tmp_path / "member_tags"
    publish(pa.Table.from_pylist([{"one_id": "a", "spend_amount": 1}], SCHEMA), target)
    wider = pa.table({"one_id": ["b", "c"], "tag_name": ["active", "new_customer"]})
    version = publish(wider, target)
    table = DeltaTable(str(target))
    assert version == 1
    assert [f.name for f in table.schema().fields] == ["one_id", "tag_name"]
    assert sum(table.get_add_actions(flatten=True).column("num_records").to_pylist()) == 2


def test_a_real_row_with_a_value_is_not_a_placeholder() -> None:
    one = pa.Table.from_pylist([{"one_id": "a", "spend_amount": None}], SCHEMA)
    assert not is_placeholder_row(one)
