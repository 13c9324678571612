"""The gymnasium environments: API conformance, seeding, spaces, termination, info, render."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_core.envs import ENV_IDS, GasStationEnv
from rl_core.envs.gas_station import cost_feature
from rl_core.market.costs import sydney_markets
from rl_core.market.model import Market


def _sydney_spike_market() -> Market:
    """A Sydney wholesale window whose cost rises above the price ceiling (obs 2 > 1)."""
    return max(sydney_markets(n=8), key=lambda m: m.costs.max())


def _cheap_cost_market() -> Market:
    """Sydney costs (~1.5-1.8 $/L) under a grid whose floor is above them (obs 2 < 0)."""
    base = Market(price_min=1.90, price_max=2.60)
    return sydney_markets(base, first_start="2025-01-01", last_start="2025-01-01")[0]


MARKETS = {
    "default": Market(),
    "sydney-spike": _sydney_spike_market(),
    "cheap-cost": _cheap_cost_market(),
}


def test_fixture_markets_cover_the_cost_feature_bounds():
    # the point of these markets: observation 2 leaves [0, 1] on both sides
    assert MARKETS["sydney-spike"].costs.max() > MARKETS["sydney-spike"].price_max
    assert MARKETS["cheap-cost"].costs.min() < MARKETS["cheap-cost"].price_min


@pytest.mark.parametrize("env_id", sorted(ENV_IDS.values()))
@pytest.mark.parametrize("market_name", sorted(MARKETS))
def test_env_checker_passes_without_warnings(env_id, market_name):
    env = gym.make(env_id, market=MARKETS[market_name], render_mode="ansi")
    # any warning (observation space bounds, dtype, seeding, render...) fails the test
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


def test_registered_ids_build_the_right_objective():
    demand = gym.make(ENV_IDS["demand"]).unwrapped
    profit = gym.make(ENV_IDS["profit"]).unwrapped
    assert (demand.objective, profit.objective) == ("demand", "profit")
    assert demand.action_space == gym.spaces.Discrete(21)


def _trajectory(env: gym.Env, seed: int, actions) -> tuple[np.ndarray, np.ndarray]:
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for a in actions:
        obs, r, *_ = env.step(a)
        observations.append(obs)
        rewards.append(r)
    return np.array(observations), np.array(rewards)


@pytest.mark.parametrize("env_id", sorted(ENV_IDS.values()))
def test_seeded_reset_is_reproducible_and_seeds_differ(env_id):
    env = gym.make(env_id)
    actions = np.random.default_rng(0).integers(0, 21, size=30)
    obs_a, rew_a = _trajectory(env, 7, actions)
    obs_b, rew_b = _trajectory(env, 7, actions)
    np.testing.assert_array_equal(obs_a, obs_b)  # exact: same seed, same floats
    np.testing.assert_array_equal(rew_a, rew_b)
    obs_c, rew_c = _trajectory(env, 8, actions)
    # observations do not depend on the noise (prices and costs only)...
    np.testing.assert_array_equal(obs_a, obs_c)
    # ...but the realised volume does: another seed gives other noise on every positive day
    positive = rew_a != 0
    assert positive.sum() >= 10
    assert (rew_a[positive] != rew_c[positive]).all()


@pytest.mark.parametrize("market_name", sorted(MARKETS))
@pytest.mark.parametrize("objective", ["demand", "profit"])
def test_observation_always_inside_space(market_name, objective):
    market = MARKETS[market_name]
    env = GasStationEnv(market, objective)
    rng = np.random.default_rng(1)
    for episode in range(5):
        obs, _ = env.reset(seed=episode)
        assert env.observation_space.contains(obs), obs
        terminated = False
        while not terminated:
            obs, _, terminated, _, _ = env.step(int(rng.integers(market.n_prices)))
            assert obs.dtype == np.float32
            assert env.observation_space.contains(obs), obs  # terminal obs included


def test_observation_encodes_day_yesterdays_price_todays_cost_and_demand_level():
    market = MARKETS["sydney-spike"]
    env = GasStationEnv(market, "profit")
    obs, _ = env.reset(seed=0)
    d = market.demand
    level = (d.base_demand / d.price_slope - market.price_max) / (
        market.price_max - market.price_min
    )
    # tolerance: one float32 ulp at these magnitudes (1e-6)
    expected = [0.0, 0.5, cost_feature(market, market.costs[0]), level]
    np.testing.assert_allclose(obs, expected, atol=1e-6)
    for day, a in enumerate([3, 17, 0, 20]):
        obs, *_ = env.step(a)
        expected = [(day + 1) / 30, a / 20, cost_feature(market, market.costs[day + 1]), level]
        np.testing.assert_allclose(obs, expected, atol=1e-6)


@pytest.mark.parametrize("horizon", [1, 2, 30])
def test_episode_terminates_exactly_at_horizon(horizon):
    env = GasStationEnv(Market(horizon=horizon), "profit")
    env.reset(seed=0)
    for day in range(horizon):
        _, _, terminated, truncated, info = env.step(5)
        assert info["day"] == day
        assert truncated is False
        assert terminated is (day == horizon - 1)
    # a reset starts a fresh episode of the same length
    env.reset()
    assert env.step(5)[2] is (horizon == 1)


def test_a_step_after_the_episode_ended_raises_until_reset():
    env = GasStationEnv(Market(horizon=2), "profit")
    env.reset(seed=0)
    env.step(5)
    assert env.step(5)[2] is True  # terminated
    for _ in range(2):  # and stays over (before: an IndexError from the cost path)
        with pytest.raises(RuntimeError, match=r"episode is over .*call reset\(\)"):
            env.step(5)
    obs, _ = env.reset()
    assert obs[0] == 0.0 and env.step(5)[4]["day"] == 0


@pytest.mark.parametrize("objective", ["demand", "profit"])
def test_info_fields_are_consistent(objective):
    market = MARKETS["sydney-spike"]
    env = GasStationEnv(market, objective)
    env.reset(seed=3)
    prev = market.initial_index
    for day, a in enumerate([10, 8, 12, 4]):
        _, reward, _, _, info = env.step(a)
        assert set(info) == {"price", "clipped", "volume", "profit", "unit_cost", "day"}
        assert info["day"] == day
        # tolerances: exact float64 arithmetic on the same values (rel 1e-12)
        assert info["price"] == pytest.approx(market.prices[a], rel=1e-12)
        assert info["unit_cost"] == pytest.approx(market.costs[day], rel=1e-12)
        assert info["profit"] == pytest.approx(
            (info["price"] - info["unit_cost"]) * info["volume"], rel=1e-12, abs=1e-9
        )
        assert reward == (info["volume"] if objective == "demand" else info["profit"])
        # noisy volume around the expected demand: 5% noise, so within 30% (6 sigma)
        expected = market.demand.demand(market.prices[a], market.prices[prev])
        assert info["volume"] == pytest.approx(expected, rel=0.3)
        assert info["volume"] != expected  # the noise is really applied
        prev = a


@pytest.mark.parametrize("action", [-1, 21, 100, 1.5, "3", None, np.float32(2.0)])
def test_invalid_action_raises(action):
    env = GasStationEnv(Market(), "profit")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in"):
        env.step(action)


def test_numpy_integer_actions_are_accepted():
    env = GasStationEnv(Market(), "profit")
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.int64(4))
    assert info["price"] == pytest.approx(1.60, abs=1e-12)


def test_reset_option_initial_price():
    env = GasStationEnv(Market(), "demand")
    obs, _ = env.reset(seed=0, options={"initial_price": 2.21})
    assert obs[1] == pytest.approx(16 / 20, abs=1e-6)  # nearest level 2.20 -> index 16


def test_render_ansi_returns_a_string():
    env = gym.make(ENV_IDS["profit"], render_mode="ansi")
    env.reset(seed=0)
    before = env.render()
    assert isinstance(before, str) and "1.900" in before  # yesterday's price on day 0
    env.step(4)
    after = env.render()
    assert isinstance(after, str) and "price 1.600" in after and "day   0" in after
    assert GasStationEnv(Market(), "profit").render() is None  # no render mode: nothing


# ---- the daily move limit (Market.max_daily_move): part of the dynamics ---------------------

LIMITED = Market(initial_price=1.90, max_daily_move=0.10)  # 2 grid steps of 0.05 $/L


@pytest.mark.parametrize("env_id", sorted(ENV_IDS.values()))
def test_env_checker_passes_with_a_move_limit(env_id):
    env = gym.make(env_id, market=LIMITED, render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


def test_a_move_beyond_the_limit_is_clipped_to_the_nearest_allowed_price():
    env = GasStationEnv(LIMITED, "profit")
    env.reset(seed=0)
    prices, start = LIMITED.prices, LIMITED.initial_index  # 1.90, level 10
    charged = []
    for action in [20, 20, 0, 13, 12]:  # day 0 counts: yesterday is the initial price
        _, _, _, _, info = env.step(action)
        charged.append(info)
    levels = [int(np.abs(prices - i["price"]).argmin()) for i in charged]
    assert levels == [start + 2, start + 4, start + 2, start + 3, start + 2]
    assert [i["clipped"] for i in charged] == [True, True, True, False, False]
    moves = np.abs(np.diff([prices[start], *[i["price"] for i in charged]]))
    assert moves.max() <= 0.10 + 1e-9


def test_without_a_limit_nothing_is_clipped():
    env = GasStationEnv(Market(), "profit")
    env.reset(seed=0)
    for action in [0, 20, 0]:
        _, _, _, _, info = env.step(action)
        assert not info["clipped"] and info["price"] == Market().prices[action]


def test_the_limit_on_a_float_grid_allows_a_move_of_exactly_m():
    lo, hi = Market(max_daily_move=0.30).move_bounds()  # 0.30 = 6 steps of 0.05 $/L
    np.testing.assert_array_equal(hi - np.arange(21), np.minimum(6, 20 - np.arange(21)))
    np.testing.assert_array_equal(np.arange(21) - lo, np.minimum(6, np.arange(21)))
    lo, hi = Market(max_daily_move=0.01).move_bounds()  # under a step: the price stays put
    np.testing.assert_array_equal(lo, np.arange(21))
    np.testing.assert_array_equal(hi, np.arange(21))


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf")])
def test_an_invalid_move_limit_is_refused(bad):
    from rl_core.errors import InvalidMarketError

    with pytest.raises(InvalidMarketError, match="max_daily_move"):
        Market(max_daily_move=bad)


def test_the_move_limit_round_trips_and_old_json_loads_unlimited():
    assert Market.from_dict(LIMITED.to_dict()) == LIMITED
    old = Market().to_dict()
    del old["max_daily_move"]  # JSON written before the limit existed
    assert Market.from_dict(old).max_daily_move is None
