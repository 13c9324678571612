"""Seeded synthetic pricing history drawn from a known `Market`, so calibration can be checked.

Every station shares the market's price slope and yesterday-price coefficients but has its
own demand intercept, `base_demand * station_factor`. Its price follows a retail fuel price
cycle (an Edgeworth cycle, as in Australian cities): a sharp restoration jump, then small
daily undercuts down to a trough, plus occasional one-day discounts. Prices therefore move
both up and down, by varying amounts, which is what makes the yesterday-price effect (and
its asymmetry) identifiable. Cost changes pass straight through to the price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from rl_core.data.schema import coerce_pricing_frame
from rl_core.data.store import Root, write_day
from rl_core.market.model import Market
from rl_core.market.network import StationNetwork

# Station intercepts vary by +-10% around base_demand. Wider (e.g. 0.7..1.3) does not fit
# the default market: base 24,000 L and slope 10,000 L per $/L sell nothing above 2.40 $/L
# at factor 1, and nothing above 1.68 $/L (barely over the 1.60 cost) at factor 0.7.
FACTOR_RANGE = (0.9, 1.1)

# The price cycle. Sizes are fractions of the grid width (default grid: 1.00 $/L wide).
RESTORE_PROB = 0.7  # chance a station at its trough restores its margin today
STEP = (0.01, 0.04)  # size of a day's undercut (or followed rise)
FOLLOW_RISE_PROB = 0.15
DISCOUNT_PROB = 0.12  # one-day discounts
DISCOUNT = (0.05, 0.12)

# A heterogeneous network (issue 12): demand levels +-15% (choke price 2.04..2.76 $/L on the
# default market, static optimum 1.82..2.18, inside the default 1.40..2.40 grid even with
# the cost offsets) and unit costs up to 6 c/L apart.
NETWORK_FACTOR_RANGE = (0.85, 1.15)
NETWORK_COST_OFFSET_RANGE = (-0.03, 0.03)

# Independent random streams, so e.g. the station factors do not depend on `days`.
_FACTORS, _PRICES, _VOLUME, _COMPETITOR, _NETWORK = range(5)


def station_ids(n_stations: int) -> list[str]:
    return [f"S{i:03d}" for i in range(n_stations)]


def station_factors(n_stations: int, seed: int = 0) -> dict[str, float]:
    """Each station's demand intercept as a multiple of `base_demand` (what generate uses)."""
    rng = np.random.default_rng([seed, _FACTORS])
    factors = rng.uniform(*FACTOR_RANGE, size=n_stations)
    return dict(zip(station_ids(n_stations), factors.tolist(), strict=True))


def _cost_series(market: Market, days: int, cost_path: Sequence[float] | None) -> np.ndarray:
    if cost_path is None:
        return np.full(days, market.unit_cost)
    costs = np.asarray(cost_path, dtype=np.float64)
    if costs.shape != (days,) or not np.all(np.isfinite(costs)) or np.any(costs < 0):
        raise ValueError(
            f"cost_path must hold {days} finite, non-negative daily costs ($/L), "
            f"got shape {costs.shape}"
        )
    return costs


def _price_paths(
    market: Market, n: int, costs: np.ndarray, seed: int, shift: np.ndarray | float = 0.0
) -> np.ndarray:
    """Prices (days x stations) of the cycling process, scaled to the market's price grid.

    `shift` ($/L per station) moves a station's whole cycle, e.g. up where it pays more.
    """
    rng = np.random.default_rng([seed, _PRICES])
    width = market.price_max - market.price_min
    # Wide enough that a calibration on this history keeps the optimal price cycle inside its
    # grid (default: troughs 1.55..1.70, peaks up to ~2.10); no higher, or the weaker
    # stations would sell nothing and the censored zero volumes would bias the fit.
    trough = market.price_min + width * rng.uniform(0.15, 0.30, n)
    amplitude = width * rng.uniform(0.25, 0.40, n)  # restoration jump above the trough
    margin = trough + amplitude * rng.uniform(0, 1, n)  # price before cost changes
    prices = np.empty((len(costs), n))
    for t in range(len(costs)):
        if t > 0:
            at_trough = margin <= trough
            restore = at_trough & (rng.uniform(size=n) < RESTORE_PROB)
            # Mostly undercut rivals; now and then follow a rival's small rise instead.
            step = width * rng.uniform(*STEP, n)
            step = np.where(rng.uniform(size=n) < FOLLOW_RISE_PROB, step, -step)
            margin = np.where(
                restore,
                trough + amplitude * rng.uniform(0.8, 1.2, n),
                np.clip(margin + step, trough, trough + amplitude),
            )
        on_sale = rng.uniform(size=n) < DISCOUNT_PROB
        discount = np.where(on_sale, width * rng.uniform(*DISCOUNT, n), 0.0)
        jitter = width * 0.002 * rng.standard_normal(n)
        prices[t] = margin + shift + (costs[t] - costs[0]) - discount + jitter
    # Quoted to a tenth of a cent, like a pump; inside the market's price band.
    return np.clip(np.round(prices, 3), market.price_min, market.price_max)


def generate_history(
    market: Market,
    n_stations: int = 20,
    days: int = 120,
    start: date = date(2026, 1, 1),
    seed: int = 0,
    cost_path: Sequence[float] | None = None,
    factors: Sequence[float] | None = None,
    cost_offsets: Sequence[float] | None = None,
) -> pd.DataFrame:
    """`days` x `n_stations` rows of pricing data drawn from `market`; same seed, same frame.

    unit_cost is `market.unit_cost` every day unless `cost_path` (one cost per day) is
    given; `market.unit_costs` (an episode's cost path) is not used. Volume is the market's
    demand at the station's intercept times (1 + noise_std * N(0, 1)), clipped at 0.
    competitor_price is the day's mean posted price plus noise.

    A heterogeneous network (`synthetic_network`) gives each station's intercept factor
    (`factors`, default `station_factors`) and its cost above the path (`cost_offsets`,
    $/L); a station then cycles around its own static optimum's shift: half its choke
    price's shift plus its cost offset (busier and costlier stations post higher prices).
    """
    if n_stations < 1 or days < 1:
        raise ValueError(f"need n_stations >= 1 and days >= 1, got {n_stations}, {days}")
    costs = _cost_series(market, days, cost_path)
    heterogeneous = factors is not None or cost_offsets is not None
    if factors is None:
        factors = list(station_factors(n_stations, seed).values())
    factors = np.asarray(factors, dtype=np.float64)
    offsets = np.zeros(n_stations) if cost_offsets is None else np.asarray(cost_offsets, float)
    if factors.shape != (n_stations,) or offsets.shape != (n_stations,):
        raise ValueError(f"factors and cost_offsets need one value per station ({n_stations})")
    choke = market.demand.base_demand / market.demand.price_slope
    shift = (factors - 1.0) * choke + offsets if heterogeneous else 0.0
    prices = _price_paths(market, n_stations, costs, seed, shift)
    width = market.price_max - market.price_min

    # Day 0's "yesterday" is its own price, so the first day carries no move effect.
    prev = np.vstack([prices[:1], prices[:-1]])
    base = market.demand.base_demand
    expected = np.column_stack(
        [
            market.demand.replace(base_demand=base * f).demand(prices[:, i], prev[:, i])
            for i, f in enumerate(factors)
        ]
    )
    noise = np.random.default_rng([seed, _VOLUME]).standard_normal(expected.shape)
    volume = np.maximum(expected * (1 + market.demand.noise_std * noise), 0.0)

    comp_noise = np.random.default_rng([seed, _COMPETITOR]).standard_normal(prices.shape)
    competitor = np.round(prices.mean(axis=1, keepdims=True) + 0.02 * width * comp_noise, 3)

    dates = pd.date_range(pd.Timestamp(start), periods=days, freq="D")
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates, n_stations),
            "station_id": np.tile(station_ids(n_stations), days),
            "price": prices.ravel(),
            "volume": volume.ravel(),
            "unit_cost": (costs[:, None] + offsets[None, :]).ravel(),
            "competitor_price": competitor.ravel(),
        }
    )
    return coerce_pricing_frame(frame)


@dataclass(frozen=True)
class SyntheticNetwork:
    """A known heterogeneous network: the shared market and each station's true features."""

    market: Market
    factors: dict[str, float]  # station's intercept as a multiple of market.demand.base_demand
    cost_offsets: dict[str, float]  # station's unit cost above the market's ($/L)
    seed: int = 0

    def truth(self) -> StationNetwork:
        """The true per-station network (what calibration should recover)."""
        base = self.market.demand.base_demand
        return StationNetwork.from_levels(
            self.market, {s: base * f for s, f in self.factors.items()}, self.cost_offsets
        )

    def history(
        self, days: int = 120, start: date = date(2026, 1, 1), cost_path=None
    ) -> pd.DataFrame:
        """Pricing history of every station, drawn from its own market (same seed)."""
        return generate_history(
            self.market,
            len(self.factors),
            days,
            start,
            self.seed,
            cost_path,
            factors=list(self.factors.values()),
            cost_offsets=list(self.cost_offsets.values()),
        )


def synthetic_network(
    n_stations: int,
    seed: int = 0,
    market: Market | None = None,
    factor_range: tuple[float, float] = NETWORK_FACTOR_RANGE,
    cost_offset_range: tuple[float, float] = NETWORK_COST_OFFSET_RANGE,
) -> SyntheticNetwork:
    """N stations with heterogeneous demand levels and costs, uniformly drawn (seeded)."""
    market = market or Market()
    rng = np.random.default_rng([seed, _NETWORK])
    ids = station_ids(n_stations)
    factors = rng.uniform(*factor_range, size=n_stations)
    offsets = np.round(rng.uniform(*cost_offset_range, size=n_stations), 3)
    return SyntheticNetwork(
        market,
        dict(zip(ids, factors.tolist(), strict=True)),
        dict(zip(ids, offsets.tolist(), strict=True)),
        seed,
    )


def write_history(
    root: Root,
    market: Market,
    n_stations: int = 20,
    days: int = 120,
    start: date = date(2026, 1, 1),
    seed: int = 0,
    cost_path: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Generate a history and write it to the store at `root`, one file per day."""
    frame = generate_history(market, n_stations, days, start, seed, cost_path)
    for day, rows in frame.groupby("date", sort=True):
        write_day(root, day.date(), rows)
    return frame
