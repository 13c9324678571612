"""Station count against the trailing norm, naming the stations that did not report.

The norm is the median number of stations per day over the trailing window. The stations
expected today are those seen on at least half of the window's days, so a station that
closed weeks ago is not reported missing every day. The day fails when it has fewer than
(1 - max_station_shortfall) x the norm stations.
"""

from __future__ import annotations

import numpy as np

from rl_core.validation.config import ValidationConfig
from rl_core.validation.reference import TrailingWindow
from rl_core.validation.result import FAILED, PASSED, SKIPPED, CheckResult


def station_check(
    today: frozenset[str], window: TrailingWindow | None, config: ValidationConfig
) -> CheckResult:
    check = CheckResult(
        name="station_count",
        description=(
            f"station count within {config.max_station_shortfall:.0%} of the trailing norm"
        ),
        kind="stations",
        status=SKIPPED,
        column="station_id",
    )
    if window is None or len(window) == 0:
        check.message = "no trailing data in the store"
        return check
    counts = window.station_counts()
    norm = float(np.median(counts))
    seen = frozenset().union(*(p.stations for p in window.profiles))
    absent = seen - today  # count only these (few, usually) across the window's days
    missing = sorted(
        s for s in absent if 2 * sum(s in p.stations for p in window.profiles) >= len(window)
    )
    new = sorted(today - seen)
    shortfall = (norm - len(today)) / norm if norm else 0.0
    check.observed = len(today)
    check.details = {
        "stations": len(today),
        "norm": norm,
        "reference_days": len(window),
        "shortfall": round(shortfall, 4),
        "missing_count": len(missing),
        "missing": missing,
        "new_count": len(new),
        "new": new,
    }
    listed = ", ".join(missing[: config.max_missing_listed])
    more = len(missing) - config.max_missing_listed
    if more > 0:
        listed += f" and {more:,} more (all in the JSON report)"
    text = f"{len(today):,} stations vs a norm of {norm:,.0f} over {len(window)} day(s)"
    if missing:
        text += f"; missing {len(missing):,}: {listed}"
    if len(today) < norm * (1 - config.max_station_shortfall):
        check.status = FAILED
        check.message = f"{text} ({shortfall:.0%} short)"
        check.brief = (
            f"{len(today):,} stations vs a norm of {norm:,.0f}, {shortfall:.0%} short, "
            f"{len(missing):,} missing"
        )
    else:
        check.status = PASSED
        check.message = text
    return check
