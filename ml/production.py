"""Newsvendor bake quantities from a P10/P50/P90 demand forecast.

The bake quantity that maximises expected margin for a perishable item is the quantile of
the demand distribution at the critical ratio (price - cost) / (price - salvage): the
classic newsvendor solution (Arrow, Harris and Marschak 1951; e.g. Cachon and Terwiesch,
*Matching Supply with Demand*, ch. 14). Bread past its shelf life is worth nothing, so
salvage defaults to 0.

Between and beyond the three forecast quantiles the distribution is a split normal: median
P50, spread (P50 - P10) / z(0.9) below and (P90 - P50) / z(0.9) above, so it reproduces
P10, P50 and P90 exactly and keeps the skew of the forecast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

_Z90 = float(norm.ppf(0.9))


@dataclass(frozen=True)
class BakeDecision:
    """A newsvendor decision. Quantities are in pieces, the ratio is a probability."""

    critical_ratio: float
    newsvendor_qty: float
    planned_qty: int
    constraint: str  # "newsvendor", "display_minimum" or "shelf_life"


def critical_ratio(price: float, cost: float, salvage: float = 0.0) -> float:
    """(price - cost) / (price - salvage), in [0, 1]; yuan per piece in.

    Raises ValueError unless salvage <= cost <= price and salvage < price.
    """
    if not (salvage <= cost <= price) or salvage >= price:
        raise ValueError(
            f"need salvage <= cost <= price and salvage < price, got "
            f"price={price}, cost={cost}, salvage={salvage}"
        )
    return (price - cost) / (price - salvage)


def demand_quantile(p10: float, p50: float, p90: float, probability: float) -> float:
    """Quantile of the split normal through (P10, P50, P90) at `probability` in (0, 1), >= 0.

    Raises ValueError for quantiles out of order or a probability outside (0, 1).
    """
    if not p10 <= p50 <= p90:
        raise ValueError(f"quantiles out of order: p10={p10}, p50={p50}, p90={p90}")
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    z = float(norm.ppf(probability))
    spread = (p50 - p10) / _Z90 if z < 0 else (p90 - p50) / _Z90
    return max(0.0, p50 + z * spread)


def newsvendor_quantity(
    p10: float,
    p50: float,
    p90: float,
    *,
    price: float,
    cost: float,
    salvage: float = 0.0,
    batch_size: int = 1,
    display_minimum: int = 0,
    shelf_life_cap: float | None = None,
) -> BakeDecision:
    """Bake quantity for one store x SKU x day.

    1. q* = demand quantile at the critical ratio (`demand_quantile`, `critical_ratio`);
    2. rounded to the nearest multiple of `batch_size` (ovens bake whole trays);
    3. raised to `display_minimum` (rounded up to whole batches) so the shelf is not empty;
    4. capped at `shelf_life_cap`, the most the bake can sell before it expires (e.g. the
       sum of the P90 forecasts over the shelf-life days), rounded down to whole batches:
       the plan never bakes beyond shelf life, even below the display minimum.
    Prices and cost in yuan per piece; quantities in pieces. Raises ValueError for a batch
    size below 1 or invalid prices (see `critical_ratio`).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    ratio = critical_ratio(price, cost, salvage)
    if ratio <= 0.0:
        optimum = 0.0
    elif ratio >= 1.0:
        optimum = p90  # no cost: bake to the top of the forecast, the cap still applies
    else:
        optimum = demand_quantile(p10, p50, p90, ratio)
    planned = batch_size * math.floor(optimum / batch_size + 0.5)
    constraint = "newsvendor"
    minimum = batch_size * math.ceil(display_minimum / batch_size)
    if planned < minimum:
        planned, constraint = minimum, "display_minimum"
    if shelf_life_cap is not None:
        cap = batch_size * math.floor(max(shelf_life_cap, 0.0) / batch_size)
        if planned > cap:
            planned, constraint = cap, "shelf_life"
    return BakeDecision(ratio, optimum, int(planned), constraint)
