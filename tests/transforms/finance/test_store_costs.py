"""Monthly store costs: month as a date, the latest copy wins, a total."""

import datetime as dt
from decimal import Decimal

from silver_testkit import bronze_frame, bronze_rows, collect

from transforms.finance.store_costs import build_store_costs_monthly


def test_store_costs_monthly(spark):
    costs = dict(
        cost_month="2026-11",
        store_code="SH101",
        rent_amount="30000.00",
        labour_amount="42000.00",
        utilities_amount="3500.00",
        depreciation_amount="5000.00",
        marketing_amount="2000.00",
        other_amount="800.00",
    )
    first = bronze_rows(
        "erp_store_costs",
        [costs],
        file="erp/erp_store_costs_202611.csv",
        business_date="2026-11-01",
        sha="a",
        ingested_at="2030-01-01 00:00:00",
    )
    again = bronze_rows(
        "erp_store_costs",
        [{**costs, "other_amount": "900.00"}],
        file="erp/erp_store_costs_202611.csv",
        business_date="2026-11-01",
        sha="b",
        ingested_at="2030-01-02 00:00:00",
    )
    rows = collect(build_store_costs_monthly(bronze_frame(spark, "erp_store_costs", first + again)))
    assert len(rows) == 1
    assert rows[0]["cost_month"] == dt.date(2026, 11, 1)
    assert rows[0]["total_cost_amount"] == Decimal("83400.00")
