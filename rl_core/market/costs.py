"""Unit-cost paths: the real Sydney wholesale (terminal gate) price as daily cost windows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from rl_core.data.wholesale import sydney_wholesale
from rl_core.market.model import Market


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
