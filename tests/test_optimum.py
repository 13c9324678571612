"""The exact DP optimum against brute force, and the shape of the optimal policies."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rl_core.evaluation.baselines import best_constant_price
from rl_core.evaluation.optimum import (
    non_anticipating_plan,
    path_return,
    reward_table,
    solve,
    solve_batch,
)
from rl_core.market.costs import sydney_markets
from rl_core.market.model import DemandParams, Market

# Returns are sums of <= 30 float64 terms of magnitude <= 1e4: a relative 1e-9 is ~1e4
# times float64 rounding, and far below any real difference between two price paths.
REL = 1e-9

TINY_DEMAND = DemandParams(
    base_demand=24_000.0, price_slope=10_000.0, gain_coef=9_000.0, loss_coef=3_000.0
)
TINY = {
    "constant-cost": Market(
        demand=TINY_DEMAND, price_min=1.40, price_max=2.30, n_prices=4, horizon=4
    ),
    "varying-cost": Market(
        demand=TINY_DEMAND,
        price_min=1.40,
        price_max=2.30,
        n_prices=4,
        horizon=4,
        unit_costs=(1.45, 2.05, 1.50, 1.95),
        initial_price=2.30,
    ),
}


def _brute_force(market: Market, objective: str, start: int) -> tuple[float, tuple[int, ...]]:
    """Best expected return over all n^H price paths, simulated day by day from the model."""
    best, best_path = -np.inf, ()
    prices, costs = market.prices, market.costs
    for path in itertools.product(range(market.n_prices), repeat=market.horizon):
        total, prev = 0.0, start
        for day, i in enumerate(path):
            litres = float(market.demand.demand(prices[i], prices[prev]))
            total += litres if objective == "demand" else (prices[i] - costs[day]) * litres
            prev = i
        if total > best:
            best, best_path = total, path
    return best, best_path


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize("name", sorted(TINY))
def test_dp_value_equals_brute_force(name, objective):
    market = TINY[name]
    opt = solve(market, objective)
    best, _ = _brute_force(market, objective, market.initial_index)
    assert opt.value == pytest.approx(best, rel=REL)
    # the DP's action path reaches that value (ties may pick another path of equal value)
    assert path_return(market, objective, opt.actions) == pytest.approx(best, rel=REL)
    # and the Q table is optimal from every yesterday's price, not only the initial one
    for j in range(market.n_prices):
        assert opt.q[0, j].max() == pytest.approx(_brute_force(market, objective, j)[0], rel=REL)


def test_tiny_varying_cost_optimum_is_not_trivial():
    # guards the brute-force test above against a degenerate market: the profit optimum
    # moves the price, and differs from the constant-cost market's value
    opt = solve(TINY["varying-cost"], "profit")
    assert len(set(opt.actions.tolist())) > 1
    assert opt.value != pytest.approx(solve(TINY["constant-cost"], "profit").value, rel=1e-3)


def test_policy_and_actions_are_consistent():
    market = Market()
    opt = solve(market, "profit")
    assert opt.q.shape == (30, 21, 21) and opt.policy.shape == (30, 21)
    np.testing.assert_array_equal(opt.policy, opt.q.argmax(axis=2))
    j = market.initial_index
    for t, a in enumerate(opt.actions):
        assert a == opt.policy[t, j]
        j = a


def test_reward_table_matches_the_model():
    market = TINY["varying-cost"]
    r = reward_table(market, "profit")
    p, c = market.prices, market.costs
    for t, j, i in itertools.product(range(4), range(4), range(4)):
        expected = (p[i] - c[t]) * market.demand.demand(p[i], p[j])
        assert r[t, j, i] == pytest.approx(expected, rel=1e-12, abs=1e-9)
    d = reward_table(market, "demand")
    assert d[2, 1, 3] == pytest.approx(market.demand.demand(p[3], p[1]), rel=1e-12)


MARKETS = [Market(), *sydney_markets(n=8), *TINY.values()]


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize("market", MARKETS)
def test_path_return_of_dp_actions_equals_value(market, objective):
    opt = solve(market, objective)
    assert path_return(market, objective, opt.actions) == pytest.approx(opt.value, rel=REL)


def test_non_anticipating_plan_never_beats_the_optimum():
    markets = sydney_markets(n=8)
    gaps = []
    for m in markets:
        opt = solve(m, "profit").value
        plan = path_return(m, "profit", non_anticipating_plan(m, "profit"))
        assert plan <= opt + REL * abs(opt)
        gaps.append(opt - plan)
    # knowing tomorrow's cost is worth something on at least one real cost window
    assert max(gaps) > 1.0


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize(
    "market",
    [Market(), TINY["constant-cost"], Market(unit_costs=(1.7,) * 30, initial_price=2.2)],
    ids=["default", "tiny", "explicit-constant-path"],
)
def test_non_anticipating_plan_is_optimal_when_cost_is_constant(market, objective):
    opt = solve(market, objective)
    plan = non_anticipating_plan(market, objective)
    assert path_return(market, objective, plan) == pytest.approx(opt.value, rel=REL)


def test_non_anticipating_demand_plan_is_optimal_whatever_the_cost():
    # litres do not depend on cost, so not knowing tomorrow's cost costs nothing
    for m in sydney_markets(n=4):
        plan = non_anticipating_plan(m, "demand")
        assert path_return(m, "demand", plan) == pytest.approx(solve(m, "demand").value, rel=REL)


def test_default_profit_optimum_is_a_high_low_cycle_beating_constant_price():
    market = Market()
    opt = solve(market, "profit")
    moves = np.diff(market.prices[opt.actions])
    # a cycle: the price goes up and down again and again, never stays put
    assert (moves > 0).sum() >= 10 and (moves < 0).sum() >= 10
    assert (moves != 0).all()
    # it alternates between (at least) a high and a low level
    highs, lows = opt.actions[0::2], opt.actions[1::2]
    assert (highs > lows.mean()).all() or (lows > highs.mean()).all()
    # the best constant price reaches at most 1 / 1.05 of the optimum (measured: 0.927)
    level, fraction = best_constant_price(market, "profit")
    assert 0 < level < market.n_prices - 1  # an interior price, not a grid edge
    assert fraction <= 1 / 1.05


def test_default_demand_optimum_charges_the_floor():
    market = Market()
    opt = solve(market, "demand")
    np.testing.assert_array_equal(opt.actions, np.zeros(30, dtype=np.int64))
    # every day at the floor: day 0 gains the drop from the 1.90 start, then 10,000 L a day
    assert opt.value == pytest.approx(15_000.0 + 29 * 10_000.0, rel=REL)


# ---- the daily move limit: disallowed moves are unreachable ------------------------------------

TINY_LIMITED = {  # grid step 0.30 $/L: a limit of 0.30 allows one step a day
    name: m.replace(max_daily_move=0.30) for name, m in TINY.items()
}
LIMITED = [m.replace(max_daily_move=lim) for m in MARKETS for lim in (0.05, 0.30)]


def _brute_force_limited(market: Market, objective: str) -> float:
    """Best expected return over all n^H asked paths, each charged as clipped day by day."""
    return max(
        path_return(market, objective, np.array(path))
        for path in itertools.product(range(market.n_prices), repeat=market.horizon)
    )


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize("name", sorted(TINY_LIMITED))
def test_dp_value_under_the_limit_equals_brute_force(name, objective):
    market = TINY_LIMITED[name]
    opt = solve(market, objective)
    assert opt.value == pytest.approx(_brute_force_limited(market, objective), rel=REL)
    free = solve(TINY[name], objective).value
    if objective == "demand":  # the floor is 2 steps from the start: the limit binds
        assert opt.value < free
    assert opt.value <= free * (1 + REL)


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize("market", LIMITED)
def test_the_optimum_under_the_limit_never_moves_more_and_never_gains(market, objective):
    opt = solve(market, objective)
    free = solve(market.replace(max_daily_move=None), objective)
    assert opt.value <= free.value * (1 + REL)
    path = market.prices[np.concatenate([[market.initial_index], opt.actions])]
    assert np.abs(np.diff(path)).max() <= market.max_daily_move + 1e-9  # day 0 included
    assert path_return(market, objective, opt.actions) == pytest.approx(opt.value, rel=REL)
    # the policy stays inside the limit from every state, not only along the path
    lo, hi = market.move_bounds()
    assert ((opt.policy >= lo[None, :]) & (opt.policy <= hi[None, :])).all()


@pytest.mark.parametrize("objective", ["demand", "profit"])
def test_solve_batch_with_mixed_limits_equals_solve(objective):
    same_grid = MARKETS[:9]  # the default market and 8 sydney ones: 21 levels, 30 days
    limits = [0.05, None, 0.3] * 3
    markets = [m.replace(max_daily_move=x) for m, x in zip(same_grid, limits, strict=True)]
    batch = solve_batch(markets, objective)
    for k, m in enumerate(markets):
        opt = solve(m, objective)
        assert batch.values[k] == pytest.approx(opt.value, rel=REL)
        assert path_return(m, objective, batch.actions[k]) == pytest.approx(opt.value, rel=REL)


def test_reward_table_marks_disallowed_moves_unreachable():
    market = Market(max_daily_move=0.10)
    r = reward_table(market, "profit")
    allowed = market.allowed_moves()
    assert np.isneginf(r[:, ~allowed]).all() and np.isfinite(r[:, allowed]).all()
    np.testing.assert_array_equal(r[:, allowed], reward_table(Market(), "profit")[:, allowed])


def test_path_return_charges_a_path_as_clipped():
    market = Market(initial_price=1.90, max_daily_move=0.10)
    asked = np.array([20, 0] * 15)
    charged = market.charged_path(asked)
    assert charged[:3].tolist() == [12, 10, 12]
    assert path_return(market, "profit", asked) == path_return(market, "profit", charged)


def test_non_anticipating_plan_respects_the_limit():
    for m in sydney_markets(n=3):
        m = m.replace(max_daily_move=0.10)
        plan = non_anticipating_plan(m, "profit")
        path = m.prices[np.concatenate([[m.initial_index], plan])]
        assert np.abs(np.diff(path)).max() <= 0.10 + 1e-9
        assert path_return(m, "profit", plan) <= solve(m, "profit").value * (1 + REL)
