"""Newsvendor quantities against hand-computed cases."""

from __future__ import annotations

import pytest

from ml.production import critical_ratio, demand_quantile, newsvendor_quantity


def test_hand_computed_bake_quantity():
    # price 10, cost 4, salvage 0: ratio 6/10 = 0.6; z(0.6) = 0.253347
    # upper spread (46 - 30) / z(0.9) = 16 / 1.281552 = 12.48487
    # q* = 30 + 0.253347 * 12.48487 = 33.163; trays of 6: 33.163 / 6 = 5.53 -> 6 trays = 36
    decision = newsvendor_quantity(
        20, 30, 46, price=10, cost=4, batch_size=6, display_minimum=12, shelf_life_cap=40
    )
    assert decision.critical_ratio == pytest.approx(0.6)
    assert decision.newsvendor_qty == pytest.approx(33.163, abs=1e-3)
    assert decision.planned_qty == 36
    assert decision.constraint == "newsvendor"


def test_low_margin_display_minimum_and_shelf_life_cap():
    # price 8, cost 6: ratio 0.25; z(0.25) = -0.674490; lower spread 10 / 1.281552 = 7.80304
    # q* = 30 - 0.674490 * 7.80304 = 24.737 -> 4 trays of 6 = 24; display minimum 30 -> 5 trays
    low = newsvendor_quantity(20, 30, 46, price=8, cost=6, batch_size=6, display_minimum=30)
    assert low.newsvendor_qty == pytest.approx(24.737, abs=1e-3)
    assert low.planned_qty == 30
    assert low.constraint == "display_minimum"
    # only 29 pieces can sell before expiry: never bake beyond it, whole trays -> 24
    capped = newsvendor_quantity(20, 30, 46, price=10, cost=4, batch_size=6, shelf_life_cap=29)
    assert capped.planned_qty == 24
    assert capped.constraint == "shelf_life"


def test_quantile_reproduces_forecast_and_rejects_bad_input():
    assert demand_quantile(20, 30, 46, 0.1) == pytest.approx(20)
    assert demand_quantile(20, 30, 46, 0.5) == pytest.approx(30)
    assert demand_quantile(20, 30, 46, 0.9) == pytest.approx(46)
    assert critical_ratio(12, 3, salvage=2) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="salvage <= cost <= price"):
        critical_ratio(5, 6)
    with pytest.raises(ValueError, match="out of order"):
        demand_quantile(30, 20, 46, 0.5)
