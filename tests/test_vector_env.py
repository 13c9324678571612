"""VectorGasStation is the gymnasium env's twin: same observations, same rewards, same noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rl_core.envs.gas_station import GasStationEnv
from rl_core.envs.vector import VectorGasStation
from rl_core.evaluation.optimum import reward_table
from rl_core.market.costs import sydney_markets
from rl_core.market.model import Market

# float32 twin of a float64 env: observations agree to 1e-6 (a few float32 ulps on [0, 1]),
# rewards to a relative 1e-5 (litres and margins are each rounded to float32 once, a product
# of two such roundings is off by < 2.4e-7 relative) plus 1e-3 absolute for margins near 0.
OBS_ATOL = 1e-6
REWARD_RTOL, REWARD_ATOL = 1e-5, 1e-3


def _noiseless(m: Market) -> Market:
    return m.replace(demand=m.demand.replace(noise_std=0.0))


SINGLE = Market(initial_price=1.62)
POOL = sydney_markets(n=8)
# the daily move limit, one market and a pool of mixed limits (None: unconstrained)
SINGLE_LIMITED = SINGLE.replace(max_daily_move=0.10)
POOL_LIMITED = [
    m.replace(max_daily_move=lim) for m, lim in zip(POOL, [0.1, 0.3, None, 0.05] * 2, strict=True)
]


@pytest.mark.parametrize("objective", ["demand", "profit"])
@pytest.mark.parametrize(
    ("markets", "num_envs"),
    [(SINGLE, 4), (POOL, None), (SINGLE_LIMITED, 4), (POOL_LIMITED, None)],
    ids=["one-market-4-slots", "8-sydney-markets", "move-limit-4-slots", "move-limits-8-sydney"],
)
def test_noise_free_vector_env_equals_gym_env(markets, num_envs, objective):
    vec = VectorGasStation(markets, objective, num_envs, noise=False)
    pool = [markets] if isinstance(markets, Market) else markets
    slot_markets = pool * vec.num_envs if len(pool) == 1 else pool
    envs = [GasStationEnv(_noiseless(m), objective) for m in slot_markets]
    rng = np.random.default_rng(42)

    obs_v = vec.reset()
    obs_g = np.stack([e.reset(seed=0)[0] for e in envs])
    np.testing.assert_allclose(obs_v.numpy(), obs_g, atol=OBS_ATOL)
    episodes, horizon = 3, vec.horizon
    dones = 0
    for step in range(episodes * horizon):
        actions = rng.integers(0, vec.n_prices, size=vec.num_envs)
        obs_v, rew_v, done = vec.step(torch.as_tensor(actions))
        results = [e.step(int(a)) for e, a in zip(envs, actions, strict=True)]
        rew_g = np.array([r[1] for r in results])
        charged = [
            int(np.abs(e.market.prices - r[4]["price"]).argmin())
            for e, r in zip(envs, results, strict=True)
        ]
        np.testing.assert_array_equal(vec.last_actions.numpy(), charged)
        terminated = {r[2] for r in results}
        assert terminated == {done}  # all slots end together, exactly when the gym env does
        assert done == ((step + 1) % horizon == 0)
        np.testing.assert_allclose(rew_v.numpy(), rew_g, rtol=REWARD_RTOL, atol=REWARD_ATOL)
        if done:
            dones += 1
            # the vector env auto-resets: its observation is the next episode's first
            obs_g = np.stack([e.reset()[0] for e in envs])
            assert (obs_v[:, 0] == 0).all()
        else:
            obs_g = np.stack([r[0] for r in results])
        np.testing.assert_allclose(obs_v.numpy(), obs_g, atol=OBS_ATOL)
    assert dones == episodes


def test_noise_free_step_sells_the_expected_litres():
    vec = VectorGasStation(POOL, "profit", noise=False)
    vec.reset()
    actions = torch.arange(8) + 5
    _, reward, _ = vec.step(actions)
    # litres of market k on day 0 after the initial level (float32 vs float64: rtol 1e-6)
    expected = [
        m.demand.demand(m.prices[a], m.prices[m.initial_index])
        for m, a in zip(POOL, actions.tolist(), strict=True)
    ]
    np.testing.assert_allclose(vec.last_litres.numpy(), expected, rtol=1e-6)
    margins = [m.prices[a] - m.costs[0] for m, a in zip(POOL, actions.tolist(), strict=True)]
    np.testing.assert_allclose(
        reward.numpy(), np.multiply(expected, margins), rtol=REWARD_RTOL, atol=REWARD_ATOL
    )


@pytest.mark.parametrize("noise_std", [0.05, 0.2])
def test_noise_has_mean_one_and_the_market_std(noise_std):
    market = Market(demand=Market().demand.replace(noise_std=noise_std))
    vec = VectorGasStation(market, "demand", 256, seed=3)
    twin = VectorGasStation(market, "demand", 256, seed=3, noise=False)  # expected litres
    gen = torch.Generator().manual_seed(0)
    ratios = []
    for _ in range(2 * vec.horizon):
        # prices in the lower half of the grid: expected litres always well above 0
        actions = torch.randint(0, 10, (vec.num_envs,), generator=gen)
        vec.step(actions)
        twin.step(actions)
        assert (twin.last_litres > 1000).all()
        ratios.append(vec.last_litres / twin.last_litres)
    r = torch.cat(ratios).double()
    n = r.numel()  # 15,360 draws
    # mean: standard error noise_std / sqrt(n) (<= 1.6e-3); allow 5 standard errors.
    # The clip at zero is 20 (resp. 5) sigma away, its bias is far below that.
    assert abs(float(r.mean()) - 1.0) < 5 * noise_std / n**0.5
    # std: the sample std's standard error is ~ noise_std / sqrt(2n); allow 5% relative
    # (more than 8 standard errors), which still tells 0.05 from 0.2 or from 0.
    assert float(r.std()) == pytest.approx(noise_std, rel=0.05)


def test_noise_flag_off_gives_expected_litres_exactly():
    market = Market()
    vec = VectorGasStation(market, "demand", 16, noise=True)
    vec_off = VectorGasStation(market, "demand", 16, noise=False)
    actions = torch.full((16,), 7)
    _, r_off, _ = vec_off.step(actions)
    _, r_on, _ = vec.step(actions)
    litres = market.demand.demand(market.prices[7], market.prices[market.initial_index])
    expected = torch.full((16,), float(litres), dtype=torch.float32)  # float32, as the env
    torch.testing.assert_close(r_off, expected, rtol=0, atol=0)
    assert not torch.equal(r_on, expected)


def test_seed_reproduces_noise():
    a = VectorGasStation(Market(), "profit", 8, seed=5)
    b = VectorGasStation(Market(), "profit", 8, seed=5)
    c = VectorGasStation(Market(), "profit", 8, seed=6)
    actions = torch.full((8,), 9)
    ra, rb, rc = a.step(actions)[1], b.step(actions)[1], c.step(actions)[1]
    torch.testing.assert_close(ra, rb, rtol=0, atol=0)
    assert (ra != rc).all()


def test_sample_draws_every_pool_member_and_matches_its_market():
    pool = sydney_markets(n=5, seed=1)
    vec = VectorGasStation(pool, "profit", 64, sample=True, seed=0, noise=False)
    tables = [reward_table(m, "profit") for m in pool]
    seen: set[int] = set()
    assignments = []
    rng = np.random.default_rng(0)
    obs = vec.reset()
    for _ in range(3):  # three episodes: the pool is re-drawn at every episode start
        ids = vec.market_id.clone()
        assignments.append(ids)
        seen |= set(ids.tolist())
        prev = np.array([pool[k].initial_index for k in ids.tolist()])
        for day in range(vec.horizon):
            # each slot sees its own market's cost (tolerance: float32 rounding, 1e-6)
            costs = [(pool[k].costs[day] - 1.40) / 1.00 for k in ids.tolist()]
            np.testing.assert_allclose(obs[:, 2].numpy(), costs, atol=1e-6)
            actions = rng.integers(0, vec.n_prices, size=64)
            obs, reward, _ = vec.step(torch.as_tensor(actions))
            expected = [
                tables[k][day, j, i] for k, j, i in zip(ids.tolist(), prev, actions, strict=True)
            ]
            np.testing.assert_allclose(reward.numpy(), expected, rtol=REWARD_RTOL, atol=REWARD_ATOL)
            prev = actions
    assert seen == set(range(5))  # 64 uniform draws from 5 miss one with prob ~ 5 * 0.8^64
    assert not torch.equal(assignments[0], assignments[1])  # re-drawn, not fixed per slot


def test_without_sample_slot_k_runs_market_k():
    vec = VectorGasStation(POOL, "profit", noise=False)
    assert vec.market_id.tolist() == list(range(8))
    for _ in range(vec.horizon):
        vec.step(torch.zeros(8, dtype=torch.long))
    assert vec.market_id.tolist() == list(range(8))


@pytest.mark.parametrize(
    "other",
    [Market(horizon=10), Market(n_prices=11)],
    ids=["horizon", "n_prices"],
)
def test_mismatched_markets_raise(other):
    with pytest.raises(ValueError, match="horizon and n_prices"):
        VectorGasStation([Market(), other], "profit")
    with pytest.raises(ValueError, match="horizon and n_prices"):
        VectorGasStation([Market(), other], "profit", 16, sample=True)


def test_pool_size_must_fit_slots_without_sampling():
    with pytest.raises(ValueError, match="3 markets for 4 slots"):
        VectorGasStation([Market()] * 3, "profit", 4)
    with pytest.raises(ValueError, match="at least one market"):
        VectorGasStation([], "profit")


def test_step_charges_the_clipped_levels():
    vec = VectorGasStation(POOL_LIMITED, "profit", noise=False)
    twin = VectorGasStation(POOL_LIMITED, "profit", noise=False)  # asks the charged levels
    vec.reset()
    for day in range(4):
        asked = torch.full((8,), 20 if day % 2 == 0 else 0)
        prev = vec.prev.clone()
        _, realised, _ = vec.step(asked)
        _, charged, _ = twin.step(vec.last_actions)
        torch.testing.assert_close(realised, charged)  # the reward of the level charged
        for k, m in enumerate(POOL_LIMITED):
            want = int(m.clip_levels(int(prev[k]), int(asked[k])))
            assert int(vec.last_actions[k]) == want == int(vec.prev[k])
            if m.max_daily_move is not None:
                move = abs(m.prices[want] - m.prices[int(prev[k])])
                assert move <= m.max_daily_move + 1e-9


def test_the_agents_action_mask_is_the_envs_move_limit():
    """With the pool's move bounds the DQN acts, explores and bootstraps on allowed levels."""
    from rl_core.agents.dqn import DQNAgent, DQNConfig
    from rl_core.market.model import shared_move_bounds

    market = SINGLE_LIMITED
    bounds = shared_move_bounds([market])
    assert shared_move_bounds([SINGLE]) is None  # no limit: no mask, training unchanged
    assert shared_move_bounds([market, market.replace(max_daily_move=0.3)]) is None
    agent = DQNAgent(4, market.n_prices, DQNConfig(hidden=(8,)), move_bounds=bounds)
    vec = VectorGasStation(market, "profit", 256, noise=False)
    obs = vec.reset()
    rng = torch.Generator().manual_seed(0)
    lo, hi = (torch.as_tensor(b)[vec.prev] for b in bounds)
    for epsilon in (1.0, 0.0):
        a = agent.act(obs, epsilon, rng)
        assert ((a >= lo) & (a <= hi)).all()
        torch.testing.assert_close(vec.charged(a), a)  # nothing left for the env to clip
    assert ((agent.greedy(obs) >= lo) & (agent.greedy(obs) <= hi)).all()
    assert len(torch.unique(agent.act(obs, 1.0, rng))) == int(hi[0] - lo[0] + 1)


# ---- gymnasium's VectorEnv API: the registered vector entry point --------------------------


@pytest.mark.parametrize("objective", ["demand", "profit"])
def test_make_vec_gives_the_batched_twin_with_gymnasium_semantics(objective):
    import gymnasium as gym

    from rl_core.envs import ENV_IDS
    from rl_core.envs.gym_vector import GasStationVectorEnv

    market = _noiseless(SINGLE_LIMITED)
    envs = gym.make_vec(
        ENV_IDS[objective], num_envs=3, vectorization_mode="vector_entry_point", market=market
    )
    assert isinstance(envs, GasStationVectorEnv) and envs.num_envs == 3
    single = GasStationEnv(market, objective)
    assert envs.single_observation_space == single.observation_space
    assert envs.single_action_space == single.action_space
    obs, info = envs.reset(seed=0)
    first, _ = single.reset(seed=0)
    assert envs.observation_space.contains(obs) and info == {}
    np.testing.assert_allclose(obs, np.tile(first, (3, 1)), atol=OBS_ATOL)
    rng = np.random.default_rng(1)
    for day in range(market.horizon):
        level = int(rng.integers(market.n_prices))
        obs, reward, terminated, truncated, info = envs.step(np.full(3, level))
        want_obs, want_reward, want_done, _, _ = single.step(level)
        np.testing.assert_allclose(reward, want_reward, rtol=REWARD_RTOL, atol=REWARD_ATOL)
        assert (terminated == want_done).all() and not truncated.any()
        if want_done:  # same-step autoreset: the terminal obs in info, the next episode's first
            assert day == market.horizon - 1
            np.testing.assert_allclose(info["final_obs"], np.tile(want_obs, (3, 1)), atol=OBS_ATOL)
            np.testing.assert_allclose(obs, np.tile(first, (3, 1)), atol=OBS_ATOL)
        else:
            assert info == {}
            np.testing.assert_allclose(obs, np.tile(want_obs, (3, 1)), atol=OBS_ATOL)


def test_make_vec_refuses_actions_it_cannot_take():
    import gymnasium as gym

    envs = gym.make_vec("GasStationProfit-v0", num_envs=2, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    for bad in ([0, 21], [0, -1], [0], [[0, 1]]):
        with pytest.raises(ValueError, match="expected 2 price levels in 0..20"):
            envs.step(np.array(bad))
