"""The observation spec: what the agent sees on the morning of day t, one place for all.

Layout (float32, `OBS_DIM` columns), every price-like feature on the market's price-grid
scale, (x - price_min) / (price_max - price_min): 0 at the floor, 1 at the ceiling, so the
network gets well spread inputs whatever the currency or units:

    0  day_fraction   t / horizon                                            in [0, 1)
    1  prev_price     yesterday's price level / (n_prices - 1)                in [0, 1]
    2  unit_cost      today's unit cost on the grid scale (may leave [0, 1])
    3  demand_level   the station's choke price base_demand / price_slope (the price at
                      which its demand without a price move vanishes) above the grid's
                      ceiling, in grid widths: (choke - price_max) / (price_max - price_min).
                      Stations differ by demand level (calibration's intercept per
                      station); it says how much a station can charge. One number per
                      market, constant over the episode. Measured from the ceiling so it is
                      0 for the built-in market and the presets built on it (demand vanishes
                      at 2.40 $/L, the ceiling): with `QNetwork`'s zero-initialised station
                      inputs their training is exactly what it was before this column.
Column 1 must stay yesterday's level: `QNetwork` one-hot-encodes it. The agent never sees
tomorrow's cost. Producers (the gymnasium env, the vector env, serving, export) build
observations with the functions here so the layout cannot drift between them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

# the market knows its own demand level (calibration on the MWAA worker computes it without
# torch); re-exported here as column 3's definition
from rl_core.market.model import Market, choke_price, demand_level_feature  # noqa: F401

if TYPE_CHECKING:
    import torch

FEATURES = ("day_fraction", "prev_price", "unit_cost", "demand_level")
OBS_DIM = len(FEATURES)
MARKET_FEATURES = 3  # columns every market has; the rest describe the station
DAY, PREV, COST, LEVEL = range(OBS_DIM)


def grid_scale(market: Market, price):
    """A price ($/L, scalar or array) on the market's grid scale."""
    return (np.asarray(price, dtype=np.float64) - market.price_min) / (
        market.price_max - market.price_min
    )


def cost_feature(market: Market, cost):
    """Today's cost on the price grid's scale: well spread for the network whatever the units."""
    return (cost - market.price_min) / (market.price_max - market.price_min)


def encode_numpy(day_fraction, prev_fraction, cost, level) -> np.ndarray:
    """Stack already scaled features (scalars or equal-length arrays) into observations."""
    cols = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float32) for x in (day_fraction, prev_fraction, cost, level))
    )
    return np.stack(cols, axis=-1).astype(np.float32, copy=False)


def encode_torch(day_fraction, prev_fraction, cost, level) -> torch.Tensor:
    """The torch twin of `encode_numpy` (inputs: tensors or floats, broadcast to a batch)."""
    import torch  # here, not at import: the MWAA worker (no torch) reads this module's layout

    tensors = [x for x in (day_fraction, prev_fraction, cost, level) if torch.is_tensor(x)]
    like = tensors[0] if tensors else torch.zeros(())
    cols = torch.broadcast_tensors(
        *(
            torch.as_tensor(x, dtype=torch.float32, device=like.device)
            for x in (day_fraction, prev_fraction, cost, level)
        )
    )
    return torch.stack(cols, dim=-1)


def observe(market: Market, day: int, prev_index: int) -> np.ndarray:
    """The observation on the morning of `day` after charging level `prev_index` yesterday."""
    cost = market.costs[min(day, market.horizon - 1)]
    return encode_numpy(
        day / market.horizon,
        prev_index / (market.n_prices - 1),
        cost_feature(market, cost),
        demand_level_feature(market),
    )


def observe_prices(market: Market, day, yesterday_price, unit_cost, level) -> np.ndarray:
    """Observations from raw inputs ($/L), as a serving request carries them.

    `level` is column 3 (see `demand_level_feature`); yesterday's price snaps to the nearest
    level of the market's grid.
    """
    yp = np.asarray(yesterday_price, dtype=np.float64)
    prev = np.clip(np.rint(grid_scale(market, yp) * (market.n_prices - 1)), 0, market.n_prices - 1)
    return encode_numpy(
        np.asarray(day, dtype=np.float64) / market.horizon,
        prev / (market.n_prices - 1),
        cost_feature(market, np.asarray(unit_cost, dtype=np.float64)),
        level,
    )


def bounds(market: Market) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the observation Box for this market's cost path and demand level."""
    c = cost_feature(market, market.costs)
    level = demand_level_feature(market)
    low = np.array([0.0, 0.0, min(0.0, float(c.min())), min(0.0, level)], dtype=np.float32)
    high = np.array([1.0, 1.0, max(1.0, float(c.max())), max(1.0, level)], dtype=np.float32)
    return low, high
