"""Reference policies every agent must beat: the best constant price and history."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rl_core.evaluation.evaluate import Policy, evaluate_policy
from rl_core.market.model import Market


def constant_policy(level: int) -> Policy:
    return lambda obs: torch.full((obs.shape[0],), level, dtype=torch.long)


def best_constant_price(markets: Market | Sequence[Market], objective: str) -> tuple[int, float]:
    """(price level, fraction of optimum) of the best single price held every day."""
    markets = [markets] if isinstance(markets, Market) else list(markets)
    scores = [
        evaluate_policy(constant_policy(i), markets, objective).fraction_of_optimum
        for i in range(markets[0].n_prices)
    ]
    best = int(np.argmax(scores))
    return best, float(scores[best])


def historical_policy(market: Market, price_path: Sequence[float]) -> Policy:
    """Charge, on day t, the grid price nearest to what the station charged on day t."""
    path = np.asarray(price_path, dtype=np.float64)
    if len(path) < market.horizon:
        raise ValueError(f"history has {len(path)} days, the market horizon is {market.horizon}")
    levels = torch.as_tensor(np.abs(market.prices[None, :] - path[:, None]).argmin(axis=1))

    def policy(obs: torch.Tensor) -> torch.Tensor:
        day = torch.round(obs[:, 0] * market.horizon).long().clamp_(max=market.horizon - 1)
        return levels[day]

    return policy
