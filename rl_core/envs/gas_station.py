"""Gymnasium environments of one fuel station pricing into a `Market`.

Each step is one day. The agent picks a price level; the market answers with the litres
sold; the reward is those litres (`GasStationDemand-v0`) or the profit
(price - unit cost) * litres (`GasStationProfit-v0`).

Action space: `Discrete(n_prices)`, action i charges `market.prices[i]` $/L (floor >= 0).

Observation space: `Box(3,)` float32, everything the agent may know on the morning of day t:
    0  day fraction      t / horizon                               in [0, 1)
    1  yesterday's price (p_{t-1} - price_min) / (price_max - price_min)   in [0, 1]
    2  today's unit cost on the price grid's scale  (c_t - price_min) / (price_max - price_min)
       (0 at the price floor, 1 at the ceiling; bounds from the market's cost path)
The agent never sees tomorrow's cost. The episode terminates after `horizon` days (time is
part of the state, so this is a true termination, not a truncation).

Info: `price`, `volume` (litres sold), `profit`, `unit_cost`, `day`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_core.market.model import Market, check_objective

OBS_DIM = 3


def cost_feature(market: Market, cost):
    """Today's cost on the price grid's scale: well spread for the network whatever the units."""
    return (cost - market.price_min) / (market.price_max - market.price_min)


def observe(market: Market, day: int, prev_index: int) -> np.ndarray:
    """The observation on the morning of `day` after charging level `prev_index` yesterday."""
    cost = market.costs[min(day, market.horizon - 1)]
    return np.array(
        [day / market.horizon, prev_index / (market.n_prices - 1), cost_feature(market, cost)],
        dtype=np.float32,
    )


def cost_bounds(market: Market) -> tuple[float, float]:
    """Bounds of observation 2 for this market's cost path."""
    c = cost_feature(market, market.costs)
    return min(0.0, float(c.min())), max(1.0, float(c.max()))


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
        cost_low, cost_high = cost_bounds(self.market)
        self.observation_space = spaces.Box(
            low=np.array([0.0, 0.0, cost_low], dtype=np.float32),
            high=np.array([1.0, 1.0, cost_high], dtype=np.float32),
            dtype=np.float32,
        )
        self._prices = self.market.prices
        self._costs = self.market.costs
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
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        action = int(action)
        price, prev_price = self._prices[action], self._prices[self._prev]
        cost = self._costs[self._day]
        litres = float(self.market.demand.demand(price, prev_price))
        noise = self.market.demand.noise_std
        if noise > 0:
            litres = max(0.0, litres * (1.0 + noise * self.np_random.standard_normal()))
        profit = (price - cost) * litres
        reward = litres if self.objective == "demand" else profit
        info = {
            "price": float(price),
            "volume": litres,
            "profit": float(profit),
            "unit_cost": float(cost),
            "day": self._day,
        }
        self._day += 1
        self._prev = action
        self._last_info = info
        terminated = self._day >= self.market.horizon
        return observe(self.market, self._day, self._prev), float(reward), terminated, False, info

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
