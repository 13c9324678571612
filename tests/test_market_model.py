"""The market model: parameter validation, the demand curve, serialisation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rl_core.errors import InvalidMarketError, UnknownAgentError
from rl_core.market.model import DemandParams, Market, reward


# ---- validation: every bad field is rejected with its name in the message ------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_slope": -1.0}, "price_slope"),
        ({"price_slope": 0.0}, "price_slope"),
        ({"price_slope": math.nan}, "price_slope"),
        ({"price_slope": math.inf}, "price_slope"),
        ({"base_demand": -5.0}, "base_demand"),
        ({"base_demand": 0.0}, "base_demand"),
        ({"base_demand": math.nan}, "base_demand"),
        ({"gain_coef": -1.0}, "gain_coef"),
        ({"gain_coef": math.nan}, "gain_coef"),
        ({"loss_coef": -0.5}, "loss_coef"),
        ({"noise_std": -0.01}, "noise_std"),
        ({"noise_std": 0.51}, "noise_std"),
        ({"noise_std": math.nan}, "noise_std"),
    ],
)
def test_invalid_demand_params_name_the_field(changes, field):
    with pytest.raises(InvalidMarketError, match=field):
        DemandParams(**changes)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_max": 1.40}, "price_max"),  # == price_min
        ({"price_max": 1.00}, "price_max"),  # < price_min
        ({"price_max": math.nan}, "price_max"),
        ({"price_min": -0.10}, "price_min"),  # negative floor
        ({"price_min": math.nan}, "price_min"),
        ({"n_prices": 1}, "n_prices"),
        ({"n_prices": 0}, "n_prices"),
        ({"horizon": 0}, "horizon"),
        ({"unit_costs": (1.6,) * 29}, "unit_costs"),  # horizon is 30
        ({"unit_costs": (1.6,) * 31}, "unit_costs"),
        ({"initial_price": 2.50}, "initial_price"),  # above the grid [1.40, 2.40]
        ({"initial_price": 1.30}, "initial_price"),  # below the grid
        ({"unit_cost": -0.1}, "unit cost"),
        ({"unit_costs": (1.6,) * 29 + (math.nan,)}, "unit cost"),
    ],
)
def test_invalid_market_names_the_field(changes, field):
    with pytest.raises(InvalidMarketError, match=field):
        Market(**changes)


def test_invalid_market_error_is_a_value_error():
    # callers that catch ValueError (argparse, pydantic...) keep working
    with pytest.raises(ValueError, match="noise_std"):
        DemandParams(noise_std=0.9)


def test_edge_values_are_accepted():
    # the boundaries of the valid ranges are valid: floor at zero, noise 0.5, two prices
    Market(price_min=0.0, price_max=0.1, n_prices=2, horizon=1, unit_cost=0.0)
    DemandParams(noise_std=0.5, gain_coef=0.0, loss_coef=0.0)
    m = Market(initial_price=2.40)  # exactly the ceiling
    assert m.initial_index == m.n_prices - 1


# ---- the demand curve -------------------------------------------------------------------
def test_demand_never_negative():
    d = DemandParams()
    prices = np.linspace(0.0, 10.0, 401)
    table = d.demand(prices[None, :], prices[:, None])  # all (yesterday, today) pairs
    assert table.shape == (401, 401)
    assert (table >= 0).all()
    # and it really is clipped: far above the choke price, demand is exactly zero
    assert table[0, -1] == 0.0 and d.demand(5.0, 5.0) == 0.0
    # and positive at a normal price (not trivially zero everywhere)
    assert d.demand(1.9, 1.9) > 0


def test_gain_loss_asymmetry_is_numerically_right():
    d = DemandParams()  # base 24000, slope 10000, gain 10000, loss 2000
    # hand computed (exact up to float rounding; rel tol 1e-12):
    #   flat at 2.00: 24000 - 20000                     = 4000
    #   flat at 1.90: 24000 - 19000                     = 5000
    #   1.90 after 2.00 (a 0.10 drop): 5000 + 10000*0.1 = 6000
    #   2.00 after 1.90 (a 0.10 rise): 4000 -  2000*0.1 = 3800
    assert d.demand(2.0, 2.0) == pytest.approx(4000.0, rel=1e-12)
    assert d.demand(1.9, 1.9) == pytest.approx(5000.0, rel=1e-12)
    assert d.demand(1.9, 2.0) == pytest.approx(6000.0, rel=1e-12)
    assert d.demand(2.0, 1.9) == pytest.approx(3800.0, rel=1e-12)
    gain = d.demand(1.9, 2.0) - d.demand(1.9, 1.9)
    loss = d.demand(2.0, 2.0) - d.demand(2.0, 1.9)
    assert gain == pytest.approx(d.gain_coef * 0.1, rel=1e-9)
    assert loss == pytest.approx(d.loss_coef * 0.1, rel=1e-9)
    assert gain > loss  # a cut attracts more than a rise of the same size repels


def test_demand_reacts_only_to_the_side_of_the_move():
    d = DemandParams(gain_coef=3000.0, loss_coef=0.0)
    # a rise costs nothing beyond the slope when loss_coef == 0 (tolerance 1e-9 L)
    assert d.demand(2.0, 1.5) == pytest.approx(24_000 - 20_000, abs=1e-9)
    # a drop adds gain_coef per $/L (0.5 $/L * 3000 = 1500 L)
    assert d.demand(1.5, 2.0) == pytest.approx(24_000 - 15_000 + 1500, abs=1e-9)


def test_reward_is_litres_or_margin_times_litres():
    litres = Market().demand.demand(2.0, 1.9)
    assert reward("demand", 2.0, 1.6, litres) == pytest.approx(litres, rel=1e-12)
    assert reward("profit", 2.0, 1.6, litres) == pytest.approx(0.4 * litres, rel=1e-12)
    # elementwise over arrays (and anything else with - and *), broadcasting
    prices, litres = np.array([1.5, 1.6, 1.7]), np.array([100.0, 200.0, 0.0])
    np.testing.assert_allclose(reward("profit", prices, 1.6, litres), [-10.0, 0.0, 0.0])
    assert reward("demand", prices, 1.6, litres) is litres


def test_reward_rejects_an_unknown_objective():
    with pytest.raises(UnknownAgentError, match="unknown agent 'revenue'"):
        reward("revenue", 2.0, 1.6, 100.0)


def test_price_grid_and_initial_index():
    m = Market()
    np.testing.assert_allclose(m.prices, 1.40 + 0.05 * np.arange(21), atol=1e-12)
    assert m.initial_index == 10  # grid middle when no initial price
    assert Market(initial_price=1.52).initial_index == 2  # nearest grid price 1.50
    np.testing.assert_array_equal(m.costs, np.full(30, 1.60))


# ---- serialisation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "market",
    [
        Market(),
        Market(
            demand=DemandParams(
                base_demand=30_000.0,
                price_slope=8_000.0,
                gain_coef=1.5,
                loss_coef=7.25,
                noise_std=0.2,
            ),
            price_min=0.5,
            price_max=3.0,
            n_prices=7,
            horizon=5,
            unit_costs=(1.1, 1.2, 1.3, 1.25, 1.0),
            initial_price=2.0,
        ),
    ],
)
def test_to_dict_from_dict_round_trip(market):
    d = market.to_dict()
    assert Market.from_dict(d) == market
    # through JSON as well (tuples become lists, that is what a file holds)
    assert Market.from_dict(json.loads(json.dumps(d))) == market
    assert isinstance(d["demand"], dict) and isinstance(d["unit_costs"], list)


def test_from_dict_validates():
    d = Market().to_dict()
    d["demand"]["price_slope"] = -1.0
    with pytest.raises(InvalidMarketError, match="price_slope"):
        Market.from_dict(d)
