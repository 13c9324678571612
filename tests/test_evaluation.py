"""Policy evaluation is exact: the DP optimum scores 1, history is replayed, noise averages out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rl_core.envs.gas_station import GasStationEnv
from rl_core.evaluation.baselines import best_constant_price, constant_policy, historical_policy
from rl_core.evaluation.evaluate import evaluate_policy, rollout
from rl_core.evaluation.optimum import Optimum, batch_path_metrics, path_return, solve
from rl_core.market.costs import sydney_markets
from rl_core.market.model import Market


def dp_policy(market: Market, opt: Optimum):
    """Look up the DP's optimal action from (day, yesterday's level) in the observation."""
    table = torch.as_tensor(opt.policy)

    def policy(obs: torch.Tensor) -> torch.Tensor:
        day = torch.round(obs[:, 0] * market.horizon).long().clamp(max=market.horizon - 1)
        prev = torch.round(obs[:, 1] * (market.n_prices - 1)).long()
        return table[day, prev]

    return policy


SYDNEY = sydney_markets(n=3, seed=7)
MARKETS = {"default": Market(), "sydney-0": SYDNEY[0], "sydney-2": SYDNEY[2]}


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize("name", sorted(MARKETS))
def test_dp_policy_scores_exactly_one(name, objective):
    market = MARKETS[name]
    opt = solve(market, objective)
    ev = evaluate_policy(dp_policy(market, opt), market, objective)
    # exact: same float64 sums in another order, so 1e-9 is ~1e7 rounding errors of room
    assert ev.fraction_of_optimum == pytest.approx(1.0, abs=1e-9)
    assert ev.total_reward == pytest.approx(opt.value, rel=1e-9)
    assert ev.optimum == pytest.approx(opt.value, rel=1e-9)
    np.testing.assert_array_equal(ev.prices, market.prices[opt.actions][None, :])
    np.testing.assert_array_equal(
        rollout(dp_policy(market, opt), [market], objective)[0], opt.actions
    )


def test_evaluation_reports_volume_and_profit_of_the_path():
    market = MARKETS["sydney-0"]
    opt = solve(market, "profit")
    ev = evaluate_policy(dp_policy(market, opt), market, "profit")
    litres, profit = batch_path_metrics([market], opt.actions[None, :])
    assert ev.volume == pytest.approx(litres.sum(), rel=1e-12)
    assert ev.profit == pytest.approx(profit.sum(), rel=1e-12)
    assert ev.profit == pytest.approx(opt.value, rel=1e-9)
    d = ev.to_dict(trajectories=True)
    assert d["scenarios"] == 1 and d["worst_scenario_fraction"] == pytest.approx(1.0, abs=1e-9)
    assert len(d["price_trajectories"][0]) == market.horizon


def test_a_worse_policy_scores_below_one():
    market = Market()
    ev = evaluate_policy(constant_policy(0), market, "profit")  # floor price, below cost
    assert ev.fraction_of_optimum < 0  # sells at a loss every day
    assert ev.profit < 0 and ev.volume == pytest.approx(15_000 + 29 * 10_000, rel=1e-12)


def test_multi_scenario_fraction_is_sum_over_sum():
    markets = sydney_markets(n=4, seed=3)
    ev = evaluate_policy(constant_policy(12), markets, "profit")
    optima = np.array([solve(m, "profit").value for m in markets])
    returns = np.array([path_return(m, "profit", np.full(30, 12)) for m in markets])
    assert ev.fraction_of_optimum == pytest.approx(returns.sum() / optima.sum(), rel=1e-9)
    np.testing.assert_allclose(ev.scenario_fractions, returns / optima, rtol=1e-9)
    assert ev.total_reward == pytest.approx(returns.mean(), rel=1e-9)


def test_best_constant_price_is_below_one_for_profit():
    level, fraction = best_constant_price(Market(), "profit")
    assert 0.5 < fraction < 1.0  # measured 0.927: a constant price leaves ~7% on the table
    # it really is the best constant: every other level scores no higher
    for i in range(21):
        other = evaluate_policy(constant_policy(i), Market(), "profit").fraction_of_optimum
        assert other <= fraction + 1e-12


def test_best_constant_price_for_demand_is_the_floor_and_optimal():
    level, fraction = best_constant_price(Market(), "demand")
    assert level == 0 and fraction == pytest.approx(1.0, abs=1e-9)


def test_historical_policy_charges_the_given_path():
    market = Market()
    rng = np.random.default_rng(0)
    levels = rng.integers(0, market.n_prices, size=market.horizon)
    # what a station charged: grid prices blurred by less than half a grid step (0.025)
    path = market.prices[levels] + rng.uniform(-0.02, 0.02, size=market.horizon)
    ev = evaluate_policy(historical_policy(market, path), market, "profit")
    np.testing.assert_array_equal(ev.prices[0], market.prices[levels])
    assert ev.total_reward == pytest.approx(path_return(market, "profit", levels), rel=1e-9)
    # a longer history is fine (the first horizon days are used), a shorter one is not
    longer = np.concatenate([path, np.full(10, 2.4)])
    ev_long = evaluate_policy(historical_policy(market, longer), market, "profit")
    np.testing.assert_array_equal(ev_long.prices[0], market.prices[levels])
    with pytest.raises(ValueError, match="history has 29 days"):
        historical_policy(market, path[:-1])


@pytest.mark.parametrize("objective", ["demand", "profit"])
def test_exact_return_matches_mean_of_noisy_gym_rollouts(objective):
    market = Market(demand=Market().demand.replace(noise_std=0.2))
    opt = solve(market, "profit")  # a non-trivial price cycle, scored on either objective
    policy = dp_policy(market, opt)
    exact = evaluate_policy(policy, market, objective).total_reward

    env = GasStationEnv(market, objective)
    episodes = 400
    returns = np.empty(episodes)
    for ep in range(episodes):
        obs, _ = env.reset(seed=ep)
        total, terminated = 0.0, False
        while not terminated:
            action = int(policy(torch.from_numpy(obs)[None])[0])
            obs, reward, terminated, _, _ = env.step(action)
            total += reward
        returns[ep] = total
    stderr = returns.std(ddof=1) / np.sqrt(episodes)
    # 20% daily noise over 30 days: the mean of 400 episodes has a standard error of ~0.2%
    # of the return; allow 4 standard errors (a false alarm once in ~16,000 runs)
    assert stderr > 0
    assert abs(returns.mean() - exact) < 4 * stderr
    # and the noise is really there: single episodes spread by more than 1% of the return
    assert returns.std() > 0.01 * abs(exact)


# ---- the daily move limit: a policy is evaluated as the station can charge it ---------------


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize("name", sorted(MARKETS))
def test_dp_policy_under_the_limit_scores_exactly_one(name, objective):
    market = MARKETS[name].replace(max_daily_move=0.10)
    opt = solve(market, objective)
    ev = evaluate_policy(dp_policy(market, opt), market, objective)
    assert ev.fraction_of_optimum == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_array_equal(ev.prices, market.prices[opt.actions][None, :])


@pytest.mark.parametrize("objective", ["demand", "profit"])
def test_a_policy_asking_for_big_moves_is_clipped_before_it_is_charged(objective):
    market = MARKETS["sydney-0"].replace(max_daily_move=0.10)
    free = market.replace(max_daily_move=None)

    def jumpy(obs: torch.Tensor) -> torch.Tensor:  # floor and ceiling on alternate days
        day = torch.round(obs[:, 0] * market.horizon).long()
        return torch.where(day % 2 == 0, 0, market.n_prices - 1)

    ev = evaluate_policy(jumpy, market, objective)
    path = np.concatenate([[market.prices[market.initial_index]], ev.prices[0]])
    assert np.abs(np.diff(path)).max() <= 0.10 + 1e-9
    assert ev.fraction_of_optimum <= 1.0
    charged = market.charged_path(rollout(jumpy, [free], objective)[0])
    assert ev.total_reward == pytest.approx(path_return(market, objective, charged), rel=1e-9)
    assert (
        evaluate_policy(jumpy, free, objective).prices.max()
        - evaluate_policy(jumpy, free, objective).prices.min()
        > 0.9
    )
