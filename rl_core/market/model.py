"""The market a station prices into: demand as a function of today's and yesterday's price.

    demand(p, p_prev) = max(0, base_demand - price_slope * p
                               + gain_coef * max(p_prev - p, 0)
                               - loss_coef * max(p - p_prev, 0))

`gain_coef` is the extra demand per $/L that today's price is *below* yesterday's (drivers
notice a drop and fill up), `loss_coef` the demand lost per $/L of a rise. Realised volume
is `demand * (1 + noise_std * N(0, 1))`, clipped at 0: the noise has mean one (before the
clip, which `noise_std <= 0.3` makes negligible), so the expected reward of a price path is
the noise-free reward, and the exact optimum can be computed by dynamic programming.

A `Market` is those parameters plus what the agent controls and faces: a grid of discrete
prices (floor >= 0), a horizon of `horizon` days, the price charged the day before the
episode starts, and a per-day unit cost (constant, or a real wholesale series).

`max_daily_move` (None: unconstrained) is the business rule that a station's price moves at
most that many $/L from yesterday's: it is part of the dynamics, not only a check after the
fact. A price outside [yesterday - m, yesterday + m] is clipped to the nearest allowed grid
level (`clip_levels`) and that is the price charged, on day 0 too (yesterday's price is
the initial price). The environments, the exact optimum and policy evaluation all apply it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rl_core.errors import InvalidMarketError, UnknownAgentError

OBJECTIVES = ("demand", "profit")
# The daily move limit ($/L) of the pipeline: the markets it trains and decides on obey it
# and the registry's guardrail checks it (one source of truth for both).
MAX_DAILY_MOVE = 0.30
MOVE_TOLERANCE = 1e-9  # $/L: a move of exactly m on a float grid (0.30000000000000004) is allowed


def linear_demand(price, prev_price, base_demand, price_slope, gain_coef, loss_coef):
    """Expected litres, the formula above, elementwise over numpy arrays or floats.

    The one definition of the demand curve: `DemandParams.demand` (one market),
    `batch_litres` (a parameter per market) and serving (a base demand per input) call it.
    """
    move = np.asarray(prev_price) - np.asarray(price)
    d = (
        base_demand
        - price_slope * np.asarray(price)
        + gain_coef * np.maximum(move, 0.0)
        - loss_coef * np.maximum(-move, 0.0)
    )
    return np.maximum(d, 0.0)


@dataclass(frozen=True)
class DemandParams:
    """Linear demand with an asymmetric reference-price (yesterday's price) effect."""

    base_demand: float = 24_000.0  # litres/day intercept (demand at price 0, no move)
    price_slope: float = 10_000.0  # litres/day lost per $1/L of today's price
    gain_coef: float = 10_000.0  # litres/day gained per $1/L that today is below yesterday
    loss_coef: float = 2_000.0  # litres/day lost per $1/L that today is above yesterday
    noise_std: float = 0.05  # relative (multiplicative) daily volume noise

    def __post_init__(self) -> None:
        problems = []
        for name in ("base_demand", "price_slope", "gain_coef", "loss_coef", "noise_std"):
            value = getattr(self, name)
            if not math.isfinite(value):
                problems.append(f"{name}={value} is not a finite number")
            elif value < 0:
                problems.append(f"{name}={value} is negative")
        if not problems and self.base_demand <= 0:
            problems.append("base_demand must be > 0 (no one buys fuel at any price)")
        if not problems and self.price_slope <= 0:
            problems.append(
                "price_slope must be > 0 (demand has to fall as price rises, else the "
                "optimal price is unbounded)"
            )
        if not problems and self.noise_std > 0.5:
            problems.append(f"noise_std={self.noise_std} > 0.5 is not a plausible volume noise")
        if problems:
            raise InvalidMarketError("invalid demand parameters: " + "; ".join(problems))

    def demand(self, price, prev_price):
        """Expected litres sold (numpy arrays or floats; broadcasts)."""
        return linear_demand(
            price, prev_price, self.base_demand, self.price_slope, self.gain_coef, self.loss_coef
        )

    def replace(self, **changes) -> DemandParams:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Market:
    """Everything an environment needs: demand, price grid, horizon, cost path, start price.

    `unit_costs` holds one cost per day of the episode (length == horizon), in $/L.
    """

    demand: DemandParams = field(default_factory=DemandParams)
    price_min: float = 1.40  # the price floor ($/L); must be >= 0
    price_max: float = 2.40
    n_prices: int = 21
    horizon: int = 30
    unit_costs: tuple[float, ...] = ()  # empty -> `unit_cost` every day
    unit_cost: float = 1.60
    initial_price: float | None = None  # yesterday's price on day 0; None -> grid middle
    max_daily_move: float | None = None  # $/L a price may move from yesterday's; None: any

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.price_min) and self.price_min >= 0):
            problems.append(f"price_min={self.price_min} must be >= 0 (the price floor is zero)")
        if not (math.isfinite(self.price_max) and self.price_max > self.price_min):
            problems.append(f"price_max={self.price_max} must be > price_min={self.price_min}")
        if self.n_prices < 2:
            problems.append(f"n_prices={self.n_prices} must be >= 2 (an agent needs a choice)")
        if self.horizon < 1:
            problems.append(f"horizon={self.horizon} must be >= 1 day")
        if self.unit_costs and len(self.unit_costs) != self.horizon:
            problems.append(
                f"unit_costs has {len(self.unit_costs)} days but horizon is {self.horizon}"
            )
        costs = self.unit_costs or (self.unit_cost,)
        if not all(math.isfinite(c) and c >= 0 for c in costs):
            problems.append("unit costs must be finite and >= 0")
        if self.initial_price is not None and not (
            self.price_min - 1e-9 <= self.initial_price <= self.price_max + 1e-9
        ):
            problems.append(
                f"initial_price={self.initial_price} is outside the price grid "
                f"[{self.price_min}, {self.price_max}]"
            )
        if self.max_daily_move is not None and not (
            math.isfinite(self.max_daily_move) and self.max_daily_move > 0
        ):
            problems.append(
                f"max_daily_move={self.max_daily_move} must be a finite number > 0 (or None)"
            )
        if problems:
            raise InvalidMarketError("invalid market: " + "; ".join(problems))

    # ---- derived quantities -------------------------------------------------------------
    @property
    def prices(self) -> np.ndarray:
        """The discrete price levels, action i -> prices[i] ($/L)."""
        return np.linspace(self.price_min, self.price_max, self.n_prices)

    @property
    def costs(self) -> np.ndarray:
        """Unit cost for each day of the episode, shape (horizon,)."""
        if self.unit_costs:
            return np.asarray(self.unit_costs, dtype=np.float64)
        return np.full(self.horizon, self.unit_cost, dtype=np.float64)

    @property
    def initial_index(self) -> int:
        """Index of the grid price nearest to yesterday's price on day 0."""
        if self.initial_price is None:
            return self.n_prices // 2
        return int(np.abs(self.prices - self.initial_price).argmin())

    def move_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lowest, highest) allowed level index today per yesterday's level, shape (n,) each.

        Allowed levels form one contiguous run around yesterday's (the grid is sorted), so
        clipping an action into [lo, hi] charges the nearest allowed price.
        """
        n = self.n_prices
        if self.max_daily_move is None:
            return np.zeros(n, dtype=np.int64), np.full(n, n - 1, dtype=np.int64)
        p = self.prices
        reach = np.abs(p[None, :] - p[:, None]) <= self.max_daily_move + MOVE_TOLERANCE
        lo = reach.argmax(axis=1)
        hi = n - 1 - reach[:, ::-1].argmax(axis=1)
        return lo.astype(np.int64), hi.astype(np.int64)

    def allowed_moves(self) -> np.ndarray:
        """allowed[j, i]: level i may be charged the day after level j (n, n) bool."""
        lo, hi = self.move_bounds()
        i = np.arange(self.n_prices)[None, :]
        return (i >= lo[:, None]) & (i <= hi[:, None])

    def clip_levels(self, prev, action) -> np.ndarray:
        """The level charged for `action` after level `prev` (arrays broadcast)."""
        lo, hi = self.move_bounds()
        prev = np.asarray(prev)
        return np.clip(np.asarray(action), lo[prev], hi[prev])

    def charged_path(self, actions) -> np.ndarray:
        """The levels charged, day by day, for a path of asked levels (clipped in turn)."""
        actions = np.asarray(actions, dtype=np.int64)
        if self.max_daily_move is None:
            return actions
        out = np.empty_like(actions)
        j = self.initial_index
        for t, a in enumerate(actions):
            out[t] = j = int(self.clip_levels(j, a))
        return out

    def replace(self, **changes) -> Market:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["unit_costs"] = list(self.unit_costs)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Market:
        d = dict(d)
        d["demand"] = DemandParams(**d.get("demand", {}))
        d["unit_costs"] = tuple(d.get("unit_costs", ()))
        d.setdefault("max_daily_move", None)  # JSON written before the move limit
        return cls(**d)


def reward(objective: str, price, cost, litres):
    """A day's reward: `litres` sold for `demand`, `(price - cost) * litres` for `profit`.

    The one definition of both objectives: the environments, the exact optimum, policy
    evaluation and serving all call it. Elementwise over floats, numpy arrays or torch
    tensors (anything with `-` and `*`, broadcasting as they do).
    """
    check_objective(objective)
    if objective == "demand":
        return litres
    return (price - cost) * litres


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise UnknownAgentError(
            f"unknown agent {objective!r}: choose one of {', '.join(OBJECTIVES)}"
        )
    return objective


def shared_move_bounds(markets: Sequence[Market]) -> tuple[np.ndarray, np.ndarray] | None:
    """The pool's move limit as (lo, hi) per yesterday's level, for the agent's action mask:
    None when no market is limited, or when they differ (the env's clipping then applies)."""
    if all(m.max_daily_move is None for m in markets):
        return None
    bounds = [m.move_bounds() for m in markets]
    same = all(
        np.array_equal(b[0], bounds[0][0]) and np.array_equal(b[1], bounds[0][1]) for b in bounds
    )
    return bounds[0] if same else None


def batch_litres(markets: Sequence[Market]) -> np.ndarray:
    """Expected litres[s, j, i] in market s at level i today after level j yesterday (the
    markets share n_prices)."""
    prices = np.stack([m.prices for m in markets])  # (S, n)
    col = lambda name: np.array([getattr(m.demand, name) for m in markets])[:, None, None]  # noqa: E731
    return linear_demand(
        prices[:, None, :],
        prices[:, :, None],
        col("base_demand"),
        col("price_slope"),
        col("gain_coef"),
        col("loss_coef"),
    )


def batch_move_bounds(markets: Sequence[Market]) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi)[s, j]: the lowest and highest level market s allows after level j."""
    bounds = [m.move_bounds() for m in markets]
    return np.stack([b[0] for b in bounds]), np.stack([b[1] for b in bounds])


def choke_price(market: Market) -> float:
    """base_demand / price_slope: the price ($/L) at which demand without a move vanishes."""
    return market.demand.base_demand / market.demand.price_slope


def demand_level_feature(market: Market) -> float:
    """A station's demand level, observation column 3 (rl_core.envs.observation): its choke
    price above its grid's ceiling, in grid widths (0 for the built-in market)."""
    width = market.price_max - market.price_min
    return float((choke_price(market) - market.price_max) / width)
