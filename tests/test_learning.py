"""The quality bar: each agent reaches and holds 99% of the exact optimum, 3 seeds.

Held to the issue's standard, with the default budget (`DQNConfig()` plus the setup's
overrides, see rl_core/market/presets.py), for both objectives, on two markets:
  - default: the built-in synthetic market (constant unit cost);
  - sydney: unit cost following the real Sydney wholesale series (16 held-out windows).
    The optimum there knows tomorrow's cost; the best non-anticipating policy reaches
    99.99% of it (profit) and 100% (demand), so the agent is held to 99% of the optimum
    itself (test_non_anticipating_gap_is_small checks that premise).
Pass: the final greedy policy >= 99% of the optimum AND the median of the last five
evaluations >= 99.5% (it stayed there, not a lucky last evaluation). Not timed: speed is
measured by benchmarks/, never asserted here.
"""

import pytest

from rl_core.agents.dqn import DQNConfig
from rl_core.evaluation.optimum import non_anticipating_plan, path_return, solve
from rl_core.market.presets import market_setup
from rl_core.training.train import train

SEEDS = (0, 1, 2)


@pytest.mark.slow
@pytest.mark.parametrize("market", ["default", "sydney"])
@pytest.mark.parametrize("agent", ["profit", "demand"])
@pytest.mark.parametrize("seed", SEEDS)
def test_agent_reaches_and_holds_99_percent_of_the_optimum(market, agent, seed):
    setup = market_setup(market)
    config = DQNConfig(seed=seed, **setup.config_overrides)
    result = train(setup.train, agent, config, eval_markets=setup.evaluate)
    final = result.evaluation.fraction_of_optimum
    tail = result.tail_median(5)
    budget = f"{result.env_steps:,} env steps, {result.updates:,} updates"
    assert final >= 0.99, f"{agent}/{market}/seed {seed}: final {final:.4f} < 0.99 ({budget})"
    assert tail >= 0.995, f"{agent}/{market}/seed {seed}: median of last 5 {tail:.4f} < 0.995"
    assert result.first_reach(0.99) is not None


@pytest.mark.parametrize("agent", ["profit", "demand"])
def test_non_anticipating_gap_is_small(agent):
    """On the Sydney windows, knowing tomorrow's cost is worth < 0.5% of the optimum."""
    setup = market_setup("sydney")
    optimum = sum(solve(m, agent).value for m in setup.evaluate)
    blind = sum(path_return(m, agent, non_anticipating_plan(m, agent)) for m in setup.evaluate)
    assert blind <= optimum + 1e-6
    assert blind / optimum >= 0.995


def test_a_tiny_budget_does_not_pass_the_bar():
    """The bar is not trivially met: 2,000 env steps (no update yet) stay below it."""
    setup = market_setup("default")
    result = train(setup.train, "profit", DQNConfig(total_env_steps=2_000, eval_interval=1))
    assert result.updates == 0
    assert result.evaluation.fraction_of_optimum < 0.99


def test_curve_records_loss_episode_return_and_epsilon():
    """What the registry will store per evaluation: the training curves, not just the score."""
    result = train(market_setup("default").train, "profit", DQNConfig(total_env_steps=40_000))
    rows = result.curve
    assert [r["env_steps"] for r in rows] == sorted(r["env_steps"] for r in rows)
    epsilons = [r["epsilon"] for r in rows]
    assert epsilons == sorted(epsilons, reverse=True) and epsilons[-1] == pytest.approx(0.05)
    returns = [r["episode_return"] for r in rows if r["episode_return"] is not None]
    # exploring episodes earn more as epsilon falls and the greedy part improves
    assert len(returns) >= 5 and returns[-1] > returns[0]
    assert all(r["loss"] >= 0 for r in rows if r["updates"] > 0)
