"""Registry and champion/challenger: real MLflow on a per-test SQLite DB, real tiny trainings.

Policies (default market, profit agent): `bad` (640 steps, an untrained net), `mid`
(20k steps, ~91% of the optimum: below the best constant price) and `good` (40k steps,
~98%: beats the best constant price and `mid` by far); demand agents `demand_good` (30k
steps, ~100%) and `demand_short` (20k steps, ~95%), whose exact optimum on this market is
the flat floor price itself.
"""

import json
import os
from pathlib import Path

import pytest
import torch

from rl_core.agents.dqn import DQNConfig
from rl_core.envs.observation import observe
from rl_core.market.model import Market
from rl_core.training.bundle import write_bundle
from rl_core.training.train import train

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from rl_core import registry as R  # noqa: E402
from rl_core.cli import main as registry_main  # noqa: E402  (the forecourt command)
from rl_core.registry.register import content_hash  # noqa: E402
from rl_core.registry.tracking import client  # noqa: E402

MARKET = Market()
WINDOW = {"store": "file:///tmp/store", "first_day": "2026-10-25", "last_day": "2026-11-23"}
N = 32  # scenarios per decision (fast; the default is 64)


@pytest.fixture(scope="module")
def results():
    runs = (
        ("bad", "profit", 640),
        ("mid", "profit", 20_000),
        ("good", "profit", 40_000),
        ("demand_good", "demand", 30_000),
        ("demand_short", "demand", 20_000),
    )
    return {
        name: train(MARKET, agent, DQNConfig(total_env_steps=steps)) for name, agent, steps in runs
    }


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh FORECOURT_HOME (so a fresh registry) and a fake, watched $HOME per test."""
    monkeypatch.setenv("FORECOURT_HOME", str(tmp_path / "forecourt"))
    monkeypatch.delenv("FORECOURT_MLFLOW_TRACKING_URI", raising=False)
    fake_home = tmp_path / "user-home"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(fake_home / ".config"))
    yield tmp_path / "forecourt"
    assert list(fake_home.iterdir()) == [], "something was written into $HOME"


@pytest.fixture
def register(results, tmp_path):
    def reg(name: str) -> R.ModelVersionInfo:
        result = results[name]
        folder = tmp_path / "bundles" / f"{name}-{len(list(tmp_path.glob('bundles/*')))}"
        bundle = write_bundle(result, MARKET, folder)
        return R.register_challenger(result, bundle, data_window=WINDOW, market=MARKET)

    return reg


def test_registration_carries_everything(register, results, home):
    info = register("good")
    assert R.tracking_uri() == f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
    assert (home / "mlflow" / "mlflow.db").is_file()
    c = client()
    mv = c.get_model_version("forecourt-profit", info.version)
    tags = mv.tags
    assert tags["forecourt.data_window_hash"] == content_hash(WINDOW)
    assert tags["forecourt.market_hash"] == content_hash(MARKET.to_dict())
    assert json.loads(tags["forecourt.data_window"]) == WINDOW
    assert tags["forecourt.code_version"] and tags["forecourt.run_id"] == info.run_id
    assert float(tags["forecourt.eval.fraction_of_optimum"]) == pytest.approx(
        results["good"].evaluation.fraction_of_optimum
    )
    run = c.get_run(info.run_id)
    assert run.info.status == "FINISHED"
    for key in ("total_reward", "fraction_of_optimum", "volume", "profit"):
        assert f"eval.{key}" in run.data.metrics
    assert run.data.params["hp.total_env_steps"] == "40000"
    assert run.data.params["market.demand.base_demand"] == "24000.0"
    curve = results["good"].curve
    for key in ("loss", "episode_return", "epsilon", "fraction"):
        hist = c.get_metric_history(info.run_id, f"train.{key}")
        assert hist and {m.step for m in hist} <= {r["env_steps"] for r in curve}
    assert len(c.get_metric_history(info.run_id, "train.epsilon")) == len(curve)
    logged = {Path(f.path).name for f in c.list_artifacts(info.run_id, "bundle")}
    assert logged == {"policy.pt2", "bundle.json"}
    assert R.champion_version("profit") is None and R.champion_bundle("profit") is None


def test_first_model_must_beat_the_best_constant_price(register):
    bad = register("bad")
    d = R.decide("profit", bad.version, MARKET, n_scenarios=N)
    assert d.outcome == "rejected" and not d.applied and "best constant price" in d.baseline
    assert R.champion_version("profit") is None

    good = register("good")
    d = R.decide("profit", good.version, MARKET, n_scenarios=N)
    assert d.outcome == "promoted" and d.applied, d.summary()
    assert d.ci_low > d.margin and d.p_value < 0.05 and d.rule == "superiority"
    assert R.champion_version("profit") == good.version
    mv = client().get_model_version("forecourt-profit", good.version)
    assert mv.tags["forecourt.decision"] == "promoted"
    assert mv.tags["forecourt.status"] == "champion"
    assert Path(d.report).is_file() and Path(d.plot).stat().st_size > 1000
    assert "promoted" in Path(d.report).read_text()

    bundle, version = R.champion_bundle("profit")
    assert version == good.version and bundle.agent == "profit"
    obs = torch.from_numpy(observe(MARKET, 0, MARKET.n_prices // 2)[None])
    assert bundle.load_policy()(obs).shape == (1, MARKET.n_prices)


def test_first_model_at_the_optimum_is_promoted_as_non_inferior(register, results):
    """The demand agent's optimum is the best flat price: nothing can beat it by a margin,
    so a first model at >= 99% of the optimum that is not significantly worse is enough."""
    short = register("demand_short")
    assert results["demand_short"].evaluation.fraction_of_optimum < 0.99
    d = R.decide("demand", short.version, MARKET, n_scenarios=N)
    assert d.outcome == "rejected" and not d.applied and d.rule == "", d.summary()
    assert "nor a good first model" in d.reason and "< 99%" in d.reason
    assert R.champion_version("demand") is None

    good = register("demand_good")
    d = R.decide("demand", good.version, MARKET, n_scenarios=N)
    assert d.outcome == "promoted" and d.applied and d.rule == "non-inferiority", d.summary()
    assert d.fraction_of_optimum >= 0.99 and d.baseline.startswith("best constant price")
    assert -d.non_inferiority_margin < d.ci_low <= d.margin  # not better, not worse
    assert R.champion_version("demand") == good.version
    tags = client().get_model_version("forecourt-demand", good.version).tags
    assert tags["forecourt.decision.rule"] == "non-inferiority"
    assert "non-inferiority" in Path(d.report).read_text()

    # with a champion in service the rule is superiority again: an equal model is kept
    again = register("demand_good")
    d = R.decide("demand", again.version, MARKET, n_scenarios=N)
    assert d.outcome == "kept" and d.rule == "" and R.champion_version("demand") == good.version


def test_champion_vs_challenger_on_the_same_scenarios(register):
    mid = register("mid")
    R.promote("profit", mid.version, expected_champion=None, reason="seed the champion")
    good = register("good")
    d = R.decide("profit", good.version, MARKET, n_scenarios=N, seed=7)
    assert d.outcome == "promoted" and d.champion_version == mid.version, d.summary()
    assert d.baseline == f"champion v{mid.version}"
    assert len(d.evidence["challenger_returns"]) == len(d.evidence["incumbent_returns"]) == N
    assert R.champion_version("profit") == good.version

    same = register("good")  # an identical policy: no improvement, kept
    d = R.decide("profit", same.version, MARKET, n_scenarios=N)
    assert d.outcome == "kept" and d.relative_improvement == pytest.approx(0.0)
    worse = register("mid")
    d = R.decide("profit", worse.version, MARKET, n_scenarios=N)
    assert d.outcome == "kept" and d.relative_improvement < 0
    assert R.champion_version("profit") == good.version
    tags = client().get_model_version("forecourt-profit", worse.version).tags
    assert tags["forecourt.decision"] == "kept" and tags["forecourt.status"] == "challenger-kept"


def test_guardrail_breach_is_rejected(register):
    good = register("good")
    d = R.decide(
        "profit",
        good.version,
        MARKET,
        n_scenarios=N,
        guardrails=R.Guardrails(price_band=(1.40, 1.90), max_daily_move=0.05),
    )
    assert d.outcome == "rejected" and not d.applied
    failed = {g["name"] for g in d.guardrails if not g["passed"]}
    assert failed == {"price_band", "max_daily_move"}
    assert "guardrail failed" in d.reason
    assert R.champion_version("profit") is None


def test_compare_and_set_refuses_a_changed_champion(register):
    a, b, c = register("mid"), register("good"), register("good")
    R.promote("profit", a.version, expected_champion=None, reason="first")
    d = R.decide("profit", b.version, MARKET, n_scenarios=N, apply=False)
    assert d.outcome == "promoted" and not d.applied and d.champion_version == a.version
    R.promote("profit", c.version, expected_champion=a.version, reason="someone else, meanwhile")
    with pytest.raises(R.ChampionChangedError, match=f"expected {a.version}, now {c.version}"):
        R.promote("profit", b.version, expected_champion=d.champion_version, reason=d.summary())
    assert R.champion_version("profit") == c.version


def test_rollback_restores_and_records(register):
    a, b = register("mid"), register("good")
    R.promote("profit", a.version, expected_champion=None, reason="first")
    R.promote("profit", b.version, expected_champion=a.version, reason="better")
    move = R.rollback("profit", reason="complaints from station 42")
    assert move["version"] == a.version and move["previous"] == b.version
    assert R.champion_version("profit") == a.version
    hist = R.history("profit")
    assert [h["action"] for h in hist] == ["promote", "promote", "rollback"]
    assert hist[-1]["reason"] == "complaints from station 42"
    c = client()
    assert c.get_model_version("forecourt-profit", b.version).tags["forecourt.status"] == (
        "rolled_back"
    )
    with pytest.raises(R.RegistryError, match="no previous champion"):
        R.rollback("profit", reason="again")


def test_failed_registration_leaves_no_version_and_no_alias(register, monkeypatch):
    good = register("good")
    R.promote("profit", good.version, expected_champion=None, reason="first")

    def killed(self, run_id, local_dir, artifact_path=None):
        raise RuntimeError("killed mid-upload")

    monkeypatch.setattr("mlflow.tracking.client.MlflowClient.log_artifacts", killed)
    with pytest.raises(RuntimeError, match="killed mid-upload"):
        register("good")

    def partial(self, run_id, local_dir, artifact_path=None):  # only one of the two files
        self.log_artifact(run_id, os.path.join(local_dir, "bundle.json"), artifact_path)

    monkeypatch.setattr("mlflow.tracking.client.MlflowClient.log_artifacts", partial)
    with pytest.raises(R.RegistryError, match="upload incomplete"):
        register("good")
    c = client()
    versions = c.search_model_versions("name = 'forecourt-profit'")
    assert [str(v.version) for v in versions] == [good.version]
    assert R.champion_version("profit") == good.version
    runs = c.search_runs([c.get_experiment_by_name("forecourt-training").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FAILED", "FAILED", "FINISHED"]


def test_cli_list_show_promote_rollback(register, capsys):
    a, b = register("mid"), register("good")
    assert registry_main(["registry", "promote", "profit", a.version, "--reason", "r1"]) == 0
    assert registry_main(["registry", "promote", "profit", b.version, "--reason", "r2"]) == 0
    capsys.readouterr()
    assert registry_main(["registry", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert listed["models"]["profit"]["champion"] == b.version
    assert registry_main(["registry", "show", "profit", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert shown["version"] == b.version and "eval.fraction_of_optimum" in shown["metrics"]
    assert registry_main(["registry", "rollback", "profit", "--reason", "bad day", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["version"] == a.version
    assert registry_main(["registry", "promote", "profit", "99", "--reason", "x"]) == 2
    assert "no version 99" in capsys.readouterr().err


def test_the_registry_writes_nothing_into_the_home_directory(tmp_path):
    """MLflow writes ~/.config/mlflow/telemetry.json unless told not to; importing rl_core
    tells it, whatever the caller's environment (a Batch job, a hand-run CLI, the
    rehearsal's read-back that uses MLflow's client directly). MLflow stays quiet
    under pytest or CI by itself, so those markers are taken out, and a control run of
    plain MLflow shows the home would be written otherwise."""
    import subprocess
    import sys

    quiet = {"MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "PYTEST_CURRENT_TEST", "CI"}
    quiet |= {"GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD"}
    env = {k: v for k, v in os.environ.items() if k not in quiet}

    def home_after(code: str, name: str) -> list:
        home = tmp_path / name
        run_env = {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
        run_env["FORECOURT_HOME"] = str(tmp_path / f"fc-{name}")
        subprocess.run([sys.executable, "-c", code], env=run_env, check=True, timeout=120)
        return sorted(p.name for p in home.rglob("*")) if home.exists() else []

    db = f"sqlite:///{tmp_path / 'control.db'}"
    control = f"import mlflow; mlflow.MlflowClient({db!r}).search_experiments()"
    assert "telemetry.json" in home_after(control, "control")  # the check is live
    ours = f"import rl_core, mlflow; mlflow.MlflowClient({db!r}).search_experiments()"
    assert home_after(ours, "ours") == []
    registry = "from rl_core.registry.tracking import client; client().search_experiments()"
    assert home_after(registry, "registry") == []
