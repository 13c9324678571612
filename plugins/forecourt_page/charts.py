"""The Forecourt page's chart: a series of versions -> inline SVG (no script, no fonts).

Pure functions. Markup is built with `markupsafe.Markup.format`, which escapes every value
it inserts (a version, a status, a title), so no caller escapes anything by hand; the result
is `Markup`, which a Jinja template with autoescaping inserts as it is. Colours and sizes
are the page's: its stylesheet (templates/forecourt.css) styles the classes used here.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from .formatting import finite, num, pct

# a point's colour: the decision taken on that version (None: none yet)
DECISION_COLORS: dict[str | None, str] = {
    "promoted": "#2e7d32",
    "kept": "#757575",
    "rejected": "#c62828",
    None: "#1565c0",
}
# (colour, text) for the chart's legend, in the order shown
LEGEND = tuple(
    (DECISION_COLORS[k], text)
    for k, text in (
        ("promoted", "promoted"),
        ("kept", "kept"),
        ("rejected", "rejected"),
        (None, "no decision"),
    )
)
# the plot area inside the SVG: room for the tick labels on the left and below
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 16, 14, 34
MAX_X_LABELS = 12


def axis(low: float, high: float) -> tuple[float, float, float]:
    """A y range around [low, high] on round ticks: (lowest tick, highest tick, step).

    The step is 1, 2, 2.5 or 5 x 10^k, about a quarter of the span (of at least 0.4
    percentage points, so a flat series gets a sensible scale); the lowest tick sits at
    least a fifth of a step below the lowest point, keeping it off the frame."""
    span = max(high - low, 0.004)
    raw = span / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag + 1e-12)
    lo = math.floor(low / step + 1e-9) * step
    hi = math.ceil(high / step - 1e-9) * step
    if low - lo < 0.2 * step:  # keep the lowest point off the frame
        lo -= step
    return lo, hi, step


def tick_digits(step: float) -> int:
    """Decimals a percentage tick needs to show `step` exactly (0 to 3): 0.005 -> 1 (0.5%)."""
    return next(d for d in range(4) if abs(round(step * 100, d) - step * 100) < 1e-9 or d == 3)


def label_every(n: int) -> int:
    """Label every k-th of n points on the x axis, so that at most MAX_X_LABELS show."""
    return max(1, math.ceil(n / MAX_X_LABELS))


def trend_svg(
    points: list[dict[str, Any]], title: str, width: int = 900, height: int = 240
) -> Markup:
    """Fraction of the optimum over versions, one point per version, oldest first.

    `points`: dicts with `version`, `fraction_of_optimum` (points without a finite one are
    left out), and optionally `total_reward`, `status`, `decision` (the point's colour) and
    `champion` (a ring). `title` is the SVG's accessible name and tooltip.
    """
    pts = [p for p in points if finite(p.get("fraction_of_optimum"))]
    head = Markup(
        '<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-label="{title}"><title>{title}</title>'
    ).format(w=width, h=height, title=title)
    if not pts:
        return head + Markup(
            '<text x="{}" y="{}" text-anchor="middle" class="muted">no evaluated versions yet'
            "</text></svg>"
        ).format(width / 2, height / 2)
    left, top = MARGIN_LEFT, MARGIN_TOP
    w, h = width - MARGIN_LEFT - MARGIN_RIGHT, height - MARGIN_TOP - MARGIN_BOTTOM
    ys = [p["fraction_of_optimum"] for p in pts]
    lo, hi, step = axis(min(ys), max(max(ys), 1.0))

    def x_of(i: int) -> float:
        return left + (w / 2 if len(pts) == 1 else i * w / (len(pts) - 1))

    def y_of(v: float) -> float:
        return top + (hi - v) / (hi - lo) * h

    out = [
        head,
        Markup('<rect x="{}" y="{}" width="{}" height="{}" class="plot"/>').format(left, top, w, h),
    ]
    digits = tick_digits(step)
    for k in range(round((hi - lo) / step) + 1):
        v = lo + k * step
        out.append(_rule("grid", left, left + w, y_of(v), left - 6, 4, pct(v, digits=digits)))
    if lo <= 1.0 <= hi:
        out.append(_rule("optimum", left, left + w, y_of(1.0), left + w - 4, -4, "exact optimum"))
    every = label_every(len(pts))
    for i, p in enumerate(pts):
        if i % every == 0 or i == len(pts) - 1:
            out.append(
                Markup(
                    '<text x="{:.1f}" y="{}" text-anchor="middle" class="tick">v{}</text>'
                ).format(x_of(i), top + h + 18, p["version"])
            )
    line = " ".join(
        f"{x_of(i):.1f},{y_of(p['fraction_of_optimum']):.1f}" for i, p in enumerate(pts)
    )
    out.append(Markup('<polyline points="{}" class="line"/>').format(line))
    for i, p in enumerate(pts):
        out.append(_point(p, x_of(i), y_of(p["fraction_of_optimum"])))
    out.append(
        Markup(
            '<text x="{}" y="{}" text-anchor="middle" class="tick">registered version</text></svg>'
        ).format(left + w / 2, height - 2)
    )
    return Markup("").join(out)


def _rule(cls: str, x1: float, x2: float, y: float, text_x: float, dy: float, text: str) -> Markup:
    """A horizontal line across the plot at height y, labelled at (text_x, y + dy)."""
    return Markup(
        '<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}" class="{cls}"/>'
        '<text x="{text_x}" y="{text_y:.1f}" text-anchor="end" class="tick">{text}</text>'
    ).format(cls=cls, x1=x1, x2=x2, y=y, text_x=text_x, text_y=y + dy, text=text)


def _point(p: dict[str, Any], x: float, y: float) -> Markup:
    """One version: a dot coloured by its decision, a ring if it is the champion, a tooltip."""
    tip = (
        f"v{p['version']}: {pct(p['fraction_of_optimum'])} of the optimum, total reward "
        f"{num(p.get('total_reward'))}; status {p.get('status') or '–'}; decision "
        f"{p.get('decision') or 'none'}"
    )
    ring = (
        Markup('<circle cx="{:.1f}" cy="{:.1f}" r="8" class="ring"/>').format(x, y)
        if p.get("champion")
        else Markup("")
    )
    return Markup(
        '<g class="{cls}" data-version="{version}"><title>{tip}</title>{ring}'
        '<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{color}"/></g>'
    ).format(
        cls="pt champion" if p.get("champion") else "pt",
        version=p["version"],
        tip=tip,
        ring=ring,
        x=x,
        y=y,
        color=DECISION_COLORS.get(p.get("decision"), DECISION_COLORS[None]),
    )
