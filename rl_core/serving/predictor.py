"""A champion ready to answer: its policy loaded once, requests priced in one forward pass.

A request (yesterday's price, today's unit cost, day of the planning horizon) becomes the
observation the policy was trained on (`rl_core.envs.observation`):
    [day / horizon, yesterday's grid level / (n_prices - 1), cost on the grid's scale,
     the station's demand level on the grid's scale (default: the bundle market's own)]
The station's demand level comes from the request, else from the bundle's network by
station id, else the network's level (the fallback; `resolve_levels`). The greedy level
among those the bundle market's daily move limit allows after yesterday's is turned back into
$/L on the bundle market's grid; the expected volume is that market's
noise-free demand at the station's level and (price, yesterday's price snapped to the
grid), and the expected profit (price - unit cost) * volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rl_core.agents.dqn import allowed_argmax
from rl_core.envs.observation import PREV, demand_level_feature, observe_prices
from rl_core.errors import ForecourtError
from rl_core.market.model import Market, linear_demand, reward
from rl_core.training.bundle import FROM_REQUEST, PolicyBundle

# yesterday's price may lie this many grid steps outside [price_min, price_max] (it is
# snapped to the nearest level); further out the policy never saw such a state
PRICE_TOLERANCE_STEPS = 1.0


class InvalidInputError(ForecourtError, ValueError):
    """Inputs the model cannot price (outside its grid or horizon, negative, not finite)."""


@dataclass(frozen=True)
class Prediction:
    price: np.ndarray
    expected_volume: np.ndarray
    expected_profit: np.ndarray


@dataclass(frozen=True)
class LoadedModel:
    """One bundle with its policy in memory; immutable, so it can be swapped by reference."""

    bundle: PolicyBundle
    version: str
    policy: torch.nn.Module = field(repr=False)

    @classmethod
    def load(cls, bundle: PolicyBundle, version: str) -> LoadedModel:
        """Load the policy and run it once, so the first request pays no warm-up."""
        model = cls(bundle, version, bundle.load_policy())
        m = model.market
        model.predict(np.zeros(1, np.int64), np.array([m.price_min]), np.array([m.price_min]))
        return model

    @property
    def agent(self) -> str:
        return self.bundle.agent

    @property
    def market(self) -> Market:
        return self.bundle.market

    def price_bounds(self) -> tuple[float, float]:
        """Yesterday's prices this model accepts ($/L)."""
        m = self.market
        slack = PRICE_TOLERANCE_STEPS * (m.price_max - m.price_min) / (m.n_prices - 1)
        return max(0.0, m.price_min - slack), m.price_max + slack

    def resolve_levels(self, station_ids, requested=None) -> tuple[np.ndarray, list[str]]:
        """Each station's demand level and its source (request | network | fallback).

        `requested` (one value or None per station) wins; else the bundle's network by id;
        else the network's level, so an unknown station (or an old bundle) still prices.
        """
        levels, sources = self.bundle.station_levels(station_ids)
        for i, value in enumerate(requested if requested is not None else ()):
            if value is not None:
                levels[i], sources[i] = float(value), FROM_REQUEST
        return levels, sources

    def check(self, day, yesterday_price, unit_cost) -> list[str]:
        """Problems with these inputs, one message per kind (empty when all are fine)."""
        m = self.market
        lo, hi = self.price_bounds()
        day = np.asarray(day)
        yp = np.asarray(yesterday_price, dtype=np.float64)
        uc = np.asarray(unit_cost, dtype=np.float64)
        problems = []
        if not np.all(np.isfinite(yp)) or not np.all(np.isfinite(uc)):
            problems.append("yesterday_price and unit_cost must be finite numbers")
        if np.any(uc < 0):
            problems.append("unit_cost must be >= 0")
        bad = ~((yp >= lo) & (yp <= hi))
        if np.any(bad & np.isfinite(yp)):
            problems.append(
                f"yesterday_price {float(yp[bad].flat[0]):g} $/L is outside this model's price "
                f"grid [{m.price_min:g}, {m.price_max:g}] $/L (accepted {lo:g}..{hi:g})"
            )
        if np.any((day < 0) | (day >= m.horizon)):
            problems.append(f"day must be in [0, {m.horizon - 1}] (the planning horizon)")
        return problems

    def predict(self, day, yesterday_price, unit_cost, demand_level=None) -> Prediction:
        """Price many inputs in one forward pass (arrays of equal length, already checked).

        `demand_level` is observation column 3 per input (a station's choke price on the
        grid scale, `rl_core.envs.observation.demand_level_feature`); None prices every
        input as the bundle's own market. Expected volume uses the bundle market's demand at
        each input's level.
        """
        m = self.market
        prices = m.prices
        day = np.asarray(day, dtype=np.float64).reshape(-1)
        yp = np.asarray(yesterday_price, dtype=np.float64).reshape(-1)
        uc = np.asarray(unit_cost, dtype=np.float64).reshape(-1)
        level = demand_level_feature(m) if demand_level is None else demand_level
        level = np.broadcast_to(np.asarray(level, dtype=np.float64).reshape(-1), yp.shape)
        obs = observe_prices(m, day, yp, uc, level)
        prev_index = np.rint(obs[:, PREV] * (m.n_prices - 1)).astype(np.int64)
        obs = obs[:, : len(self.bundle.features)]  # a pre-station-feature bundle reads 3
        with torch.no_grad():  # the greedy level inside the bundle market's daily move limit
            q = self.policy(torch.from_numpy(obs))
            action = allowed_argmax(q, torch.from_numpy(prev_index), m).numpy()
        price = prices[action]
        volume = _expected_volume(m, _base_demand(m, level), price, prices[prev_index])
        return Prediction(price, volume, reward("profit", price, uc, volume))


def _base_demand(market: Market, level: np.ndarray) -> np.ndarray:
    """Litres/day at price 0 for a demand-level feature: the inverse of demand_level_feature
    (the market's own base_demand exactly at its own level, free of round-off)."""
    choke = market.price_max + level * (market.price_max - market.price_min)
    base = np.maximum(choke * market.demand.price_slope, 0.0)
    own = np.isclose(level, demand_level_feature(market), rtol=0.0, atol=1e-12)
    return np.where(own, market.demand.base_demand, base)


def _expected_volume(market: Market, base: np.ndarray, price, prev_price) -> np.ndarray:
    """`DemandParams.demand` with one base_demand per input (a dataclass holds one float)."""
    d = market.demand
    litres = linear_demand(price, prev_price, base, d.price_slope, d.gain_coef, d.loss_coef)
    return litres.astype(np.float64)
