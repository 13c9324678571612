"""Evaluate any pricing policy on seeded scenarios against the exact optimum.

A policy maps a batch of observations (see `rl_core.envs.gas_station`) to price levels.
Scenarios are markets (different start prices, cost windows...). Transitions are
deterministic given the policy and demand noise has mean one, so the expected return of a
deterministic policy is its noise-free rollout: evaluation is exact, not a noisy estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rl_core.envs.vector import VectorGasStation
from rl_core.evaluation.optimum import batch_path_metrics, solve_batch
from rl_core.market.model import Market, check_objective, reward

Policy = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Evaluation:
    objective: str
    total_reward: float  # mean expected return per scenario
    optimum: float  # mean optimal expected return per scenario
    fraction_of_optimum: float  # sum of returns / sum of optima
    volume: float  # mean litres per scenario
    profit: float  # mean profit ($) per scenario
    prices: np.ndarray  # (scenarios, horizon) price trajectories ($/L)
    scenario_fractions: np.ndarray  # (scenarios,)

    def to_dict(self, trajectories: bool = False) -> dict:
        d = {
            "objective": self.objective,
            "total_reward": self.total_reward,
            "optimum": self.optimum,
            "fraction_of_optimum": self.fraction_of_optimum,
            "volume": self.volume,
            "profit": self.profit,
            "scenarios": len(self.scenario_fractions),
            "worst_scenario_fraction": float(self.scenario_fractions.min()),
        }
        if trajectories:
            d["price_trajectories"] = np.round(self.prices, 4).tolist()
        return d


@torch.no_grad()
def rollout(policy: Policy, markets: Sequence[Market], objective: str) -> np.ndarray:
    """Price levels (scenarios, horizon) the policy charges, noise-free (its levels clipped
    to each market's daily move limit, as the environments charge them)."""
    env = VectorGasStation(markets, objective, noise=False)
    obs = env.reset()
    actions = np.empty((len(markets), env.horizon), dtype=np.int64)
    for t in range(env.horizon):
        obs, _, _ = env.step(policy(obs))
        actions[:, t] = env.last_actions.cpu().numpy()
    return actions


def evaluate_policy(
    policy: Policy,
    markets: Market | Sequence[Market],
    objective: str,
    optima: Sequence[float] | None = None,
) -> Evaluation:
    """Expected return, volume, profit and fraction of the DP optimum over `markets`."""
    check_objective(objective)
    markets = [markets] if isinstance(markets, Market) else list(markets)
    if optima is None:
        optima = solve_batch(markets, objective).values
    actions = rollout(policy, markets, objective)
    prices = np.take_along_axis(np.stack([m.prices for m in markets]), actions, axis=1)
    costs = np.stack([m.costs for m in markets])
    litres, profit = batch_path_metrics(markets, actions)  # (scenarios, horizon)
    litres_tot, profit_tot = litres.sum(axis=1), profit.sum(axis=1)
    returns = reward(objective, prices, costs, litres).sum(axis=1)
    optima_arr = np.asarray(optima, dtype=np.float64)
    return Evaluation(
        objective=objective,
        total_reward=float(returns.mean()),
        optimum=float(optima_arr.mean()),
        fraction_of_optimum=float(returns.sum() / optima_arr.sum()),
        volume=float(litres_tot.mean()),
        profit=float(profit_tot.mean()),
        prices=prices,
        scenario_fractions=returns / optima_arr,
    )
