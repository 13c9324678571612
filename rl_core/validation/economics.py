"""Economic plausibility of the whole day: what a per-row band cannot see.

    price_above_cost  more than `max_below_cost_share` of the rows price below unit_cost
    volume_scale      the day's median volume is `volume_scale_max_ratio` x off the trailing
                      window's (median of its daily medians), or, without a window, outside
                      `volume_median_min`..`volume_median_max` litres

Each row can sit inside its band while the day as a whole is impossible: a cost in cents
next to prices in dollars, swapped columns, volumes in kilolitres. A failure names the
likely cause, worked out from the day's medians. Everything is computed on whole columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rl_core.validation.config import ValidationConfig
from rl_core.validation.reference import TrailingWindow, median_volume, numeric_values
from rl_core.validation.result import FAILED, PASSED, SKIPPED, CheckResult

EXAMPLE_COLUMNS = ("station_id", "price", "unit_cost")


def economic_checks(
    frame: pd.DataFrame, window: TrailingWindow | None, config: ValidationConfig
) -> list[CheckResult]:
    """One check per economic rule whose columns the day carries (like the drift checks)."""
    out = []
    if "unit_cost" in frame.columns and "price" in frame.columns:
        out.append(below_cost_check(frame, config))
    if "volume" in frame.columns:
        out.append(volume_scale_check(frame, window, config))
    return out


# ---- price vs unit cost -------------------------------------------------------------------


def below_cost_check(frame: pd.DataFrame, config: ValidationConfig) -> CheckResult:
    limit = config.max_below_cost_share
    check = CheckResult(
        name="price_above_cost",
        description=f"at most {limit:.0%} of the rows price below unit_cost",
        kind="economics",
        status=SKIPPED,
        column="price",
    )
    price, cost = _numeric(frame, "price"), _numeric(frame, "unit_cost")
    if price is None or cost is None:
        check.message = "price or unit_cost is not numeric"
        return check
    both = np.isfinite(price) & np.isfinite(cost)
    if not both.any():
        check.message = "no row has both a price and a unit_cost"
        return check
    below = both & (price < cost)
    compared, n_below = int(both.sum()), int(below.sum())
    share = n_below / compared
    price_med, cost_med = float(np.median(price[both])), float(np.median(cost[both]))
    check.observed = round(share, 4)
    check.details = {
        "rows_compared": compared,
        "rows_below_cost": n_below,
        "share_below_cost": round(share, 4),
        "median_price": price_med,
        "median_unit_cost": cost_med,
    }
    counted = f"{n_below:,} of {compared:,} rows ({share:.0%}) below cost"
    medians = f"median price {price_med:.4g} vs unit_cost {cost_med:.4g}"
    if share <= limit:
        check.status = PASSED
        check.message = f"{counted}; {medians}"
        return check
    short, long = below_cost_cause(price_med, cost_med)
    check.status = FAILED
    check.message = f"{counted}, over the {limit:.0%} limit; {medians}: {long}"
    check.brief = f"{counted}: {short}"
    check.examples = _examples(frame, below, config.example_rows)
    return check


def below_cost_cause(price_median: float, cost_median: float) -> tuple[str, str]:
    """The likely reason most of a day prices below cost, from the two medians: a short
    form for the headline and a long one for the report."""
    ratio = cost_median / price_median if price_median > 0 else float("inf")
    if ratio >= 20:
        return "cost in cents, prices in dollars?", (
            f"unit_cost is ~{ratio:,.0f}x price: likely prices in dollars and cost in cents "
            "(deliver both in $/L)"
        )
    if ratio >= 2:
        return "cost or price in another unit?", (
            f"unit_cost is ~{ratio:.1f}x price: likely cost in another unit (per gallon, per "
            "kL) or prices in another unit (deliver both in $/L)"
        )
    return "price and unit_cost swapped?", (
        "price and unit_cost are of the same scale: likely the two columns are swapped, "
        "or prices and cost come from different fuels or days"
    )


# ---- volume scale -------------------------------------------------------------------------


def volume_scale_check(
    frame: pd.DataFrame, window: TrailingWindow | None, config: ValidationConfig
) -> CheckResult:
    check = CheckResult(
        name="volume_scale",
        description=(
            f"the day's median volume within {config.volume_scale_max_ratio:g}x of the "
            f"trailing window's (without one: {config.volume_median_min:,.0f}.."
            f"{config.volume_median_max:,.0f} L)"
        ),
        kind="economics",
        status=SKIPPED,
        column="volume",
    )
    if numeric_values(frame, "volume") is None:
        check.message = "volume is not numeric"
        return check
    today = median_volume(frame)
    if today is None:
        check.message = "no volumes"
        return check
    medians = window.volume_medians() if window is not None else []
    reference = float(np.median(medians)) if medians else 0.0
    check.observed = today
    if reference > 0:  # a window of all-zero days is no scale to compare with
        return _relative(check, today, reference, len(medians), config)
    return _absolute(check, today, config)


def _relative(
    check: CheckResult, today: float, reference: float, days: int, config: ValidationConfig
) -> CheckResult:
    ratio = today / reference
    limit = config.volume_scale_max_ratio
    check.details = {"median": today, "reference_median": reference, "ratio": round(ratio, 6)}
    check.details["reference_days"] = days
    text = f"median {today:,.4g} L vs {reference:,.4g} L over {days} day(s) ({ratio:.3g}x)"
    if 1 / limit <= ratio <= limit:
        check.status = PASSED
        check.message = text
        return check
    short, long = volume_cause(ratio)
    check.status = FAILED
    check.message = f"{text}, limit {limit:g}x either way: {long}"
    check.brief = f"median {today:,.4g} L is {ratio:.3g}x the window's {reference:,.4g} L: {short}"
    return check


def _absolute(check: CheckResult, today: float, config: ValidationConfig) -> CheckResult:
    lo, hi = config.volume_median_min, config.volume_median_max
    check.details = {"median": today, "basis": "absolute", "band": [lo, hi]}
    text = f"median {today:,.4g} L (no trailing volumes; band {lo:,.0f}..{hi:,.0f} L)"
    if lo <= today <= hi:
        check.status = PASSED
        check.message = text
        return check
    short, long = volume_cause(today / lo if today < lo else today / hi, relative=False)
    check.status = FAILED
    check.message = f"{text}: {long}"
    check.brief = f"median {today:,.4g} L outside {lo:,.0f}..{hi:,.0f} L: {short}"
    return check


def volume_cause(ratio: float, relative: bool = True) -> tuple[str, str]:
    """The likely reason for a day's volumes being `ratio` x the norm (`relative`) or x the
    nearest bound of the absolute band: a short form and a long one."""
    if ratio == 0:
        return "missing volumes as 0?", "most volumes are 0: likely missing volumes sent as 0"
    if ratio < 1:
        scale = "~1/1,000 of the norm: " if relative and 1 / 3000 <= ratio <= 1 / 300 else ""
        return "kilolitres, not litres?", (
            f"{scale}likely volumes in kilolitres (kL) or thousands of litres instead of litres"
        )
    if relative and 300 <= ratio <= 3000:
        return "millilitres, not litres?", (
            "~1,000x the norm: likely millilitres, or kilolitres multiplied by 1,000 twice"
        )
    return "another unit or revenue, not litres?", (
        "likely a unit error (millilitres, centilitres) or a column that is not litres "
        "(revenue in $ or cents, a cumulative pump counter)"
    )


# ---- helpers ------------------------------------------------------------------------------


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """The column as a float64 array in row order (NaN for nulls); None when it is absent or
    not numeric."""
    if column not in frame.columns:
        return None
    col = frame[column]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _examples(frame: pd.DataFrame, mask: np.ndarray, limit: int) -> list[dict]:
    """The first `limit` rows where `mask` holds (1-based row numbers, like the GX checks)."""
    columns = [c for c in EXAMPLE_COLUMNS if c in frame.columns]
    positions = np.flatnonzero(mask)[:limit]
    records = frame.iloc[positions][columns].to_dict("records")
    return [{"row": int(i) + 1, **row} for i, row in zip(positions, records, strict=True)]
