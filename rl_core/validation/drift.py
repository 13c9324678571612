"""Distribution drift of today's values against the trailing window, per column.

Two figures per column: the population stability index (PSI, over `drift_bins` bins at the
reference's quantiles, each share floored at 1e-4) and the two-sample Kolmogorov-Smirnov
statistic (the largest gap between the two empirical CDFs, exact for the samples given).
Above the warn thresholds a column is a warning with its figures; above a hard limit (when
set) the day fails. See config.py for why the defaults are what they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rl_core.validation.config import ValidationConfig
from rl_core.validation.reference import TrailingWindow, numeric_values
from rl_core.validation.result import FAILED, PASSED, SKIPPED, WARNING, CheckResult

PSI_FLOOR = 1e-4


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic of two *sorted* samples (same value as scipy's ks_2samp)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def psi(reference: np.ndarray, today: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `today` against `reference` (both sorted)."""
    if len(reference) == 0 or len(today) == 0:
        return float("nan")
    inner = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
    edges = np.unique(inner)
    ref_share = np.bincount(
        np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1
    )
    new_share = np.bincount(np.searchsorted(edges, today, side="right"), minlength=len(edges) + 1)
    p = np.maximum(ref_share / len(reference), PSI_FLOOR)
    q = np.maximum(new_share / len(today), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def drift_checks(
    frame: pd.DataFrame, window: TrailingWindow | None, config: ValidationConfig
) -> list[CheckResult]:
    """One check per configured drift column present in `frame`."""
    out = []
    for column in config.drift_columns:
        if column not in frame.columns:
            continue
        out.append(_column_check(frame, column, window, config))
    return out


def _column_check(
    frame: pd.DataFrame, column: str, window: TrailingWindow | None, config: ValidationConfig
) -> CheckResult:
    check = CheckResult(
        name=f"drift_{column}",
        description=f"{column}'s distribution is close to the trailing window's",
        kind="drift",
        status=SKIPPED,
        column=column,
    )
    today = numeric_values(frame, column)
    reference = window.pooled(column) if window is not None else np.empty(0)
    if today is None:
        check.message = f"{column} is not numeric"
        return check
    if window is None or len(window) == 0:
        check.message = "no trailing data in the store"
        return check
    if len(today) < config.drift_min_rows or len(reference) < config.drift_min_rows:
        check.message = (
            f"too few values to measure ({len(today)} today, {len(reference)} in the "
            f"window; need {config.drift_min_rows})"
        )
        return check
    figures = {
        "psi": round(psi(reference, today, config.drift_bins), 4),
        "ks": round(ks_statistic(reference, today), 4),
        "rows": int(len(today)),
        "reference_values": int(len(reference)),
        "reference_days": len(window),
        "median": float(np.median(today)),
        "reference_median": float(np.median(reference)),
    }
    check.details = figures
    check.observed = {"psi": figures["psi"], "ks": figures["ks"]}
    fails = _over(figures, config.drift_psi_fail, config.drift_ks_fail)
    warns = _over(figures, config.drift_psi_warn, config.drift_ks_warn)
    shift = (
        f"median {figures['median']:.4g} vs {figures['reference_median']:.4g} over "
        f"{len(window)} day(s)"
    )
    if fails:
        check.status = FAILED
        check.message = f"{', '.join(fails)} (hard limit); {shift}"
        check.brief = f"{', '.join(fails)}"
    elif warns:
        check.status = WARNING
        check.message = f"{', '.join(warns)}; {shift}"
    else:
        check.status = PASSED
        check.message = f"PSI {figures['psi']:.3f}, KS {figures['ks']:.3f}; {shift}"
    return check


def _over(figures: dict, psi_limit: float | None, ks_limit: float | None) -> list[str]:
    out = []
    if psi_limit is not None and figures["psi"] > psi_limit:
        out.append(f"PSI {figures['psi']:.3f} > {psi_limit:g}")
    if ks_limit is not None and figures["ks"] > ks_limit:
        out.append(f"KS {figures['ks']:.3f} > {ks_limit:g}")
    return out
