"""Price-only calibration: station levels from margins, the stated assumptions, the fallbacks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rl_core.errors import EmptyDataError, InvalidMarketError
from rl_core.evaluation.optimum import solve_batch
from rl_core.market.network import StationNetwork
from rl_core.market.price_only import MODEL_PASS_THROUGH, calibrate_price_only

DAYS = 120
MARGINS = {"A": 0.05, "B": 0.08, "C": 0.10, "D": 0.12, "E": 0.20}


def prices_at_margins(margins=MARGINS, days=DAYS, noise=0.01, seed=0, pass_through=1.0):
    """Stations that keep their own margin over a moving wholesale cost (as real ones do)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    cost = 1.60 + 0.15 * np.sin(np.arange(days) / 15)
    rows = []
    for sid, m in margins.items():
        price = 1.60 + pass_through * (cost - 1.60) + m + noise * rng.standard_normal(days)
        rows.append(pd.DataFrame({"date": dates, "station_id": sid, "price": price}))
    frame = pd.concat(rows, ignore_index=True)
    frame["unit_cost"] = np.tile(cost, len(margins))
    return frame


@pytest.fixture(scope="module")
def fitted():
    return calibrate_price_only(prices_at_margins(), volume=8_000)


def test_levels_are_the_last_cost_plus_twice_the_margin(fitted):
    slope = fitted.market.demand.price_slope
    cost_now = fitted.market.unit_cost
    for sid, m in MARGINS.items():
        choke = fitted.station_fits[sid].intercept / slope
        # the margin is estimated from 120 noisy days: 0.01/sqrt(120) ~ 0.001 $/L
        assert choke == pytest.approx(cost_now + 2 * m, abs=0.005), sid
    # the typical station (median margin 0.10) sells the assumed volume at its optimum
    assert slope == pytest.approx(8_000 / 0.10, rel=0.02)
    assert fitted.method == "price-only"
    assert fitted.market.demand.gain_coef == fitted.market.demand.loss_coef == 0


def test_the_optimum_prices_each_station_at_its_margin_over_todays_cost(fitted):
    network = StationNetwork.from_calibration(fitted)
    markets = network.markets()
    # without the move limit, day 0's optimum is the myopic one: cost + the station's margin
    best = solve_batch([m.replace(max_daily_move=None) for m in markets], "profit")
    step = (fitted.market.price_max - fitted.market.price_min) / (fitted.market.n_prices - 1)
    for i, sid in enumerate(network.station_ids):
        p0 = markets[i].prices[best.actions[i, 0]]
        assert p0 == pytest.approx(fitted.market.unit_cost + MARGINS[sid], abs=step / 2 + 0.005)


def test_profit_prices_do_not_depend_on_the_assumed_volume():
    frame = prices_at_margins()
    actions = []
    for volume in (2_000, 8_000, 30_000):
        network = StationNetwork.from_calibration(calibrate_price_only(frame, volume=volume))
        actions.append(solve_batch(network.markets(), "profit").actions)
    assert (actions[0] == actions[1]).all() and (actions[1] == actions[2]).all()


def test_the_pass_through_check_measures_the_data_not_the_model():
    full = calibrate_price_only(prices_at_margins(pass_through=1.0)).diagnostics
    half = calibrate_price_only(prices_at_margins(pass_through=0.5)).diagnostics
    assert full["pass_through_levels"] == pytest.approx(1.0, abs=0.05)
    assert half["pass_through_levels"] == pytest.approx(0.5, abs=0.05)
    assert full["pass_through_model"] == MODEL_PASS_THROUGH


def test_thin_and_below_cost_stations_fall_back_and_never_crash():
    frame = prices_at_margins()
    below = prices_at_margins({"UNDER": -0.03}, seed=1)
    one_day = prices_at_margins({"NEWISH": 0.09}).head(1)
    cal = calibrate_price_only(pd.concat([frame, below, one_day], ignore_index=True))
    assert np.isnan(cal.station_fits["UNDER"].intercept)
    assert np.isnan(cal.station_fits["NEWISH"].intercept)
    assert any("2 station(s) priced at or below cost" in n for n in cal.notes)
    network = StationNetwork.from_calibration(cal)
    sources = network.sources()
    assert {sources["UNDER"], sources["NEWISH"]} <= {"cluster", "network"}
    assert {sources[s] for s in MARGINS} <= {"own", "shrunk"}
    # a station never seen gets the network's level
    assert network.new_station("NEVER-SEEN").source == "network"
    # strict JSON: figures a price-only fit does not produce are null, not NaN
    json.dumps(cal.to_dict(), allow_nan=False)


def test_no_cost_no_margin_and_units_are_refused_clearly():
    frame = prices_at_margins()
    with pytest.raises(EmptyDataError, match="--wholesale"):
        calibrate_price_only(frame.assign(unit_cost=np.nan))
    with pytest.raises(InvalidMarketError, match="same unit as price"):
        calibrate_price_only(frame.assign(unit_cost=frame["unit_cost"] * 100))  # cents
    with pytest.raises(ValueError, match="volume"):
        calibrate_price_only(frame, volume=0)


def test_the_summary_states_every_assumption(fitted):
    text = fitted.summary()
    assert text.count("note: ASSUMED") == 3
    assert "no volumes" in text and "pass" in text
