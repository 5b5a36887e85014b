"""Who does what today: per-person draws from habits, life cycle and the calendar.

Kept apart from the file formats so the behavioural model (the signal an ML model is
meant to find) can be read and changed in one place.
"""

from __future__ import annotations

import numpy as np

from bakehouse.sim.calendar import DayContext
from bakehouse.sim.world import CATEGORIES, Catalogue, People

# Opening and closing second of each daypart window.
DAYPART_WINDOWS = np.array(
    [
        [7 * 3600, 10 * 3600],
        [11 * 3600, 13 * 3600 + 1800],
        [13 * 3600 + 1800, 17 * 3600],
        [17 * 3600, 21 * 3600 + 1800],
    ]
)
ANONYMOUS_DAYPART_SHARE = np.array([0.4, 0.2, 0.15, 0.25])


def lifecycle_factor(people: People, day_index: int) -> np.ndarray:
    """Visit-rate multiplier: lapsing members fade, churned members stop after their churn day."""
    factor = np.ones(people.size)
    lapsing = people.lifecycle == 3
    factor[lapsing] = np.exp(-(day_index + 30) / 90.0)
    factor[people.churn_day <= day_index] = 0.0
    return factor


def active_buyers(people: People, day_index: int) -> np.ndarray:
    """People who can transact as themselves today (members not yet cancelled, non-members)."""
    member_now = people.is_member_on(day_index)
    non_member = people.join_day > day_index
    holder_ok = np.ones(people.size, dtype=bool)
    family = people.card_holder >= 0
    holder_ok[family] = people.is_member_on(day_index)[people.card_holder[family]]
    return (member_now | non_member) & holder_ok


def draw_events(rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indexes of people with an event today, each with probability ``rate`` (capped at 0.9)."""
    return np.flatnonzero(rng.random(rate.size) < np.minimum(rate, 0.9))


def times_in_dayparts(daypart: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds after midnight within each event's daypart window."""
    window = DAYPART_WINDOWS[daypart]
    return (window[:, 0] + rng.random(daypart.size) * (window[:, 1] - window[:, 0])).astype(
        np.int64
    )


def draw_products(
    catalogue: Catalogue,
    ctx: DayContext,
    n_lines: int,
    favourite: np.ndarray | None,
    category_share: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Product index per line: a category (favourite half of the time), then a product.

    Seasonal products take a share of baskets that grows as their festival approaches.
    """
    season_share = 0.3 * max(ctx.season_boost.values())
    share = np.append(category_share * (1.0 - season_share), season_share)
    category = rng.choice(len(CATEGORIES), n_lines, p=share / share.sum())
    if favourite is not None:
        use_favourite = rng.random(n_lines) < 0.5
        category = np.where(use_favourite, favourite, category)
    weights = catalogue.daily_weights(ctx.season_boost)
    product = np.zeros(n_lines, dtype=np.int64)
    for c in range(len(CATEGORIES)):
        lines = np.flatnonzero(category == c)
        members = np.flatnonzero(catalogue.category == c)
        w = weights[members]
        if lines.size == 0:
            continue
        if w.sum() <= 0:  # out of season: fall back to bread
            members = np.flatnonzero(catalogue.category == 0)
            w = weights[members]
        product[lines] = rng.choice(members, lines.size, p=w / w.sum())
    return product


def draw_quantities(
    catalogue: Catalogue, product: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Units per line: whole cakes and gift boxes one at a time, small items sometimes more."""
    expensive = catalogue.price_fen[product] >= 5000
    extra = rng.binomial(2, 0.2, product.size)
    return np.where(expensive, 1, 1 + extra).astype(np.int64)
