"""Numbers and times as the Forecourt page shows them: plain text, "–" for what is missing.

Pure functions of a value (a number, an ISO timestamp, an outcome), used as Jinja filters by
the page and by the chart's tooltips. They return text, never markup: escaping is the
template's job.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"


def finite(x: Any) -> bool:
    """A real number that can be drawn or formatted (not a bool, not NaN or infinite)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pct(x: Any, signed: bool = False, digits: int = 2) -> str:
    """0.9836 -> 98.36%; signed: +1.20%."""
    if not finite(x):
        return MISSING
    return f"{x:+.{digits}%}" if signed else f"{x:.{digits}%}"


def num(x: Any, digits: int = 1) -> str:
    """50849.99 -> 50,850.0."""
    return f"{x:,.{digits}f}" if finite(x) else MISSING


def thousands(x: Any) -> str:
    """40000 -> 40,000 (an integer only)."""
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else MISSING


def p_value(x: Any) -> str:
    """Three significant digits: 0.000123 -> 0.000123, 0.5 -> 0.5."""
    return f"{x:.3g}" if finite(x) else MISSING


def when(iso: Any) -> str:
    """2026-11-24T02:13:05+00:00 -> 2026-11-24 02:13 UTC; anything else as it is."""
    if not iso:
        return MISSING
    s = str(iso)
    if len(s) >= 16 and s[10] == "T":
        return f"{s[:10]} {s[11:16]}" + (" UTC" if s.endswith(("+00:00", "Z")) else "")
    return s


def badge_class(outcome: Any) -> str:
    """The CSS class suffix of an outcome's badge: "dry-run" -> "dry-run", "Kept!" -> "kept"."""
    return "".join(c for c in str(outcome).lower() if c.isalnum() or c == "-")
