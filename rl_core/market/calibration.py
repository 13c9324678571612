"""Calibrate the market of `model.py` from a window of daily pricing data.

OLS with a fixed effect (intercept) per station:

    volume = a_station - price_slope * p + gain_coef * max(p_prev - p, 0)
                       - loss_coef * max(p - p_prev, 0) [+ competitor_coef * competitor_price]

where p_prev is the same station's price the calendar day before (a station's first day,
and any day after a gap, has no p_prev and is dropped). The fixed effects are removed by
demeaning within station (Frisch-Waugh-Lovell), so thousands of stations cost no more than
one. Standard errors are heteroskedasticity-robust (HC1): the market's volume noise is
multiplicative, so its spread grows with demand.

When the data has a competitor price on every row it enters as a control: the market
model has no competitor, but leaving it out can hide the own-price effect (it does in the
real single-station file, whose volume follows the price *relative to* the competitors).
Its effect is folded into each station's intercept at the station's mean competitor price.

The yesterday-price terms are kept only when significant and of the model's sign; a term
set to 0 is dropped and the model refitted, so the market holds the restricted fit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from rl_core.data.schema import coerce_pricing_frame
from rl_core.errors import EmptyDataError, InvalidMarketError
from rl_core.market.model import DemandParams, Market

MOVE_TERMS = ("gain_coef", "loss_coef")
MIN_RESIDUAL_DOF = 10  # fewer spare rows than this and the standard errors mean nothing
NOISE_CAP = 0.5  # DemandParams rejects a relative noise above this
GRID_QUANTILES = (0.02, 0.98)
GRID_WIDEN = 0.05  # widen the observed price range by 5% of itself on each side
CI_LEVEL = 0.95


@dataclass(frozen=True)
class Coefficient:
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    t: float
    p: float

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class _Fit:
    names: tuple[str, ...]
    beta: np.ndarray
    cov: np.ndarray
    dof: int
    residual_sd: float
    r_squared: float
    r_squared_within: float
    intercepts: pd.Series  # per station, market terms only (competitor folded in)
    station_rows: pd.Series  # rows per station in the fit
    intercept_se: pd.Series  # per station, see `_intercept_se`

    def coefficient(self, name: str) -> Coefficient:
        i = self.names.index(name)
        est, se = float(self.beta[i]), float(math.sqrt(self.cov[i, i]))
        t = est / se if se > 0 else math.inf
        half = stats.t.ppf(0.5 + CI_LEVEL / 2, self.dof) * se
        p = float(2 * stats.t.sf(abs(t), self.dof))
        return Coefficient(est, se, est - half, est + half, t, p)


@dataclass(frozen=True)
class StationFit:
    """What calibration knows about one station (its own estimate, before any fallback).

    `intercept` is the station's demand level (litres/day at price 0, no move; the
    competitor effect folded in at the station's mean competitor price) and
    `intercept_se` its standard error (litres/day, see `_intercept_se`); NaN when the
    station has fewer than 2 usable rows. `StationNetwork` decides whether to trust it.
    """

    n_rows: int  # rows of this station in the fit (days with yesterday's price)
    intercept: float
    intercept_se: float
    unit_cost_offset: float  # mean of (its cost - that day's mean cost over stations), $/L
    last_price: float | None  # its price on the window's last day, None if absent that day

    def to_dict(self) -> dict:
        return {k: (None if v is None else _finite(float(v))) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Calibration:
    """A calibrated market and the evidence for it."""

    market: Market
    coefficients: dict[str, Coefficient]  # the full (unrestricted) fit
    r_squared: float  # of volume, station intercepts included
    r_squared_within: float  # of volume's day-to-day variation within stations
    residual_sd: float  # litres/day, restricted fit
    mean_volume: float
    n_rows: int  # rows used in the fit
    n_stations: int
    n_dropped: int  # rows without a previous-day price (first days, gaps, missing values)
    window_start: date
    window_end: date
    significance: float
    competitor_control: bool
    yesterday_effect: str  # one plain sentence
    station_intercepts: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # per-station evidence for station-aware markets (rl_core.market.network)
    station_fits: dict[str, StationFit] = field(default_factory=dict)
    # "volume": the OLS fit above; "price-only": levels inferred from margins under stated
    # assumptions (rl_core.market.price_only), its checks in `diagnostics`
    method: str = "volume"
    diagnostics: dict = field(default_factory=dict)

    def with_move_limit(self, max_daily_move: float | None) -> Calibration:
        """The same calibration, its market limited to `max_daily_move` $/L a day (the
        business rule the daily run trains and decides under, `Market.max_daily_move`)."""
        return dataclasses.replace(self, market=self.market.replace(max_daily_move=max_daily_move))

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "market": self.market.to_dict(),
            "coefficients": {k: c.to_dict() for k, c in self.coefficients.items()},
            "r_squared": _finite(self.r_squared),
            "r_squared_within": _finite(self.r_squared_within),
            "residual_sd": _finite(self.residual_sd),
            "mean_volume": self.mean_volume,
            "n_rows": self.n_rows,
            "n_stations": self.n_stations,
            "n_dropped": self.n_dropped,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "significance": _finite(self.significance),
            "competitor_control": self.competitor_control,
            "se_type": "HC1",
            "yesterday_effect": self.yesterday_effect,
            "station_intercepts": dict(self.station_intercepts),
            "notes": list(self.notes),
            "station_fits": {k: f.to_dict() for k, f in self.station_fits.items()},
            "diagnostics": {k: _finite(v) for k, v in self.diagnostics.items()},
        }

    def summary(self) -> str:
        if self.method != "volume":
            return self._price_only_summary()
        lines = [
            f"Calibration on {self.window_start}..{self.window_end}: {self.n_rows:,} rows, "
            f"{self.n_stations} station(s) ({self.n_dropped:,} row(s) without yesterday's "
            "price dropped)",
            f"  {'coefficient':<16}{'estimate':>12}  {'95% CI':<25}{'p':>8}",
        ]
        for name, c in self.coefficients.items():
            ci = f"[{c.ci_low:,.0f}, {c.ci_high:,.0f}]"
            lines.append(f"  {name:<16}{c.estimate:>12,.0f}  {ci:<25}{_pval(c.p):>8}")
        lines += [
            f"  R² {self.r_squared:.3f} (within stations {self.r_squared_within:.3f}); "
            f"residual sd {self.residual_sd:,.0f} L = {self.residual_sd / self.mean_volume:.1%}"
            " of mean volume",
            f"  {self.yesterday_effect}",
            *self._market_lines(),
        ]
        return "\n".join(lines)

    def _market_lines(self) -> list[str]:
        """The calibrated market and the notes: the end of either summary."""
        m, d = self.market, self.market.demand
        move = "" if m.max_daily_move is None else f", moves <= {m.max_daily_move:.2f} $/L a day"
        return [
            f"Market: base_demand {d.base_demand:,.0f} L, price_slope {d.price_slope:,.0f}, "
            f"gain_coef {d.gain_coef:,.0f}, loss_coef {d.loss_coef:,.0f}, "
            f"noise_std {d.noise_std:.3f}",
            f"  prices {m.price_min:.3f}..{m.price_max:.3f} $/L in {m.n_prices} steps, "
            f"unit cost {m.unit_cost:.3f}, yesterday's price {m.initial_price:.3f}, "
            f"horizon {m.horizon} days{move}",
            *(f"  note: {n}" for n in self.notes),
        ]

    def _price_only_summary(self) -> str:
        g = self.diagnostics
        q1, q2, q3 = g["margin_quartiles"]
        return "\n".join(
            [
                f"Price-only calibration on {self.window_start}..{self.window_end}: "
                f"{self.n_rows:,} rows, {self.n_stations} station(s) ({self.n_dropped:,} row(s) "
                "without a price and a unit cost dropped); no volumes: demand is ASSUMED",
                f"  margin over unit cost: median {q2:.3f} $/L (quartiles {q1:.3f}..{q3:.3f}), "
                f"its standard error per station {g['median_margin_se']:.3f} $/L (median; "
                f"lag-1 autocorrelation {g['median_autocorrelation']:.2f})",
                "  implied own-price elasticity of a typical station "
                f"{g['implied_elasticity']:.1f}",
                *self._market_lines(),
            ]
        )


def _finite(x):
    """A float for JSON: NaN/inf (a figure the method does not produce) become None."""
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _pval(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _p(p: float) -> str:
    return f"p{_pval(p)}" if p < 0.001 else f"p={_pval(p)}"


def _design(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows with yesterday's price, and the regressors signed so each coefficient is >= 0."""
    usable = df.dropna(subset=["price", "volume"]).sort_values(["station_id", "date"])
    by_station = usable.groupby("station_id", sort=False)
    prev_price = by_station["price"].shift(1)
    consecutive = by_station["date"].shift(1) == usable["date"] - pd.Timedelta(days=1)
    rows = usable.assign(prev_price=prev_price)[consecutive].reset_index(drop=True)
    move = rows["prev_price"] - rows["price"]
    design = pd.DataFrame(
        {
            "station_id": rows["station_id"],
            "volume": rows["volume"],
            "price_slope": -rows["price"],
            "gain_coef": move.clip(lower=0),
            "loss_coef": -(-move).clip(lower=0),
        }
    )
    if "competitor_price" in rows and rows["competitor_price"].notna().all():
        design["competitor_coef"] = rows["competitor_price"]
    return design, len(df) - len(rows)


def _fit(design: pd.DataFrame, names: list[str]) -> _Fit:
    groups = design.groupby("station_id", sort=True)
    means = groups[["volume", *names]].transform("mean")
    y = design["volume"].to_numpy() - means["volume"].to_numpy()
    x = design[names].to_numpy() - means[names].to_numpy()
    n, k, g = len(y), len(names), groups.ngroups
    if np.linalg.matrix_rank(x) < k:
        raise InvalidMarketError(
            f"cannot separate the effects of {', '.join(names)}: within stations they move "
            "in lockstep (collinear), so the data cannot tell them apart"
        )
    dof = n - k - g
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    meat = (x * resid[:, None] ** 2).T @ x
    cov = xtx_inv @ meat @ xtx_inv * n / dof  # HC1
    ssr = float(resid @ resid)
    volume = design["volume"].to_numpy()
    sst = float(((volume - volume.mean()) ** 2).sum())
    market_terms = [i for i, name in enumerate(names) if name != "competitor_coef"]
    station_means = groups[["volume", *names]].mean()
    market_names = [names[i] for i in market_terms]
    intercepts = station_means["volume"] - station_means[market_names] @ (beta[market_terms])
    rows = groups.size()
    intercept_se = _intercept_se(
        rows,
        station_means[market_names],
        cov[np.ix_(market_terms, market_terms)],
        station_means["volume"],
        ssr / dof,
        float(volume.mean()),
    )
    return _Fit(
        names=tuple(names),
        beta=beta,
        cov=cov,
        dof=dof,
        residual_sd=math.sqrt(ssr / dof),
        r_squared=1 - ssr / sst if sst > 0 else 0.0,
        r_squared_within=1 - ssr / float(y @ y) if y @ y > 0 else 0.0,
        intercepts=intercepts,
        station_rows=rows,
        intercept_se=intercept_se,
    )


def _intercept_se(
    rows: pd.Series,
    x_means: pd.DataFrame,
    cov: np.ndarray,
    volume_means: pd.Series,
    residual_var: float,
    mean_volume: float,
) -> pd.Series:
    """Standard error of each station's intercept a_s = mean(y_s) - mean(x_s) @ beta.

    Var(a_s) = sigma_s^2 / n_s + mean(x_s)' Cov(beta) mean(x_s). The volume noise is
    multiplicative, so sigma_s is the pooled residual sd scaled by the station's mean volume
    (a station's own residual variance would be too noisy to use on a few rows). NaN for a
    station with fewer than 2 rows: its mean says nothing about its noise.
    """
    x = x_means.to_numpy()
    scale = (volume_means.to_numpy() / mean_volume) ** 2 if mean_volume > 0 else 1.0
    var = residual_var * scale / rows.to_numpy() + np.einsum("si,ij,sj->s", x, cov, x)
    se = np.sqrt(np.maximum(var, 0.0))
    return pd.Series(np.where(rows.to_numpy() >= 2, se, np.nan), index=rows.index)


def _station_fits(df: pd.DataFrame, fit: _Fit) -> dict[str, StationFit]:
    """Each station's own estimate, cost offset and last price (`StationFit`)."""
    costs = df.dropna(subset=["unit_cost"])
    offset = costs["unit_cost"] - costs.groupby("date")["unit_cost"].transform("mean")
    offsets = offset.groupby(costs["station_id"]).mean()
    last = df[df["date"] == df["date"].max()].dropna(subset=["price"])
    last_price = last.groupby("station_id")["price"].last()
    out = {}
    for station in sorted(set(fit.intercepts.index) | set(df["station_id"].unique())):
        out[str(station)] = StationFit(
            n_rows=int(fit.station_rows.get(station, 0)),
            intercept=float(fit.intercepts.get(station, np.nan)),
            intercept_se=float(fit.intercept_se.get(station, np.nan)),
            unit_cost_offset=round(float(offsets.get(station, 0.0)), 9),
            last_price=float(last_price[station]) if station in last_price.index else None,
        )
    return out


def _identifiable(design: pd.DataFrame, name: str) -> bool:
    within = design[name] - design.groupby("station_id")[name].transform("mean")
    return bool(np.abs(within).max() > 1e-9)


def _judge_moves(
    full: _Fit, names: list[str], significance: float, notes: list[str]
) -> tuple[list[str], str]:
    """Which yesterday-price terms to keep, and the sentence that says so."""
    kept, reasons, clipped = [], [], False
    for term in MOVE_TERMS:
        if term not in names:
            move = "fell" if term == "gain_coef" else "rose"
            reasons.append(f"{term} not identifiable (price never {move} day to day)")
            continue
        c = full.coefficient(term)
        if c.p >= significance:
            reasons.append(f"{term} = {c.estimate:,.0f} not significant ({_p(c.p)})")
        elif c.estimate < 0:
            clipped = True
            reasons.append(f"{term} = {c.estimate:,.0f} has the wrong sign ({_p(c.p)})")
            notes.append(
                f"{term} fitted negative ({c.estimate:,.0f} L/day per $/L, {_p(c.p)}), "
                "which the market model does not allow; clipped to 0"
            )
        else:
            kept.append(term)
    dropped = "; ".join(reasons)
    if not kept:
        head = "no usable yesterday-price effect" if clipped else "no yesterday-price effect"
        return kept, f"{head} detected: {dropped}; gain_coef and loss_coef set to 0 in the market"
    effect = " and ".join(f"{t} ({_p(full.coefficient(t).p)})" for t in kept)
    if len(kept) == len(MOVE_TERMS):
        return kept, f"yesterday-price effect detected: {effect}, both kept"
    return kept, f"yesterday-price effect detected: {effect} kept; {dropped}, set to 0"


def price_grid(prices: pd.Series) -> tuple[float, float]:
    """The grid's floor and ceiling: the 2-98% quantiles of `prices`, widened 5% each side."""
    lo, hi = prices.quantile(list(GRID_QUANTILES))
    pad = GRID_WIDEN * (hi - lo)
    return max(math.floor((lo - pad) * 1000) / 1000, 0.0), math.ceil((hi + pad) * 1000) / 1000


def _market(
    df: pd.DataFrame, fit: _Fit, mean_volume: float, horizon: int, n_prices: int, notes: list[str]
) -> Market:
    """The market of a fit: grid from the observed prices, cost and start from the last day."""
    coef = dict(zip(fit.names, fit.beta.tolist(), strict=True))
    noise = fit.residual_sd / mean_volume if mean_volume > 0 else NOISE_CAP
    if noise > NOISE_CAP:
        notes.append(f"relative residual noise {noise:.2f} capped at {NOISE_CAP}")
        noise = NOISE_CAP
    demand = DemandParams(
        base_demand=float(fit.intercepts.mean()),
        price_slope=coef["price_slope"],
        gain_coef=coef.get("gain_coef", 0.0),
        loss_coef=coef.get("loss_coef", 0.0),
        noise_std=noise,
    )
    return market_from_prices(df, demand, horizon, n_prices, notes)


def market_from_prices(
    df: pd.DataFrame, demand: DemandParams, horizon: int, n_prices: int, notes: list[str]
) -> Market:
    """`demand` on the grid of the observed prices (`price_grid`), with the last day's mean
    cost and mean price (yesterday's price on day 0, clipped into the grid, noted if so)."""
    price_min, price_max = price_grid(df["price"].dropna())
    last = df[df["date"] == df["date"].max()]
    initial = float(last["price"].mean())
    if not price_min <= initial <= price_max:
        notes.append(f"last mean price {initial:.3f} lies outside the grid; clipped to it")
        initial = min(max(initial, price_min), price_max)
    return Market(
        demand=demand,
        price_min=price_min,
        price_max=price_max,
        n_prices=n_prices,
        horizon=horizon,
        unit_cost=float(last["unit_cost"].mean()),
        initial_price=initial,
    )


def calibrate(
    df: pd.DataFrame, *, horizon: int = 30, n_prices: int = 21, significance: float = 0.05
) -> Calibration:
    """Fit the market of `model.py` to `df` (pricing schema) and report the evidence.

    Raises EmptyDataError when the window is empty or too short to estimate anything, and
    InvalidMarketError when demand does not significantly fall as price rises.
    """
    if not 0 < significance < 1:
        raise ValueError(f"significance={significance} must be between 0 and 1")
    df = coerce_pricing_frame(df)
    if df.empty:
        raise EmptyDataError("no pricing rows to calibrate on (the window is empty)")
    window = f"{df['date'].min():%Y-%m-%d}..{df['date'].max():%Y-%m-%d}"
    design, n_dropped = _design(df)
    notes: list[str] = []

    names = [n for n in ("price_slope", *MOVE_TERMS, "competitor_coef") if n in design]
    n_stations = design["station_id"].nunique()
    need = len(names) + n_stations + MIN_RESIDUAL_DOF
    if len(design) < need:
        raise EmptyDataError(
            f"too few rows to calibrate in {window}: {len(design)} rows have yesterday's "
            f"price ({n_dropped} dropped as first days or after gaps); {n_stations} station(s)"
            f" and {len(names)} coefficients need at least {need}"
        )
    if not _identifiable(design, "price_slope"):
        raise InvalidMarketError(
            f"the data shows no downward-sloping demand: no station's price ever changes in "
            f"{window}, so the effect of price on volume cannot be estimated"
        )
    for name in names[1:]:
        if not _identifiable(design, name):
            names.remove(name)
            if name == "competitor_coef":
                notes.append("competitor price never changes within a station; not used")

    full = _fit(design, names)
    slope = full.coefficient("price_slope")
    if slope.estimate <= 0 or slope.p >= significance:
        trend = "rises" if slope.estimate <= 0 else "does not significantly fall"
        raise InvalidMarketError(
            f"the data shows no downward-sloping demand in {window}: volume {trend} as price "
            f"rises (price_slope = {slope.estimate:,.0f} L/day per $/L, 95% CI "
            f"[{slope.ci_low:,.0f}, {slope.ci_high:,.0f}], {_p(slope.p)}); a market "
            "calibrated on it would make the optimal price unbounded. Check the units and "
            "the window, use a longer window with more price variation, or add the "
            "competitor_price column if volume follows the price relative to rivals"
        )

    kept, effect = _judge_moves(full, names, significance, notes)
    restricted_names = [n for n in names if n not in MOVE_TERMS or n in kept]
    fit = full if restricted_names == names else _fit(design, restricted_names)
    if fit is not full:
        notes.append("refitted without the yesterday-price term(s) set to 0")
    if "competitor_coef" in fit.names:
        notes.append(
            "competitor price used as a control; base_demand holds it at each station's window mean"
        )
    mean_volume = float(design["volume"].mean())
    market = _market(df, fit, mean_volume, horizon, n_prices, notes)
    return Calibration(
        market=market,
        coefficients={n: full.coefficient(n) for n in names},
        r_squared=full.r_squared,
        r_squared_within=full.r_squared_within,
        residual_sd=fit.residual_sd,
        mean_volume=mean_volume,
        n_rows=len(design),
        n_stations=n_stations,
        n_dropped=n_dropped,
        window_start=df["date"].min().date(),
        window_end=df["date"].max().date(),
        significance=significance,
        competitor_control="competitor_coef" in fit.names,
        yesterday_effect=effect,
        station_intercepts={str(k): float(v) for k, v in fit.intercepts.items()},
        notes=tuple(notes),
        station_fits=_station_fits(df, fit),
    )
