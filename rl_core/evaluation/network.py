"""Evaluate one policy over a whole station network against every station's exact optimum.

The network's score is sum over stations of expected returns / sum over stations of optima
(a big station counts for more, as its litres and dollars do). Everything is batched over
stations: one vectorised noise-free rollout, one batched backward induction
(`solve_batch`), one gather for the returns, so 2,000 stations cost well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rl_core.envs.observation import observe
from rl_core.evaluation.evaluate import Policy, rollout
from rl_core.evaluation.optimum import BatchOptimum, batch_path_metrics, solve_batch
from rl_core.market.model import Market, batch_move_bounds, check_objective, reward
from rl_core.market.network import StationNetwork


@dataclass(frozen=True)
class NetworkEvaluation:
    objective: str
    station_ids: list[str]
    returns: np.ndarray  # (stations,) the policy's expected return per station
    optima: np.ndarray  # (stations,) exact optimal expected return per station
    actions: np.ndarray  # (stations, horizon) the policy's price levels
    optimal_actions: np.ndarray  # (stations, horizon) an optimal policy's price levels
    prices: np.ndarray  # (stations, horizon) the policy's prices ($/L)
    volume: np.ndarray  # (stations,) expected litres over the horizon
    profit: np.ndarray  # (stations,) expected profit ($) over the horizon

    @property
    def fraction_of_optimum(self) -> float:
        """Sum of expected returns over stations / sum of their optima."""
        return float(self.returns.sum() / self.optima.sum())

    @property
    def station_fractions(self) -> np.ndarray:
        return self.returns / self.optima

    def recommendations(self) -> dict[str, float]:
        """Each station's first-day price ($/L): tomorrow's recommended price."""
        return dict(zip(self.station_ids, self.prices[:, 0].tolist(), strict=True))

    def first_day_agreement(self) -> float:
        """Share of stations whose first-day level equals an optimal policy's."""
        return float(np.mean(self.actions[:, 0] == self.optimal_actions[:, 0]))

    def to_dict(self) -> dict:
        fr = self.station_fractions
        return {
            "objective": self.objective,
            "stations": len(self.station_ids),
            "fraction_of_optimum": self.fraction_of_optimum,
            "total_return": float(self.returns.sum()),
            "total_optimum": float(self.optima.sum()),
            "worst_station_fraction": float(fr.min()),
            "median_station_fraction": float(np.median(fr)),
            "first_day_agreement": self.first_day_agreement(),
            "distinct_first_day_prices": int(len(np.unique(self.actions[:, 0]))),
            "volume": float(self.volume.sum()),
            "profit": float(self.profit.sum()),
        }


def evaluate_network(
    policy: Policy,
    network: StationNetwork | Sequence[Market],
    objective: str,
    optimum: BatchOptimum | None = None,
    station_ids: Sequence[str] | None = None,
) -> NetworkEvaluation:
    """Expected return of `policy` at every station of `network`, against the exact optimum.

    `network` is a `StationNetwork` or its markets (sharing horizon and n_prices); pass
    `optimum` (`solve_batch` of the same markets and objective) to reuse it.
    """
    check_objective(objective)
    if isinstance(network, StationNetwork):
        markets, ids = network.markets(), network.station_ids
    else:
        markets = list(network)
        ids = (
            list(station_ids) if station_ids is not None else [str(i) for i in range(len(markets))]
        )
    optimum = optimum if optimum is not None else solve_batch(markets, objective)
    actions = rollout(policy, markets, objective)
    prices = np.take_along_axis(np.stack([m.prices for m in markets]), actions, axis=1)
    costs = np.stack([m.costs for m in markets])
    litres, profit = batch_path_metrics(markets, actions)
    returns = reward(objective, prices, costs, litres).sum(1)
    return NetworkEvaluation(
        objective=objective,
        station_ids=list(ids),
        returns=returns,
        optima=optimum.values,
        actions=actions,
        optimal_actions=optimum.actions,
        prices=prices,
        volume=litres.sum(1),
        profit=profit.sum(1),
    )


@torch.no_grad()
def recommend_prices(policy: Policy, network: StationNetwork) -> dict[str, float]:
    """Tomorrow's price ($/L) per station: the policy's day-0 price from its last price,
    clipped to the station's daily move limit (the price it may charge).

    One forward pass over all stations (the observation of `rl_core.envs.observation`).
    """
    markets = network.markets()
    obs = np.stack([observe(m, 0, m.initial_index) for m in markets])
    levels = policy(torch.from_numpy(obs)).cpu().numpy()
    start = np.array([m.initial_index for m in markets])
    lo, hi = batch_move_bounds(markets)
    rows = np.arange(len(markets))
    levels = np.clip(levels, lo[rows, start], hi[rows, start])
    prices = np.stack([m.prices for m in markets])[np.arange(len(markets)), levels]
    return dict(zip(network.station_ids, prices.tolist(), strict=True))
