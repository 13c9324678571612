"""The Airflow "Forecourt" page (plugins/forecourt_plugin.py) and the data behind it.

The registry is real: MLflow on a SQLite DB in a temporary FORECOURT_HOME, seeded once for
the module with two tiny trainings of the profit agent (`bad`: 640 steps, `good`: 40k
steps, as in tests/test_registry.py) registered as v1 (bad, rejected), v2 (good,
promoted), v3 (good again, kept), then v3 forced in and rolled back (champion: v2). The
run reports are written by the pipeline's own `write_run_report`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rl_core import registry as R
from rl_core.agents.dqn import DQNConfig
from rl_core.market.model import Market
from rl_core.pipeline.report import write_run_report
from rl_core.pipeline.run_reports import recent_runs
from rl_core.pipeline.steps import run_folder, save
from rl_core.registry.overview import HISTORY_TAG, registry_overview
from rl_core.registry.tracking import client
from rl_core.training.bundle import write_bundle
from rl_core.training.train import train

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_FILE = ROOT / "plugins" / "forecourt_plugin.py"
MARKET = Market()
WINDOW = {"store": "file:///tmp/store", "first_day": "2026-10-25", "last_day": "2026-11-23"}
N = 32  # scenarios per decision
EVIL = '<script>alert("x")</script> complaints & rollback'
RUN_A = ("2026-11-23", "scheduled__2026-11-23T02:00:00+00:00")  # complete, promoted v2
RUN_B = ("2026-11-24", "manual__2026-11-24T09:00:00+00:00")  # stopped at validation


def _load_plugin():
    """Import the plugin file the way Airflow's plugin loader does (module = file stem)."""
    spec = importlib.util.spec_from_file_location("forecourt_plugin", PLUGIN_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plugin():
    return _load_plugin()


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECOURT_HOME", str(tmp_path / "forecourt"))
    monkeypatch.delenv("FORECOURT_MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "forecourt"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin")
    home = tmp / "forecourt"
    fake_home = tmp / "user-home"
    fake_home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORECOURT_HOME", str(home))
        mp.delenv("FORECOURT_MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("HOME", str(fake_home))
        mp.setenv("XDG_CONFIG_HOME", str(fake_home / ".config"))
        bad = train(MARKET, "profit", DQNConfig(total_env_steps=640))
        good = train(MARKET, "profit", DQNConfig(total_env_steps=40_000))

        def register(result, i):
            bundle = write_bundle(result, MARKET, tmp / "bundles" / str(i))
            return R.register_challenger(result, bundle, data_window=WINDOW, market=MARKET)

        v1 = register(bad, 1)
        d1 = R.decide("profit", v1.version, MARKET, n_scenarios=N)
        v2 = register(good, 2)
        d2 = R.decide("profit", v2.version, MARKET, n_scenarios=N)
        v3 = register(good, 3)
        d3 = R.decide("profit", v3.version, MARKET, n_scenarios=N)
        assert (d1.outcome, d2.outcome, d3.outcome) == ("rejected", "promoted", "kept")
        R.promote("profit", v3.version, expected_champion=v2.version, reason="forced by hand")
        R.rollback("profit", reason=EVIL)
        _write_runs(good, v2, d2)
        yield SimpleNamespace(
            home=home, bad=bad, good=good, versions=(v1, v2, v3), decisions=(d1, d2, d3)
        )
    assert list(fake_home.iterdir()) == [], "something was written into $HOME"


def _write_runs(good, registered, decision):
    day, run_id = RUN_A
    folder = Path(run_folder(day, run_id))
    params = {
        "agents": ["profit"],
        "trials": 1,
        "max_concurrent_trials": 1,
        "env_steps": 40_000,
        "dry_run": False,
        "force_promotion": False,
        "seed": 0,
    }
    plan = {"run_id": run_id, "day": day, "tomorrow": "2026-11-24", "params": params}
    save(folder, "plan.json", plan)
    save(folder, "validation.json", {"valid": True, "headline": "valid: 3 stations"})
    save(folder, "calibration.json", {"summary": "base demand 24000 L/day"})
    trial = {
        "trial": 0,
        "agent": "profit",
        "total_reward": good.evaluation.total_reward,
        "fraction_of_optimum": good.evaluation.fraction_of_optimum,
        "train_s": good.train_s,
        "hyperparameters": {"learning_rate": 1e-3, "gamma": 0.99, "batch_size": 64, "hidden": [64]},
        "curve": good.curve,
    }
    sub = folder / "profit"
    save(sub / "trial-000", "trial.json", trial)
    save(sub, "search.json", {"best": trial, "leaderboard": []})
    save(sub, "registered.json", {**registered.to_dict(), "trial": 0})
    record = decision.to_dict()
    record.pop("evidence")
    save(sub, "decision.json", {**record, "summary": decision.summary()})
    promotion = {
        "agent": "profit",
        "challenger_version": registered.version,
        "action": "promoted",
        "reason": decision.reason,
        "champion_version": registered.version,
    }
    save(sub, "promotion.json", promotion)
    prices = {"champion_version": registered.version, "stations": 3}
    prices |= {"min": 1.8, "median": 1.9, "max": 2.0}
    recs = {"written": True, "uri": "/tmp/x", "day": "2026-11-24", "agents": {"profit": prices}}
    save(folder, "recommendations.json", recs)
    assert write_run_report(folder)["status"] == "complete"

    day, run_id = RUN_B
    folder = Path(run_folder(day, run_id))
    save(folder, "plan.json", {**plan, "run_id": run_id, "day": day, "tomorrow": "2026-11-25"})
    save(folder, "validation.json", {"valid": False, "headline": "3 rows failed: price < 0"})
    assert write_run_report(folder)["status"].startswith("stopped")

    broken = Path(run_folder("2026-11-22", "broken"))
    broken.mkdir(parents=True)
    (broken / "report.json").write_text("{not json")


@pytest.fixture
def http(plugin):
    """A client of the plugin's app with Airflow's authorisation stubbed out."""
    plugin.app.dependency_overrides[plugin.authorize] = lambda: None
    try:
        yield TestClient(plugin.app)
    finally:
        plugin.app.dependency_overrides.clear()


# ---- data ------------------------------------------------------------------------------------


def test_overview_without_a_registry_is_empty_and_creates_nothing(fresh_home):
    o = registry_overview()
    assert o["registry_exists"] is False
    assert set(o["agents"]) == {"demand", "profit"}
    for agent, a in o["agents"].items():
        assert a["name"] == f"forecourt-{agent}"
        assert a["champion"] is None and a["champion_info"] is None and a["n_versions"] == 0
        assert a["versions"] == a["decisions"] == a["history"] == a["trend"] == []
    assert not (fresh_home / "mlflow").exists()
    assert recent_runs() == []
    json.dumps(o, allow_nan=False)


def test_overview_of_an_empty_registry(fresh_home):
    client().search_experiments()  # creates the SQLite registry, no model in it
    assert (fresh_home / "mlflow" / "mlflow.db").is_file()
    o = registry_overview()
    assert o["registry_exists"] is True
    for a in o["agents"].values():
        assert a["exists"] is False and a["error"] is None
        assert a["champion"] is None and a["versions"] == [] and a["trend"] == []


def test_overview_of_a_seeded_registry(seeded):
    v1, v2, v3 = (v.version for v in seeded.versions)
    o = registry_overview()
    json.dumps(o, allow_nan=False)  # JSON-safe, NaN included
    assert o["agents"]["demand"]["exists"] is False
    p = o["agents"]["profit"]
    assert p["exists"] and p["error"] is None
    assert p["champion"] == v2 and p["n_versions"] == 3
    assert p["champion_info"]["version"] == v2
    assert p["champion_info"]["fraction_of_optimum"] == pytest.approx(
        seeded.good.evaluation.fraction_of_optimum
    )
    assert p["champion_info"]["data_window"] == {
        "first_day": "2026-10-25",
        "last_day": "2026-11-23",
    }
    assert [v["version"] for v in p["versions"]] == [v3, v2, v1]
    status = {v["version"]: v["status"] for v in p["versions"]}
    assert status == {v1: "challenger-rejected", v2: "champion", v3: "rolled_back"}
    assert p["versions"][0]["hyperparameters"]["total_env_steps"] == 40_000

    # decisions, newest first, with the evidence recorded on the versions
    assert [(d["version"], d["outcome"]) for d in p["decisions"]] == [
        (v3, "kept"),
        (v2, "promoted"),
        (v1, "rejected"),
    ]
    won = p["decisions"][1]
    d2 = seeded.decisions[1]
    assert won["applied"] is True and won["baseline"].startswith("best constant price")
    assert won["relative_improvement"] == pytest.approx(d2.relative_improvement, abs=1e-6)
    assert won["ci_low"] == pytest.approx(d2.ci_low, abs=1e-6) and won["ci_low"] > won["margin"]
    assert won["margin"] == pytest.approx(0.005) and won["scenarios"] == f"{N} (seed 0)"
    assert {g["name"] for g in won["guardrails"]} == {
        "price_band",
        "max_daily_move",
        "no_planned_loss",
    }
    assert all(g["passed"] for g in won["guardrails"])
    assert won["report_relpath"].endswith(f"-v{v2}.md")
    assert (seeded.home / "reports" / won["report_relpath"]).is_file()
    kept = p["decisions"][0]
    assert kept["champion_version"] == v2 and kept["baseline"] == f"champion v{v2}"
    assert kept["relative_improvement"] == pytest.approx(0.0)
    assert "guardrail" not in p["decisions"][2]["reason"]  # rejected: not better than constant

    # the trend: oldest first, one point per version
    t = p["trend"]
    assert [x["version"] for x in t] == [v1, v2, v3]
    assert [x["decision"] for x in t] == ["rejected", "promoted", "kept"]
    assert [x["champion"] for x in t] == [False, True, False]
    assert t[0]["fraction_of_optimum"] == pytest.approx(seeded.bad.evaluation.fraction_of_optimum)
    assert t[1]["fraction_of_optimum"] == pytest.approx(seeded.good.evaluation.fraction_of_optimum)
    assert t[0]["fraction_of_optimum"] < t[1]["fraction_of_optimum"]

    # alias history, newest first: promote v2 (decide), promote v3 (by hand), rollback to v2
    h = p["history"]
    assert [(m["action"], m["version"], m["previous"]) for m in h] == [
        ("rollback", v2, v3),
        ("promote", v3, v2),
        ("promote", v2, None),
    ]
    assert h[0]["reason"] == EVIL
    assert h == list(reversed(R.history("profit")))

    small = registry_overview(limit=1)["agents"]["profit"]
    assert [v["version"] for v in small["versions"]] == [v3]
    assert len(small["decisions"]) == len(small["history"]) == 1
    assert len(small["trend"]) == 3 and small["n_versions"] == 3


def test_history_tag_matches_the_promotion_module():
    from rl_core.registry import promotion

    assert promotion.HISTORY_TAG == HISTORY_TAG


def test_recent_runs(seeded):
    runs = recent_runs()
    assert [(r["day"], r["run_id"]) for r in runs[:2]] == [RUN_B, RUN_A]
    b, a, broken = runs
    assert b["status"].startswith("stopped") and b["validation"]["valid"] is False
    assert b["agents"] == {} and b["report_png"] is None
    assert a["status"] == "complete" and a["validation"]["valid"] is True
    v2 = seeded.versions[1].version
    profit = a["agents"]["profit"]
    assert profit["action"] == "promoted" and profit["decision"] == "promoted"
    assert profit["registered_version"] == v2 and profit["champion_version"] == v2
    assert profit["trials"] == 1
    assert profit["best_fraction_of_optimum"] == pytest.approx(
        seeded.good.evaluation.fraction_of_optimum
    )
    assert a["recommendations"]["written"] is True
    assert a["report_md"] == "2026-11-23/scheduled__2026-11-23T02_00_00_00_00/report.md"
    assert a["report_png"].endswith("/report.png")
    assert broken["day"] == "2026-11-22" and "error" in broken
    assert [r["day"] for r in recent_runs(limit=1)] == ["2026-11-24"]
    json.dumps(runs, allow_nan=False)


# ---- the page --------------------------------------------------------------------------------


def test_page_shows_champion_decisions_trend_and_runs(seeded, http):
    v1, v2, v3 = (v.version for v in seeded.versions)
    r = http.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f'class="champion-version">v{v2}</b>' in page
    assert page.count('<svg class="trend"') == 2  # one per agent (demand: empty)
    profit_svg = page[page.index('id="agent-profit"') :]
    profit_svg = profit_svg[profit_svg.index("<svg") : profit_svg.index("</svg>")]
    assert re.findall(r'data-version="(\w+)"', profit_svg) == [v1, v2, v3]
    assert f'<g class="pt champion" data-version="{v2}">' in profit_svg
    assert profit_svg.count("<circle") == 4  # three points and the champion's ring
    assert "exact optimum" in profit_svg
    for outcome in ("promoted", "kept", "rejected", "rollback"):
        assert f'class="badge b-{outcome}"' in page
    assert "No champion in service." in page  # demand
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)" in page
    assert "2026-11-24" in page and "complete" in page and "stopped:" in page
    assert "cdn" not in page.lower() and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )

    # the evidence links work
    report = re.search(rf'href="(/files/reports/[^"]+-v{v2}\.md)"', page).group(1)
    md = http.get(report)
    assert md.status_code == 200 and md.text.startswith(f"# forecourt-profit v{v2}: **promoted**")
    assert md.headers["content-type"].startswith("text/plain")
    plot = http.get(report[:-3] + ".png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    run_md = re.search(r'href="(/files/runs/2026-11-23/[^"]+/report\.md)"', page).group(1)
    assert "Forecourt daily run" in http.get(run_md).text


def test_files_stay_inside_their_folders(seeded, http):
    assert http.get("/files/reports/..%2F..%2Fmlflow%2Fmlflow.db").status_code == 404
    assert http.get("/files/runs/..%2Freports").status_code == 404
    assert http.get("/files/etc/passwd").status_code == 404
    assert http.get("/files/runs/2026-11-23/nothing.md").status_code == 404


def test_json_endpoint(seeded, http):
    r = http.get("/api/overview")
    assert r.status_code == 200
    data = r.json()
    assert data["errors"] == {}
    assert data["registry"]["agents"]["profit"]["champion"] == seeded.versions[1].version
    assert [x["day"] for x in data["runs"]] == ["2026-11-24", "2026-11-23", "2026-11-22"]
    limited = http.get("/api/overview", params={"limit": 1}).json()
    assert len(limited["registry"]["agents"]["profit"]["versions"]) == 1
    assert len(limited["runs"]) == 1
    assert http.get("/api/overview", params={"limit": 0}).status_code == 422


def test_empty_page_and_links_under_the_mount(fresh_home, plugin, http):
    parent = FastAPI()
    parent.mount(plugin.URL_PREFIX, plugin.app)
    r = TestClient(parent).get("/forecourt/")
    assert r.status_code == 200
    assert "No model has been registered yet." in r.text and "No run reports yet." in r.text
    assert r.text.count("<svg") == 2 and "no evaluated versions yet" in r.text
    assert 'href="/forecourt/api/overview"' in r.text
    assert TestClient(parent).get("/forecourt/icon.svg").text.startswith("<svg")


def test_access_needs_an_airflow_user_allowed_to_view_plugins(fresh_home, plugin, monkeypatch):
    http = TestClient(plugin.app)
    assert http.get("/api/overview").status_code == 401  # no credentials
    assert http.get("/", follow_redirects=False).status_code == 401  # no auth manager to ask

    from airflow.api_fastapi import app as api_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.models.revoked_token import RevokedToken

    # the JWT check also asks Airflow's DB whether the token was revoked: no DB here
    monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti, **kw: False))
    monkeypatch.setattr(api_app._AuthManagerState, "instance", None)
    manager = api_app.init_auth_manager()
    admin = manager.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    nobody = manager.generate_jwt(SimpleAuthManagerUser(username="nobody", role=None))

    assert (
        http.get("/api/overview", headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    )
    assert (
        http.get("/api/overview", headers={"Authorization": f"Bearer {nobody}"}).status_code == 403
    )
    assert http.get("/api/overview", headers={"Authorization": "Bearer junk"}).status_code == 401
    r = http.get("/", follow_redirects=False)  # a browser without a session: to the login page
    assert r.status_code == 307 and r.headers["location"].startswith(manager.get_url_login())
    http.cookies.set("_token", admin)  # the UI's session cookie
    r = http.get("/")
    assert r.status_code == 200 and "<svg" in r.text


# ---- the plugin ------------------------------------------------------------------------------


def test_plugin_registers_the_app_and_the_nav_entry(plugin):
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from airflow.plugins_manager import AirflowPlugin

    cls = plugin.ForecourtPlugin
    assert issubclass(cls, AirflowPlugin) and cls.name == "forecourt"
    cls.validate()
    assert cls.fastapi_apps == [
        {"app": plugin.app, "url_prefix": "/forecourt", "name": "Forecourt"}
    ]
    assert isinstance(plugin.app, FastAPI)
    assert not any(cls.fastapi_apps[0]["url_prefix"].startswith(p) for p in RESERVED_URL_PREFIXES)
    (view,) = cls.external_views
    assert view["href"] == "/forecourt/" and view["url_route"] == "forecourt"
    assert view["destination"] == "nav" and view["name"] == "Forecourt"


def _env(tmp_path) -> dict:
    (tmp_path / "user-home").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PLUGIN_FILE.parent),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        HOME=str(tmp_path / "user-home"),
        FORECOURT_HOME=str(tmp_path / "forecourt"),
    )
    return env


def test_airflow_loads_the_plugin(tmp_path):
    airflow = Path(sys.executable).with_name("airflow")
    out = subprocess.run(
        [str(airflow), "plugins", "--output", "json"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    plugins = json.loads(out.stdout[out.stdout.index("[") :])
    (fc,) = [p for p in plugins if p["name"] == "forecourt"]
    assert fc["fastapi_apps"] == [
        {"app": "fastapi.applications.FastAPI", "url_prefix": "/forecourt", "name": "Forecourt"}
    ]
    assert fc["external_views"][0]["href"] == "/forecourt/"
    assert fc["source"] == "$PLUGINS_FOLDER/forecourt_plugin.py"


@pytest.mark.parametrize("syntax", ["glob", "regexp"])
def test_airflow_imports_only_the_plugin_from_the_plugins_folder(syntax):
    """The plugin's rendering package (forecourt_page/) is kept out by plugins/.airflowignore:
    Airflow's plugin manager would import its files as plugin modules named after the file."""
    try:  # Airflow >= 3.1
        from airflow._shared.module_loading import find_path_from_directory
    except ImportError:  # pragma: no cover - Airflow 3.0.x
        from airflow.utils.file import find_path_from_directory
    folder = PLUGIN_FILE.parent
    found = sorted(
        Path(p).relative_to(folder).as_posix()
        for p in find_path_from_directory(folder, ".airflowignore", syntax)
        if p.endswith(".py")
    )
    assert found == ["forecourt_plugin.py"], found
    assert list((folder / "forecourt_page").glob("*.py")), "nothing to keep out: update this test"


NO_TORCH = """
import importlib.abc, importlib.util, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "mlflow", "rl_core"):
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Block())
spec = importlib.util.spec_from_file_location("forecourt_plugin", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
sys.modules["forecourt_plugin"] = mod
spec.loader.exec_module(mod)
assert not {"torch", "mlflow", "rl_core"} & {m.split(".")[0] for m in sys.modules}
from fastapi.testclient import TestClient
mod.app.dependency_overrides[mod.authorize] = lambda: None
r = TestClient(mod.app).get("/")
assert r.status_code == 200, r.status_code
assert "Registry unavailable" in r.text and "Run reports unavailable" in r.text, r.text
print("OK")
"""


def test_plugin_imports_and_answers_without_torch_mlflow_or_rl_core(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(PLUGIN_FILE)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-3000:]
