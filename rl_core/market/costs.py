"""Unit-cost paths: the real Sydney wholesale (terminal gate) price as daily cost windows.

The series (NSW FuelCheck TGP via github.com/edwinsteele/fuel-price-signal, NSW open data)
ships with the package; it has business days only, so weekends and holidays carry the
last published price forward, as a station's supply contract would.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from rl_core.market.model import Market

TGP_FILE = "nsw_tgp_sydney_wholesale_daily.csv"


@lru_cache(maxsize=1)
def sydney_wholesale() -> pd.Series:
    """Daily Sydney unleaded terminal gate price in $/L, indexed by calendar day."""
    with resources.files("rl_core.market.data").joinpath(TGP_FILE).open() as f:
        raw = pd.read_csv(f, parse_dates=["date"])
    series = raw.set_index("date")["tgp_cents"].astype(float) / 100.0
    return series.asfreq("D").ffill().rename("unit_cost")


def cost_window(start: date | str, horizon: int) -> tuple[float, ...]:
    s = sydney_wholesale().loc[pd.Timestamp(start) :].iloc[:horizon]
    if len(s) < horizon:
        raise ValueError(f"the wholesale series has only {len(s)} days from {start}")
    return tuple(float(x) for x in s)


def sydney_markets(
    base: Market | None = None,
    first_start: date | str = "2025-08-01",
    last_start: date | str = "2026-07-22",
    n: int | None = None,
    seed: int = 0,
) -> list[Market]:
    """`base` with its unit cost replaced by real wholesale windows of `base.horizon` days.

    Every day in [first_start, last_start] starts a window; with `n`, a seeded sample of n.
    """
    base = base or Market()
    starts = pd.date_range(first_start, last_start, freq="D")
    if n is not None:
        rng = np.random.default_rng(seed)
        starts = starts[np.sort(rng.choice(len(starts), size=n, replace=False))]
    return [base.replace(unit_costs=cost_window(s, base.horizon)) for s in starts]
