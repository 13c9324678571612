"""Calibrate a station network from prices and costs alone (no volumes), under stated assumptions.

Real public feeds (NSW FuelCheck) publish every station's daily price but no volume, so the
demand curve of `model.py` cannot be *estimated* from them. What the prices do reveal, under
one assumption, is each station's demand level relative to the others:

    ASSUMPTION  each station sets its price near its myopic profit optimum against the
                linear demand of `model.py`, q = a_s - b * p (one slope b for all stations,
                no yesterday-price effect).

The optimum of (p - c)(a_s - b p) is p* = (a_s / b + c) / 2, so a station's margin over
cost at the optimum is m_s = (a_s / b - c) / 2: a station that holds a wide margin faces
demand that reaches further up the price scale. Real retail prices follow the wholesale
cost almost one for one (the pass-through check below), so it is the margin, not the price
level, that persists from month to month; the choke prices are therefore anchored to the
window's last cost c (what the market prices against tomorrow): a_s / b = c + 2 m_s, with
m_s the station's mean margin over the window. The *scale* of demand (litres) is not in
the prices at all: it is the second assumption, `volume`, the litres a typical station
sells a day at its optimum. Since q = b m_s there, b = volume / (the typical margin).
Prices under the profit objective do not depend on `volume` (it scales profit, not where
the optimum lies); volumes and the demand objective's targets do.

What the data cannot identify, so the market holds assumed values (listed in
`Calibration.notes` and docs/data.md): the price slope's scale (`volume`), the
yesterday-price effect (gain_coef = loss_coef = 0), the volume noise (`noise_std`), and any
competitor effect (the competitor price is reported, not used).

Each station's level carries a standard error from its daily margins (autocorrelated: price
cycles; the effective number of days is n (1 - r) / (1 + r) with r the lag-1
autocorrelation), so `StationNetwork.from_calibration` applies the same fallbacks as to a
volume fit: `own` when tight, `shrunk` toward its cluster, `cluster`/`network` without an
own estimate. A station whose mean margin is at most `min_margin` (pricing at or below
cost) contradicts the assumption: it gets no own level (fallback), and is counted.

A check on the assumption is printed with the result: a myopic optimiser against linear
demand passes half of a cost change through to its price (dp*/dc = 1/2); the measured
pass-through of the daily mean cost to the daily mean price is reported beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rl_core.data.schema import coerce_pricing_frame
from rl_core.errors import EmptyDataError, InvalidMarketError
from rl_core.market.calibration import Calibration, StationFit, market_from_prices
from rl_core.market.model import DemandParams

ASSUMED_VOLUME = 8_000.0  # litres/day a typical station sells at its optimum (5-15 kL typical)
ASSUMED_NOISE = 0.05  # relative daily volume noise (the synthetic market's default)
MIN_MARGIN = 0.02  # $/L: a mean margin at or below this gets no own demand level
MODEL_PASS_THROUGH = 0.5  # dp*/dc of a myopic optimiser against linear demand
PASS_THROUGH_LAG_DAYS = 7  # changes over a week: retail follows wholesale with a lag
METHOD = "price-only"


def calibrate_price_only(
    df: pd.DataFrame,
    *,
    volume: float = ASSUMED_VOLUME,
    noise_std: float = ASSUMED_NOISE,
    min_margin: float = MIN_MARGIN,
    horizon: int = 30,
    n_prices: int = 21,
) -> Calibration:
    """A station network's market from `df` (pricing schema; `volume` may be empty).

    Needs `price` and `unit_cost` (e.g. the Sydney wholesale price joined at ingest).
    Raises EmptyDataError when no row has both, and InvalidMarketError when no station
    prices above its cost by more than `min_margin` on average.
    """
    if not (math.isfinite(volume) and volume > 0):
        raise ValueError(f"volume={volume} must be a positive number of litres a day")
    if "volume" not in df.columns:
        df = df.assign(volume=np.nan)
    df = coerce_pricing_frame(df)
    usable = df.dropna(subset=["price", "unit_cost"])
    usable = usable[usable["price"] > 0].sort_values(["station_id", "date"])
    if usable.empty:
        raise EmptyDataError(
            "no row has both a price and a unit cost: a price-only calibration infers demand "
            "from the margin over cost (ingest with --wholesale to join a wholesale cost)"
        )
    window = f"{df['date'].min():%Y-%m-%d}..{df['date'].max():%Y-%m-%d}"
    stations = _station_margins(usable)
    identified = (stations["n"] >= 2) & (stations["margin"] > min_margin)
    if not identified.any():
        raise InvalidMarketError(
            f"no station prices above its cost by more than {min_margin:.3f} $/L on average in "
            f"{window} (median margin {stations['margin'].median():+.3f} $/L): demand cannot "
            "be inferred from prices that do not cover cost. Check that unit_cost is the "
            "same unit as price ($/L) and is the wholesale cost of this fuel"
        )
    typical_margin = float(stations.loc[identified, "margin"].median())
    slope = volume / typical_margin
    cost_now = float(usable.loc[usable["date"] == usable["date"].max(), "unit_cost"].mean())
    choke = cost_now + 2 * stations["margin"]
    intercepts = (slope * choke).where(identified)
    intercept_se = (2 * slope * stations["margin_se"]).where(identified)

    notes = [
        "ASSUMED: each station prices near its myopic profit optimum against linear demand "
        f"(one slope for all), so its choke price is the last cost {cost_now:.3f} $/L plus "
        "twice its mean margin",
        f"ASSUMED: a typical station sells {volume:,.0f} L/day at its optimum "
        f"(price_slope = {volume:,.0f} / its margin {typical_margin:.3f} $/L = {slope:,.0f})",
        "ASSUMED: no yesterday-price effect (gain_coef = loss_coef = 0) and volume noise "
        f"{noise_std:.0%}: without volumes neither can be estimated",
    ]
    unidentified = int((~identified).sum())
    if unidentified:
        notes.append(
            f"{unidentified} station(s) priced at or below cost + {min_margin:.3f} $/L on "
            "average (or have one day): no own demand level, they take the network's"
        )
    diagnostics = _diagnostics(usable, stations, identified, typical_margin, cost_now)
    notes.append(
        f"check: the model passes {MODEL_PASS_THROUGH:.1f} of a cost change to the price; "
        f"the data pass {diagnostics['pass_through_levels']:.2f} (levels) and "
        f"{diagnostics['pass_through_changes']:.2f} ({PASS_THROUGH_LAG_DAYS}-day changes)"
    )
    demand = DemandParams(
        base_demand=float(intercepts.mean()),
        price_slope=slope,
        gain_coef=0.0,
        loss_coef=0.0,
        noise_std=noise_std,
    )
    market = market_from_prices(usable, demand, horizon, n_prices, notes)
    fits = _station_fits(usable, stations, intercepts, intercept_se)
    return Calibration(
        market=market,
        coefficients={},
        r_squared=math.nan,
        r_squared_within=math.nan,
        residual_sd=math.nan,
        mean_volume=volume,
        n_rows=len(usable),
        n_stations=len(stations),
        n_dropped=len(df) - len(usable),
        window_start=df["date"].min().date(),
        window_end=df["date"].max().date(),
        significance=math.nan,
        competitor_control=False,
        yesterday_effect="not identifiable without volumes: gain_coef and loss_coef set to 0",
        station_intercepts={str(k): float(v) for k, v in intercepts.dropna().items()},
        notes=tuple(notes),
        station_fits=fits,
        method=METHOD,
        diagnostics=diagnostics,
    )


def _station_margins(rows: pd.DataFrame) -> pd.DataFrame:
    """Per station: days, mean price, cost and margin, and the margin's standard error."""
    margin = rows["price"] - rows["unit_cost"]
    frame = rows.assign(margin=margin)
    grouped = frame.groupby("station_id", sort=True)
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "price": grouped["price"].mean(),
            "cost": grouped["unit_cost"].mean(),
            "margin": grouped["margin"].mean(),
            "margin_sd": grouped["margin"].std(ddof=1),
        }
    )
    out["autocorr"] = _lag1_autocorrelation(frame)
    r = out["autocorr"].fillna(0.0).clip(lower=0.0, upper=0.99)
    n_eff = (out["n"] * (1 - r) / (1 + r)).clip(lower=1.0)
    out["n_eff"] = n_eff
    out["margin_se"] = out["margin_sd"] / np.sqrt(n_eff)
    return out


def _lag1_autocorrelation(frame: pd.DataFrame) -> pd.Series:
    """Each station's lag-1 autocorrelation of its margin over consecutive days."""
    by = frame.groupby("station_id", sort=True)
    previous = by["margin"].shift(1)
    consecutive = by["date"].shift(1) == frame["date"] - pd.Timedelta(days=1)
    centred = frame["margin"] - by["margin"].transform("mean")
    prev_centred = previous - by["margin"].transform("mean")
    cov = (centred * prev_centred).where(consecutive).groupby(frame["station_id"]).mean()
    var = (centred**2).groupby(frame["station_id"]).mean()
    return (cov / var.where(var > 0)).reindex(var.index)


def _diagnostics(
    rows: pd.DataFrame,
    stations: pd.DataFrame,
    identified: pd.Series,
    typical_margin: float,
    cost_now: float,
) -> dict:
    """How well the data fit the assumption, and how precise the station levels are."""
    daily = rows.groupby("date")[["price", "unit_cost"]].mean().asfreq("D")
    levels = _slope(daily["unit_cost"], daily["price"])
    lagged = daily.diff(PASS_THROUGH_LAG_DAYS)
    changes = _slope(lagged["unit_cost"], lagged["price"])
    return {
        "method": METHOD,
        "typical_margin": typical_margin,
        "margin_quartiles": [float(x) for x in stations["margin"].quantile([0.25, 0.5, 0.75])],
        "stations_without_own_level": int((~identified).sum()),
        "median_margin_se": float(stations.loc[identified, "margin_se"].median()),
        "median_autocorrelation": float(stations["autocorr"].median()),
        # -p/q dq/dp = -b p / q at the typical station's optimum today, q = b m
        "implied_elasticity": -(cost_now + typical_margin) / typical_margin,
        "pass_through_model": MODEL_PASS_THROUGH,
        "pass_through_levels": levels,
        "pass_through_changes": changes,
    }


def _slope(x: pd.Series, y: pd.Series) -> float:
    """OLS slope of y on x over the days where both are known (NaN with < 3 such days)."""
    both = pd.concat([x, y], axis=1).dropna()
    if len(both) < 3 or both.iloc[:, 0].var() <= 0:
        return math.nan
    return float(np.polyfit(both.iloc[:, 0], both.iloc[:, 1], 1)[0])


def _station_fits(
    rows: pd.DataFrame, stations: pd.DataFrame, intercepts: pd.Series, se: pd.Series
) -> dict[str, StationFit]:
    offset = rows["unit_cost"] - rows.groupby("date")["unit_cost"].transform("mean")
    offsets = offset.groupby(rows["station_id"]).mean()
    last = rows[rows["date"] == rows["date"].max()]
    last_price = last.groupby("station_id")["price"].last()
    return {
        str(sid): StationFit(
            n_rows=int(stations.at[sid, "n"]),
            intercept=float(intercepts.get(sid, np.nan)),
            intercept_se=float(se.get(sid, np.nan)),
            unit_cost_offset=round(float(offsets.get(sid, 0.0)), 9),
            last_price=float(last_price[sid]) if sid in last_price.index else None,
        )
        for sid in stations.index
    }
