"""The Sydney unleaded terminal gate (wholesale) price, shipped with the package.

Source: NSW FuelCheck TGP via github.com/edwinsteele/fuel-price-signal (NSW open data).
The series has business days only; weekends and holidays carry the last published price
forward, as a station's supply contract would.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

TGP_FILE = "nsw_tgp_sydney_wholesale_daily.csv"


@lru_cache(maxsize=1)
def sydney_wholesale() -> pd.Series:
    """Daily Sydney unleaded terminal gate price in $/L, indexed by calendar day."""
    with resources.files("rl_core.data.reference").joinpath(TGP_FILE).open() as f:
        raw = pd.read_csv(f, parse_dates=["date"])
    series = raw.set_index("date")["tgp_cents"].astype(float) / 100.0
    return series.asfreq("D").ffill().rename("unit_cost")
