"""The Forecourt page's templates (plugins/forecourt_page/render.py, templates/): what they
show for each part of the data, and that every value is escaped (autoescaping), whatever it
holds. The page served with a real registry is tested in tests/test_plugin.py."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
if str(PLUGINS) not in sys.path:  # as Airflow does for its plugins folder
    sys.path.append(str(PLUGINS))

from forecourt_page import icon_svg, render, render_page, render_sign_in  # noqa: E402
from markupsafe import Markup  # noqa: E402

EVIL = "<script>alert(\"x\")</script> & 'quoted'"
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;"


class _Page(HTMLParser):
    """Elements (tag, attributes) and text of a page, as a browser reads them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.chunks))


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    return parsed


def _agent(**over) -> dict:
    agent = {
        "name": "forecourt-profit",
        "exists": True,
        "champion": "2",
        "champion_info": {
            "version": "2",
            "fraction_of_optimum": 0.9836,
            "total_reward": 50850.0,
            "promoted_at": "2026-11-23T02:13:05+00:00",
            "data_window": {"first_day": "2026-10-25", "last_day": "2026-11-23"},
        },
        "n_versions": 3,
        "versions": [
            {
                "version": "2",
                "champion": True,
                "created": "2026-11-22T01:00:00+00:00",
                "status": "champion",
                "fraction_of_optimum": 0.9836,
                "total_reward": 50850.0,
                "decision": {"outcome": "promoted"},
                "data_window": {"first_day": "2026-10-25", "last_day": "2026-11-23"},
                "hyperparameters": {"total_env_steps": 40_000},
            }
        ],
        "decisions": [
            {
                "version": "2",
                "at": "2026-11-23T02:13:05+00:00",
                "outcome": "promoted",
                "baseline": "best constant price",
                "relative_improvement": 0.0123,
                "ci_low": 0.008,
                "margin": 0.005,
                "p_value": 0.000123,
                "guardrails": [
                    {"name": "price_band", "passed": True, "detail": "all in band"},
                    {"name": "max_daily_move", "passed": False, "detail": "moved 9c"},
                ],
                "reason": "better than the baseline",
                "report_relpath": "profit/2026-11-23 decision-v2.md",
                "report": "/home/x/reports/profit/2026-11-23 decision-v2.md",
            }
        ],
        "history": [
            {"at": "2026-11-23T02:13:05Z", "action": "promote", "version": "2", "previous": None}
        ],
        "trend": [
            {"version": "1", "fraction_of_optimum": 0.5, "decision": "rejected"},
            {"version": "2", "fraction_of_optimum": 0.98, "decision": "promoted", "champion": True},
        ],
        "error": None,
    }
    return agent | over


def _data(agents=None, runs=None, errors=None, **registry) -> dict:
    return {
        "registry": {
            "generated_at": "2026-11-24T09:00:00+00:00",
            "tracking_uri": "sqlite:///x/mlflow.db",
            "registry_exists": True,
            "agents": {"profit": _agent()} if agents is None else agents,
            **registry,
        },
        "runs": runs or [],
        "errors": errors or {},
    }


RUN = {
    "day": "2026-11-23",
    "run_id": "scheduled__2026-11-23T02:00:00+00:00",
    "status": "complete",
    "agents": {
        "profit": {
            "trials": 4,
            "best_fraction_of_optimum": 0.98,
            "registered_version": "2",
            "decision": "promoted",
            "relative_improvement": 0.0123,
            "ci_low": 0.008,
            "action": "promoted",
            "champion_version": "2",
        },
        "demand": {},
    },
    "report_md": "2026-11-23/run/report.md",
    "report_png": "2026-11-23/run/report.png",
}


# ---- the environment -------------------------------------------------------------------------


def test_every_template_compiles_with_autoescaping():
    env = render.environment()
    assert env.autoescape is True
    names = env.list_templates()
    assert {"base.html", "page.html", "sign_in.html", "macros.html", "forecourt.css"} <= set(names)
    for name in names:
        env.get_template(name)  # parses: no stray {{ or {# in the stylesheet or the icon


def test_values_are_escaped_like_html_escape_and_none_shows_as_nothing():
    env = render.environment()
    template = env.from_string('<p title="{{ x }}">{{ x }}</p>{{ nothing }}{{ m }}')
    out = template.render(x=EVIL, nothing=None, m=Markup("<b>kept</b>"))
    assert out == f'<p title="{ESCAPED}">{ESCAPED}</p><b>kept</b>'


def test_templates_come_from_the_package_not_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    render.environment.cache_clear()
    try:
        assert "Forecourt" in render_page({})
    finally:
        render.environment.cache_clear()
    source = Path(render.environment().get_template("page.html").filename)
    assert source == PLUGINS / "forecourt_page" / "templates" / "page.html"


# ---- the page --------------------------------------------------------------------------------


def test_page_shows_each_part_of_an_agent():
    page = render_page(_data(), "/forecourt")
    parsed = _parse(page)
    text = parsed.text
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert '<section class="agent" id="agent-profit">' in page
    assert '<a href="#agent-profit">profit</a> <a href="#runs">daily runs</a>' in page
    assert "as of 2026-11-24 09:00 UTC · registry sqlite:///x/mlflow.db · JSON" in text
    assert (
        "Champion: v2 (98.36% of the optimum, total reward 50,850.0; promoted "
        "2026-11-23 02:13 UTC; trained on 2026-10-25 to 2026-11-23)"
    ) in text
    assert 'class="champion-version">v2</b>' in page
    assert page.count('<svg class="trend"') == 1
    legend = re.findall(r'<span><i style="background:(#\w+)"></i>([\w ]+)</span>', page)
    assert [label for _, label in legend] == ["promoted", "kept", "rejected", "no decision"]
    # the decision
    assert "+1.23%" in text and "+0.80%" in text and "0.50%" in text and "0.000123" in text
    assert '<span class="g ok" title="all in band">✓ price_band</span>' in page
    assert '<span class="g fail" title="moved 9c">✗ max_daily_move</span>' in page
    href = "/forecourt/files/reports/profit/2026-11-23%20decision-v2"
    assert f'<a href="{href}.md">report</a> <a href="{href}.png">plot</a>' in page
    # the alias history and the versions
    assert '<span class="badge b-promote">promote</span>' in page
    assert "v2 none" in text
    assert "Versions (latest 1 of 3)" in text
    assert '<tr class="is-champion"><td>v2 ★</td>' in page
    assert "2026-10-25 – 2026-11-23" in text and "40,000" in text
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_page_of_an_agent_with_nothing_yet():
    empty = {
        "name": "forecourt-demand",
        "champion": None,
        "n_versions": 0,
        "versions": [],
        "decisions": [],
        "history": [],
        "trend": [],
    }
    text = _parse(render_page(_data(agents={"demand": empty}))).text
    for line in (
        "No champion in service.",
        "no evaluated versions yet",
        "No decisions recorded yet.",
        "The champion alias has not moved yet.",
        "No versions registered yet.",
        "No run reports yet.",
    ):
        assert line in text, line
    assert "Versions (latest" not in text


def test_page_without_a_registry_or_runs():
    text = _parse(render_page({"registry": None, "runs": [], "errors": {}})).text
    assert "No run reports yet." in text and "registered yet" not in text
    text = _parse(render_page(_data(agents={}, registry_exists=False))).text
    assert "No model has been registered yet." in text
    errors = {"registry": "ImportError: no mlflow", "runs": "OSError: disk"}
    text = _parse(render_page({"registry": None, "runs": [], "errors": errors})).text
    assert "Registry unavailable: ImportError: no mlflow" in text
    assert "Run reports unavailable: OSError: disk" in text
    assert "No model has been registered yet." not in text


def test_a_champion_without_its_details_and_a_report_on_another_disk():
    decision = _agent()["decisions"][0] | {"report_relpath": None, "report": "/far/away/r.md"}
    agent = _agent(champion="7", champion_info=None, decisions=[decision])
    page = render_page(_data(agents={"profit": agent}))
    assert '<p class="champ">Champion: <b>v7</b></p>' in page
    assert '<span class="path" title="/far/away/r.md">r.md</span>' in page


def test_runs():
    stopped = {"day": "2026-11-24", "run_id": "manual", "status": "stopped: invalid data"}
    broken = {"day": "2026-11-22", "run_id": "broken", "error": "JSONDecodeError: oops"}
    page = render_page(_data(runs=[stopped, RUN, broken]), "/forecourt")
    text = _parse(page).text
    assert (
        "profit: 4 trials, best 98.00%; registered v2; promoted (+1.23%, lower bound +0.80%) "
        "promoted champion v2"
    ) in text
    assert "demand: not reached" in text
    assert '<td class="ok">complete</td>' in page
    assert '<td class="fail">stopped: invalid data</td>' in page
    assert '<span class="error">JSONDecodeError: oops</span>' in page
    assert '<a href="/forecourt/files/runs/2026-11-23/run/report.md">report</a> <a' in page
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td>", page)
    assert rows == ["2026-11-24", "2026-11-23", "2026-11-22"]


def test_every_value_is_escaped():
    """A station, agent, run or reason holding markup shows as text: in elements, in
    attributes, in links and in the chart, and nothing breaks out of its element."""
    agent = _agent(
        name=EVIL,
        error=EVIL,
        champion_info=_agent()["champion_info"] | {"version": EVIL},
        decisions=[_agent()["decisions"][0] | {"reason": EVIL, "baseline": EVIL}],
        history=[{"at": None, "action": EVIL, "version": EVIL, "previous": EVIL, "reason": EVIL}],
        trend=[{"version": EVIL, "fraction_of_optimum": 0.9, "status": EVIL}],
    )
    agent["decisions"][0]["guardrails"] = [{"name": EVIL, "passed": True, "detail": EVIL}]
    run = RUN | {"day": EVIL, "run_id": EVIL, "status": EVIL, "report_md": f"{EVIL}.md"}
    run["agents"] = {EVIL: {"registered_version": EVIL, "action": EVIL}}
    data = _data(agents={EVIL: agent}, runs=[run], tracking_uri=EVIL, errors={"runs": EVIL})
    page = render_page(data, base='/x"><script>')
    assert "<script" not in page
    assert page.count(ESCAPED) >= 15
    parsed = _parse(page)
    assert not [tag for tag, _ in parsed.elements if tag == "script"]
    (section,) = [a for tag, a in parsed.elements if tag == "section" and "class" in a]
    assert section["id"] == f"agent-{EVIL}"  # the value survives as the attribute's
    assert (
        next(a for tag, a in parsed.elements if tag == "svg")["aria-label"]
        == f"{EVIL}: fraction of the optimum by version"
    )
    links = [a["href"] for tag, a in parsed.elements if tag == "a"]
    assert f"#agent-{EVIL}" in links and '/x"><script>/api/overview' in links
    # a file link's path is URL-quoted, then escaped
    assert '/x"><script>/files/runs/%3Cscript%3Ealert%28%22x%22%29' in " ".join(links)
    assert EVIL in parsed.text and f"Run reports unavailable: {EVIL}" in parsed.text
    # a badge's class keeps letters, digits and dashes only
    badges = [
        a["class"] for tag, a in parsed.elements if tag == "span" and "badge" in a.get("class", "")
    ]
    assert "badge b-scriptalertxscriptquoted" in badges


def test_sign_in_page():
    page = render_sign_in()
    assert "<title>Forecourt: sign in</title>" in page
    assert "<p>Sign in to Airflow to see this page.</p>" in page
    assert ":root{--fg:" in page  # the same stylesheet


def test_icon():
    icon = icon_svg()
    assert icon.startswith("<svg") and icon.rstrip().endswith("</svg>")
    assert "<script" not in icon
