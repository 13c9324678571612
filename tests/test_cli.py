"""The `forecourt` command line, run as a user runs it (a real subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FORECOURT = [sys.executable, "-m", "rl_core.cli"]


def run(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "FORECOURT_HOME": str(home)}
    proc = subprocess.run([*FORECOURT, *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def last_json(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_train_prints_one_json_object_last(tmp_path):
    proc = run("train", "--agent", "profit", "--steps", "30000", "--json", home=tmp_path)
    out = last_json(proc)
    for key in ("fraction_of_optimum", "env_steps", "wall_s", "updates", "checkpoint"):
        assert key in out
    assert 0.5 < out["fraction_of_optimum"] <= 1.0 + 1e-9
    assert out["env_steps"] >= 29_000
    assert out["exported"]["same_actions"] is True
    assert Path(out["checkpoint"]).is_file()
    assert Path(out["plot"]).stat().st_size > 10_000  # a real PNG, not an empty file

    ev = last_json(
        run(
            "evaluate",
            "--agent",
            "profit",
            "--checkpoint",
            out["checkpoint"],
            "--json",
            home=tmp_path,
        )
    )
    assert ev["agent_evaluation"]["fraction_of_optimum"] == pytest.approx(
        out["fraction_of_optimum"], abs=1e-9
    )
    assert ev["best_constant_price"]["fraction_of_optimum"] < 0.95  # the cycle beats flat


def test_synth_then_calibrate_recovers_the_market(tmp_path):
    run("data", "synth", "--days", "60", "--stations", "10", "--end", "2026-06-30", home=tmp_path)
    assert len(list((tmp_path / "store" / "pricing").iterdir())) == 60
    cal = last_json(run("calibrate", "--window", "60", "--json", home=tmp_path))
    assert cal["market"]["demand"]["price_slope"] == pytest.approx(10_000, rel=0.1)
    assert "yesterday-price effect detected" in cal["yesterday_effect"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--agent", "revenue"], "unknown agent 'revenue'"),
        (["evaluate", "--agent", "volume"], "unknown agent 'volume'"),
        (["train", "--market", "nowhere.json"], "unknown market 'nowhere.json'"),
        (["calibrate"], "holds no pricing data"),
        (["calibrate", "--end", "2026-01-31"], "no pricing data"),
        (["train", "--steps", "0"], "--steps must be a positive"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path, args, message):
    proc = run(*args, home=tmp_path / "empty", check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_nonsense_market_file_is_rejected(tmp_path):
    bad = tmp_path / "market.json"
    bad.write_text(json.dumps({"demand": {"price_slope": -5.0}, "price_min": 1.0}))
    proc = run("train", "--market", str(bad), home=tmp_path, check=False)
    assert proc.returncode == 2
    assert "price_slope=-5.0 is negative" in proc.stderr


def test_demo_runs_the_dag_on_two_days(tmp_path, monkeypatch):
    """`make demo` on a small budget: the real DAG through `airflow dags test`, twice."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    proc = run(
        "demo", "--trials", "1", "--env-steps", "40000", "--stations", "8", "--json",
        home=tmp_path,
    )  # fmt: skip
    out = last_json(proc)
    assert [d["state"] for d in out["days"]] == ["success", "success"]
    assert [d["status"] for d in out["days"]] == ["complete", "complete"]
    for day in out["days"]:
        assert Path(day["report"]).is_file()
    # the human output (stderr under --json) names tasks as they finish and the decisions
    assert "validate done" in proc.stderr and "profit.train_trial[0] done" in proc.stderr
    assert proc.stderr.count("decision:") == 4  # 2 agents x 2 days
    assert (tmp_path / "airflow" / "airflow.db").is_file()  # Airflow's state in its home
    assert (tmp_path / "mlflow" / "mlflow.db").is_file()  # the registry in FORECOURT_HOME
