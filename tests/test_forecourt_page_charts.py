"""The Forecourt page's chart and formats (plugins/forecourt_page/{charts,formatting}.py):
pure functions, tested without Airflow, FastAPI or a registry."""

from __future__ import annotations

import math
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
if str(PLUGINS) not in sys.path:  # as Airflow does for its plugins folder
    sys.path.append(str(PLUGINS))

from forecourt_page import charts, formatting  # noqa: E402
from markupsafe import Markup  # noqa: E402

EVIL = "<script>alert(\"x\")</script> & 'q'"


def _points(fractions, champion=None, decisions=None):
    return [
        {
            "version": str(i + 1),
            "fraction_of_optimum": f,
            "total_reward": 1000.0 * f,
            "status": "champion" if i == champion else "retired",
            "decision": (decisions or {}).get(i),
            "champion": i == champion,
        }
        for i, f in enumerate(fractions)
    ]


class _Svg(HTMLParser):
    """Elements of an SVG document (tag, attributes), and its text, as a browser reads them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(svg: str) -> _Svg:
    parser = _Svg()
    parser.feed(svg)
    parser.close()
    assert parser.open == [], f"unclosed: {parser.open}"
    return parser


def _all(parsed: _Svg, tag: str, **attrs) -> list[dict]:
    return [
        a for t, a in parsed.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())
    ]


# ---- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "ok"),
    [(1, True), (0.5, True), (True, False), (math.nan, False), (math.inf, False), ("1", False)]
    + [(None, False)],
)
def test_finite(x, ok):
    assert formatting.finite(x) is ok


def test_number_formats():
    assert formatting.pct(0.98356) == "98.36%"
    assert formatting.pct(0.0123, signed=True) == "+1.23%"
    assert formatting.pct(-0.0123, signed=True) == "-1.23%"
    assert formatting.pct(0.995, digits=1) == "99.5%"
    assert formatting.num(50849.99) == "50,850.0"
    assert formatting.thousands(40_000) == "40,000"
    assert formatting.p_value(0.000123456) == "0.000123"
    for f in (formatting.pct, formatting.num, formatting.thousands, formatting.p_value):
        assert f(None) == f(math.nan) == f("0.5") == formatting.MISSING == "–"
    assert formatting.thousands(1.5) == formatting.thousands(True) == "–"


def test_when():
    assert formatting.when("2026-11-24T02:13:05+00:00") == "2026-11-24 02:13 UTC"
    assert formatting.when("2026-11-24T02:13:05Z") == "2026-11-24 02:13 UTC"
    assert formatting.when("2026-11-24T02:13:05+02:00") == "2026-11-24 02:13"
    assert formatting.when("2026-11-24") == "2026-11-24"
    assert formatting.when(None) == formatting.when("") == "–"


def test_badge_class_keeps_letters_digits_and_dashes():
    assert formatting.badge_class("dry-run") == "dry-run"
    assert formatting.badge_class("Kept!") == "kept"
    assert formatting.badge_class('" onmouseover="x') == "onmouseoverx"


# ---- the axis --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high"),
    [(0.9, 1.0), (0.98, 1.0), (0.2, 1.0), (0.999, 1.0), (1.0, 1.0), (0.5, 1.2), (-0.3, 1.0)],
)
def test_axis_is_round_and_holds_the_data(low, high):
    lo, hi, step = charts.axis(low, high)
    assert lo < low and hi >= high  # the lowest point never on the frame
    assert low - lo >= 0.2 * step - 1e-12
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5)) < 1e-9
    steps = (hi - lo) / step
    assert abs(steps - round(steps)) < 1e-9 and 1 <= round(steps) <= 7
    if high - low >= 0.004:  # a visible range: 3 to 7 ticks
        assert round(steps) >= 2
    for edge in (lo, hi):  # on the tick grid
        assert abs(edge / step - round(edge / step)) < 1e-6


def test_tick_digits():
    assert charts.tick_digits(0.05) == 0  # 5%
    assert charts.tick_digits(0.005) == 1  # 0.5%
    assert charts.tick_digits(0.0025) == 2  # 0.25%
    assert charts.tick_digits(0.00025) == 3  # 0.025%
    assert charts.tick_digits(1e-7) == 3  # at most 3


def test_label_every_keeps_the_x_axis_readable():
    assert [charts.label_every(n) for n in (1, 12, 13, 24, 25, 50)] == [1, 1, 2, 2, 3, 5]


# ---- the trend chart -------------------------------------------------------------------------


def test_trend_svg_draws_one_point_per_version():
    points = _points([0.8, 0.95, 0.97], champion=1, decisions={0: "rejected", 1: "promoted"})
    svg = charts.trend_svg(points, "profit: fraction of the optimum by version")
    assert isinstance(svg, Markup)
    parsed = _parse(svg)
    (root,) = _all(parsed, "svg")
    assert root["class"] == "trend" and root["role"] == "img"
    assert root["viewbox"] == "0 0 900 240" and (root["width"], root["height"]) == ("900", "240")
    assert root["aria-label"] == "profit: fraction of the optimum by version"
    groups = _all(parsed, "g")
    assert [g["data-version"] for g in groups] == ["1", "2", "3"]
    assert [g["class"] for g in groups] == ["pt", "pt champion", "pt"]
    assert len(_all(parsed, "circle", r="8", **{"class": "ring"})) == 1
    dots = _all(parsed, "circle", r="4.5")
    assert [d["fill"] for d in dots] == [
        charts.DECISION_COLORS["rejected"],
        charts.DECISION_COLORS["promoted"],
        charts.DECISION_COLORS[None],
    ]
    # x: evenly spread over the plot; y: higher is better
    xs = [float(d["cx"]) for d in dots]
    ys = [float(d["cy"]) for d in dots]
    left = charts.MARGIN_LEFT
    right = 900 - charts.MARGIN_RIGHT
    assert xs == pytest.approx([left, (left + right) / 2, right], abs=0.1)
    assert ys[0] > ys[1] > ys[2]
    (line,) = _all(parsed, "polyline")
    pairs = [tuple(map(float, p.split(","))) for p in line["points"].split()]
    assert pairs == list(zip(xs, ys, strict=True))
    assert len(_all(parsed, "line", **{"class": "optimum"})) == 1
    text = " ".join(parsed.text)
    assert "exact optimum" in text and "registered version" in text
    assert re.search(r"\bv1\b.*\bv2\b.*\bv3\b", text)
    tips = [t for t in parsed.text if t.startswith("v2:")]
    assert tips == [
        "v2: 95.00% of the optimum, total reward 950.0; status champion; decision promoted"
    ]


def test_trend_svg_ticks_are_on_the_axis():
    svg = charts.trend_svg(_points([0.9, 0.95]), "t")
    parsed = _parse(svg)
    lo, hi, step = charts.axis(0.9, 1.0)
    grid = _all(parsed, "line", **{"class": "grid"})
    assert len(grid) == round((hi - lo) / step) + 1
    labels = [t for t in parsed.text if t.endswith("%")]
    digits = charts.tick_digits(step)
    assert labels == [formatting.pct(lo + k * step, digits=digits) for k in range(len(grid))]
    ys = [float(g["y1"]) for g in grid]
    assert ys == sorted(ys, reverse=True)  # the lowest value at the bottom
    assert ys[0] == pytest.approx(240 - charts.MARGIN_BOTTOM, abs=0.1)
    assert ys[-1] == pytest.approx(charts.MARGIN_TOP, abs=0.1)


def test_trend_svg_without_points_says_so():
    for points in ([], [{"version": "1", "fraction_of_optimum": None}], _points([math.nan])):
        parsed = _parse(charts.trend_svg(points, "demand"))
        assert "no evaluated versions yet" in parsed.text
        assert not _all(parsed, "circle") and not _all(parsed, "polyline")


def test_trend_svg_leaves_out_points_without_a_number():
    points = _points([0.9, math.nan, 0.95])
    points.append({"version": "9", "fraction_of_optimum": True})
    parsed = _parse(charts.trend_svg(points, "t"))
    assert [g["data-version"] for g in _all(parsed, "g")] == ["1", "3"]


def test_trend_svg_one_point_sits_in_the_middle():
    parsed = _parse(charts.trend_svg(_points([0.97]), "t", width=400, height=200))
    (dot,) = _all(parsed, "circle")
    left, right = charts.MARGIN_LEFT, 400 - charts.MARGIN_RIGHT
    assert float(dot["cx"]) == pytest.approx((left + right) / 2, abs=0.1)
    assert _all(parsed, "svg")[0]["viewbox"] == "0 0 400 200"


def test_trend_svg_labels_at_most_a_dozen_versions():
    parsed = _parse(charts.trend_svg(_points([0.5 + i / 100 for i in range(50)]), "t"))
    labels = [t for t in parsed.text if re.fullmatch(r"v\d+", t)]
    assert len(_all(parsed, "g")) == 50
    assert labels[0] == "v1" and labels[-1] == "v50" and len(labels) <= charts.MAX_X_LABELS + 1


def test_trend_svg_without_the_optimum_in_range_draws_no_optimum_line():
    parsed = _parse(charts.trend_svg(_points([1.2, 1.3]), "t"))
    assert not _all(parsed, "line", **{"class": "optimum"})


def test_trend_svg_escapes_what_it_is_given():
    points = [
        {
            "version": EVIL,
            "fraction_of_optimum": 0.9,
            "status": EVIL,
            "decision": EVIL,
            "champion": True,
        }
    ]
    svg = charts.trend_svg(points, EVIL)
    assert "<script" not in svg
    parsed = _parse(svg)  # well formed: nothing broke out of an attribute or an element
    assert [t for t, _ in parsed.elements if t == "script"] == []
    (g,) = _all(parsed, "g")
    assert g["data-version"] == EVIL  # the value survives, escaped
    assert _all(parsed, "svg")[0]["aria-label"] == EVIL
    assert parsed.text[0] == EVIL  # the <title>
    assert any(t.startswith(f"v{EVIL}: 90.00%") for t in parsed.text)
    dot = _all(parsed, "circle", r="4.5")[0]
    assert dot["fill"] == charts.DECISION_COLORS[None]  # an unknown decision: the default
