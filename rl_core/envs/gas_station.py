"""Gymnasium environments of one fuel station pricing into a `Market`.

Each step is one day. The agent picks a price level; the market answers with the litres
sold; the reward is those litres (`GasStationDemand-v0`) or the profit
(price - unit cost) * litres (`GasStationProfit-v0`).

Action space: `Discrete(n_prices)`, action i asks for `market.prices[i]` $/L (floor >= 0).
With a daily move limit (`market.max_daily_move`, None: none) a price more than that many
$/L from yesterday's (the initial price on day 0) is clipped to the nearest allowed grid
level, and that is the price charged: the station cannot move further in a day. The action
space stays `Discrete(n_prices)`: a clipped action is the allowed one in every respect.

Observation space: `Box(4,)` float32, laid out in `rl_core.envs.observation`: day fraction,
yesterday's price level, today's unit cost and the station's demand level (its choke price),
the last three on the price grid's scale. The agent never sees tomorrow's cost. The
episode terminates after `horizon` days (time is part of the state, so this is a true
termination, not a truncation); a `step` after that raises RuntimeError until `reset`.

Info: `price` (the price charged), `clipped` (the move limit changed the asked price),
`volume` (litres sold), `profit`, `unit_cost`, `day`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_core.envs.observation import COST, OBS_DIM, bounds, cost_feature, observe
from rl_core.market.model import Market, check_objective, reward

__all__ = [
    "OBS_DIM",
    "GasStationDemandEnv",
    "GasStationEnv",
    "GasStationProfitEnv",
    "cost_bounds",
    "cost_feature",
    "observe",
]


def cost_bounds(market: Market) -> tuple[float, float]:
    """Bounds of observation 2 for this market's cost path."""
    low, high = bounds(market)
    return float(low[COST]), float(high[COST])


class GasStationEnv(gym.Env):
    """One station, one market, one objective ("demand" or "profit")."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        market: Market | None = None,
        objective: str = "profit",
        render_mode: str | None = None,
    ) -> None:
        self.market = market if market is not None else Market()
        self.objective = check_objective(objective)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(self.market.n_prices)
        low, high = bounds(self.market)
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)
        self._prices = self.market.prices
        self._costs = self.market.costs
        self._move_lo, self._move_hi = self.market.move_bounds()
        self._day = 0
        self._prev = self.market.initial_index
        self._last_info: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._day = 0
        self._prev = self.market.initial_index
        if options and "initial_price" in options:
            self._prev = int(np.abs(self._prices - float(options["initial_price"])).argmin())
        self._last_info = {}
        return observe(self.market, 0, self._prev), {}

    def step(self, action):
        if self._day >= self.market.horizon:
            raise RuntimeError(
                f"episode is over (it terminated after day {self.market.horizon - 1}, the "
                "horizon): call reset() before step()"
            )
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        asked = int(action)
        action = min(max(asked, int(self._move_lo[self._prev])), int(self._move_hi[self._prev]))
        price, prev_price = self._prices[action], self._prices[self._prev]
        cost = self._costs[self._day]
        litres = float(self.market.demand.demand(price, prev_price))
        noise = self.market.demand.noise_std
        if noise > 0:
            litres = max(0.0, litres * (1.0 + noise * self.np_random.standard_normal()))
        info = {
            "price": float(price),
            "clipped": action != asked,
            "volume": litres,
            "profit": float(reward("profit", price, cost, litres)),
            "unit_cost": float(cost),
            "day": self._day,
        }
        self._day += 1
        self._prev = action
        self._last_info = info
        terminated = self._day >= self.market.horizon
        r = float(reward(self.objective, price, cost, litres))
        return observe(self.market, self._day, self._prev), r, terminated, False, info

    def render(self):
        if self.render_mode != "ansi":
            return None
        if not self._last_info:
            return f"day   0  yesterday's price {self._prices[self._prev]:.3f} (no step yet)"
        i = self._last_info
        return (
            f"day {i['day']:3d}  price {i['price']:.3f}  cost {i['unit_cost']:.3f}  "
            f"volume {i['volume']:9.1f} L  profit {i['profit']:10.2f}"
        )


class GasStationDemandEnv(GasStationEnv):
    """Reward = litres sold. Registered as `GasStationDemand-v0`."""

    def __init__(self, market: Market | None = None, render_mode: str | None = None):
        super().__init__(market, "demand", render_mode)


class GasStationProfitEnv(GasStationEnv):
    """Reward = (price - unit cost) * litres. Registered as `GasStationProfit-v0`."""

    def __init__(self, market: Market | None = None, render_mode: str | None = None):
        super().__init__(market, "profit", render_mode)
