"""A generator of retail transactions with known structure, for tests and benchmarks.

The evaluations need data whose behaviour the models are meant to capture, made with a
fixed seed so figures reproduce. Customers follow the BG/NBD story (Fader, Hardie & Lee
2005): they arrive over the window, buy as a Poisson process with a gamma-distributed
rate while alive, and after each purchase drop out with a beta-distributed probability.
Spend per visit is gamma around a customer-specific mean. Baskets mix the customer's
own staples (bakery habits), their taste group's favourites and chain-wide popularity,
and about 1% of lines are later returned (negative quantity and amount).

It is *not* the chain simulator (`bakehouse.sim`); it is a small, fast stand-in for
"external data we do not have".
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def generate_transactions(
    customers: int = 2_000,
    items: int = 120,
    days: int = 365,
    *,
    seed: int = 7,
    start: str = "2025-01-01",
    taste_groups: int = 8,
    return_share: float = 0.01,
) -> pd.DataFrame:
    """Generate basket lines.

    Returns:
        Columns ``customer_id`` (str, e.g. ``"c-000042"``), ``sku`` (str), ``ts``
        (datetime64, within ``[start, start + days)``), ``qty`` (float, negative for
        returns) and ``amount`` (yuan, ``qty * price``, negative for returns), sorted by ts.
    """
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp(start)
    item_names = np.array([f"sku-{i:04d}" for i in range(items)])
    prices = np.round(rng.gamma(4.0, 4.0, items) + 3.0, 1)
    popularity = 1.0 / np.arange(1, items + 1) ** 0.9
    popularity = popularity[rng.permutation(items)]
    popularity /= popularity.sum()
    group_taste = rng.dirichlet(np.full(items, 0.08), taste_groups)
    group_taste = 0.8 * group_taste + 0.2 * popularity

    rows_customer, rows_item, rows_day, rows_qty = [], [], [], []
    for index in range(customers):
        birth = rng.uniform(0, days * 0.75)
        rate = rng.gamma(0.9, 1.0 / 12.0)  # purchases per day while alive
        dropout = rng.beta(1.2, 12.0)
        group = rng.integers(taste_groups)
        staples = rng.choice(items, size=rng.integers(1, 5), replace=False, p=group_taste[group])
        visit_days = [birth]
        day = birth
        while True:
            if rng.random() < dropout:
                break
            day += rng.exponential(1.0 / max(rate, 1e-6))
            if day >= days:
                break
            visit_days.append(day)
        for visit_day in visit_days:
            lines = rng.integers(1, 4)
            kind = rng.random(lines)
            chosen = np.where(
                kind < 0.55,
                rng.choice(staples, size=lines),
                np.where(
                    kind < 0.85,
                    rng.choice(items, size=lines, p=group_taste[group]),
                    rng.choice(items, size=lines, p=popularity),
                ),
            )
            for item in np.unique(chosen):
                rows_customer.append(index)
                rows_item.append(item)
                rows_day.append(visit_day)
                rows_qty.append(float(rng.integers(1, 4)))

    customer_idx = np.array(rows_customer)
    item_idx = np.array(rows_item)
    day_offset = np.array(rows_day)
    qty = np.array(rows_qty)
    spend_scale = rng.gamma(6.0, 1.0 / 6.0, customers)  # customer's taste for pricier baskets
    amount = np.round(qty * prices[item_idx] * spend_scale[customer_idx], 2)

    returned = rng.random(len(qty)) < return_share
    return_offset = np.minimum(
        day_offset[returned] + rng.uniform(0.1, 3.0, returned.sum()), days - 1e-3
    )
    frame = pd.DataFrame(
        {
            "customer_id": np.concatenate([customer_idx, customer_idx[returned]]),
            "sku": np.concatenate([item_idx, item_idx[returned]]),
            "day": np.concatenate([day_offset, return_offset]),
            "qty": np.concatenate([qty, -qty[returned]]),
            "amount": np.concatenate([amount, -amount[returned]]),
        }
    )
    frame["customer_id"] = "c-" + frame["customer_id"].astype(str).str.zfill(6)
    frame["sku"] = item_names[frame["sku"].to_numpy()]
    frame["ts"] = origin + pd.to_timedelta(frame.pop("day"), unit="D").dt.floor("min")
    frame = frame[["customer_id", "sku", "ts", "qty", "amount"]]
    return frame.sort_values(["ts", "customer_id", "sku"], kind="stable").reset_index(drop=True)
