"""The daily DAG: its shape (parsed by Airflow's own DagBag) and real runs of it through
`airflow dags test` on SQLite, on a tiny training budget.

The runs share one Forecourt home, in order: day 1 establishes a profit champion, day 2
compares a challenger with it, day 3 delivers a bad file that must be quarantined with
the champion untouched and no prices published.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from rl_core.pipeline.airflow_env import airflow_bin, airflow_env
from rl_core.pipeline.demo import find_report, run_day, seed
from rl_core.pipeline.params import RunParams

ROOT = Path(__file__).resolve().parents[1]
DAY1 = date(2026, 3, 10)
DAY2, DAY3 = DAY1 + timedelta(days=1), DAY1 + timedelta(days=2)
CONF = {"trials": 2, "env_steps": 60_000}  # ~1-4 s per trial; enough to beat a flat price

PARSE = """
import json, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
import_s = time.perf_counter() - t0
t0 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
parse_s = time.perf_counter() - t0
dag = bag.dags.get("forecourt_daily_retrain")
info = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "parse_s": parse_s,
        "import_s": import_s,
        "heavy": sorted(m for m in ("torch", "mlflow", "great_expectations", "pandas")
                        if m in sys.modules),
        "rl_core": sorted(m for m in sys.modules if m.startswith("rl_core"))}
if dag is not None:
    info.update(
        task_ids=sorted(dag.task_ids), max_active_runs=dag.max_active_runs, catchup=dag.catchup,
        params={k: dag.params.get_param(k).value for k in dag.params},
        retries={t.task_id: t.retries for t in dag.tasks},
        trial_cap=dag.get_task("demand.train_trial").max_active_tis_per_dagrun,
        teardown=[t.task_id for t in dag.tasks if t.is_teardown],
        timetable=type(dag.timetable).__name__,
        operators={t.task_id: getattr(t, "operator_class", type(t)).__name__ for t in dag.tasks},
        batch={
            t.task_id: {
                "job_queue": t.job_queue, "job_definition": t.job_definition,
                "deferrable": t.deferrable, "awslogs_enabled": t.awslogs_enabled,
                "parameters": {k: v if isinstance(v, str) else type(v).__name__
                               for k, v in t.parameters.items()},
            }
            for t in dag.tasks if type(t).__name__ == "BatchOperator"
        },
        mapped_batch={
            t.task_id: {**t.partial_kwargs, "expand": sorted(t.expand_input.value)}
            for t in dag.tasks
            if type(t).__name__ == "MappedOperator" and t.operator_class.__name__ == "BatchOperator"
        },
    )
print(json.dumps(info, default=str))
"""


def _parse(tmp_path_factory, **extra: str) -> dict:
    env = airflow_env({"AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow-parse")), **extra})
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PARSE, str(ROOT / "dags")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    info = json.loads(out.stdout.strip().splitlines()[-1])
    total = time.perf_counter() - t0
    print(
        f"\nDAG parse: {info['parse_s']:.2f} s in DagBag, after {info['import_s']:.2f} s "
        f"importing Airflow ({total:.1f} s with interpreter start)"
    )
    return info


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """The DAG as Airflow's DagBag sees it, parsed in a fresh interpreter."""
    return _parse(tmp_path_factory)


def test_the_batch_runner_sends_every_torch_step_to_aws_batch(parsed, tmp_path_factory):
    """FORECOURT_RUNNER=batch (as MWAA's config sets it): the same tasks, but the torch steps
    are BatchOperators on Terraform's queue and job definition, deferrable, whose job
    parameters are the step contract's."""
    from rl_core.pipeline.contract import TORCH_STEPS

    batch = _parse(
        tmp_path_factory,
        AIRFLOW__FORECOURT__RUNNER="batch",  # as MWAA passes forecourt.runner
        AIRFLOW__FORECOURT__BATCH_JOB_QUEUE="forecourt-dev-training",
        AIRFLOW__FORECOURT__BATCH_JOB_DEFINITION="forecourt-dev-training",
    )
    assert batch["errors"] == {} and batch["task_ids"] == parsed["task_ids"]
    assert batch["retries"] == parsed["retries"]
    assert "torch" not in batch["heavy"] and batch["rl_core"] == []
    on_batch = {t for t, op in batch["operators"].items() if op == "BatchOperator"}
    wanted = {t for t in parsed["task_ids"] if t.rsplit(".", 1)[-1] in TORCH_STEPS}
    assert on_batch == wanted and len(wanted) == 2 * 5 + 1
    assert not any(op == "BatchOperator" for op in parsed["operators"].values())
    for task_id, op in batch["batch"].items():
        assert op["job_queue"] == op["job_definition"] == "forecourt-dev-training"
        assert op["deferrable"] is True and op["awslogs_enabled"] is True
        agent = task_id.split(".")[0] if "." in task_id else "-"
        assert op["parameters"] == {
            "step": task_id.rsplit(".", 1)[-1],
            "plan": "PlainXComArg",  # plan_run's return value: the plan's URI
            "agent": agent,
            "trial": "-",
        }
    for agent in ("demand", "profit"):
        trials = batch["mapped_batch"][f"{agent}.train_trial"]
        assert (
            trials["expand"] == ["parameters"] and trials["job_queue"] == "forecourt-dev-training"
        )


def test_dag_imports_without_errors_and_stays_light(parsed):
    assert parsed["errors"] == {}
    assert "task_ids" in parsed, "forecourt_daily_retrain not found in dags/"
    # wiring only: parsing imports no ML library and no rl_core module at all
    assert parsed["heavy"] == [] and parsed["rl_core"] == []


def test_dag_shape(parsed):
    expected = {"plan_run", "wait_for_delivery", "validate", "calibrate"}
    for agent in ("demand", "profit"):
        expected |= {
            f"{agent}.{t}"
            for t in (
                "plan_trials",
                "train_trial",
                "pick_best",
                "register_challenger",
                "evaluate_vs_champion",
                "promote_or_keep",
                "deploy_champion",
            )
        }
    expected |= {"write_recommendations", "run_report"}
    assert set(parsed["task_ids"]) == expected
    assert parsed["max_active_runs"] == 1 and parsed["catchup"] is False
    assert parsed["timetable"] == "CronDataIntervalTimetable"
    assert parsed["trial_cap"] == 4
    assert parsed["teardown"] == ["run_report"]
    # no retry where a retry cannot help: bad parameters, bad data, a changed champion, a
    # failed deploy (the alias was rolled back) or a busy endpoint
    for task in (
        "plan_run",
        "wait_for_delivery",
        "validate",
        "demand.promote_or_keep",
        "profit.deploy_champion",
    ):
        assert parsed["retries"][task] == 0, task
    assert parsed["retries"]["demand.train_trial"] == 2
    assert parsed["retries"]["calibrate"] == 2


def test_trigger_form_matches_the_run_parameters(parsed):
    """The form's fields and defaults are RunParams' (the DAG cannot import it: too heavy)."""
    defaults = RunParams().to_dict()
    assert set(parsed["params"]) == {f.name for f in fields(RunParams)}
    for name, value in parsed["params"].items():
        expected = defaults[name]
        assert value == ("" if expected == "" else expected), name


# ---- real runs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Seed a store, then run day 1 and day 2 through `airflow dags test`."""
    home = tmp_path_factory.mktemp("dag-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORECOURT_HOME", str(home))
        mp.setenv("AIRFLOW_HOME", str(home / "airflow"))
        env = airflow_env({"FORECOURT_SENSOR_MODE": "poke"})
        store = str(home / "store")
        seed(store, DAY1, 2, stations=12)
        migrate = subprocess.run(
            [airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
        )
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        out = {"home": home, "store": store, "env": env, "mp": mp}
        for day in (DAY1, DAY2):
            log = home / f"{day}.log"
            out[day] = run_day(day, {**CONF, "day": str(day)}, env, log, echo=lambda _: None)
            out[day]["log"] = log
            out[day]["report"] = find_report(day)
        yield out


def _champion(agent):
    from rl_core.registry import champion_version

    return champion_version(agent)


def test_day_one_runs_the_whole_loop(runs):
    run = runs[DAY1]
    assert run["rc"] == 0 and run["state"] == "success", run["log"].read_text()[-4000:]
    report = run["report"]
    assert report["status"] == "complete"
    assert report["validation"]["valid"] and report["validation"]["rows"] == 12
    # the day was accepted into the store
    assert (Path(runs["store"]) / "pricing" / f"date={DAY1}" / "pricing.parquet").is_file()
    for agent in ("demand", "profit"):
        a = report["agents"][agent]
        assert len(a["trials"]) == CONF["trials"]
        # the budget reached the trials (rounded down to whole vector steps of 64 markets)
        assert all(0 <= CONF["env_steps"] - t["env_steps"] < 64 for t in a["trials"])
        best = a["search"]["best"]
        assert best["total_reward"] == max(t["total_reward"] for t in a["trials"])
        assert a["registered"]["version"] == "1"
        assert a["decision"]["baseline"].startswith("best constant price")
    # a profit agent beats the best flat price on this market (by ~4%): promoted and serving
    profit = report["agents"]["profit"]
    assert profit["decision"]["outcome"] == "promoted", profit["decision"]["summary"]
    assert profit["promotion"]["action"] == "promoted"
    assert _champion("profit") is not None
    recs = pd.read_parquet(
        Path(runs["store"]) / "recommendations" / f"date={DAY2}" / "recommendations.parquet"
    )
    served = recs[recs["agent"] == "profit"]
    assert len(served) == 12 and served["price"].between(1.0, 3.0).all()


def test_day_two_compares_a_challenger_with_the_champion(runs):
    run = runs[DAY2]
    assert run["rc"] == 0 and run["state"] == "success", run["log"].read_text()[-4000:]
    decision = run["report"]["agents"]["profit"]["decision"]
    assert decision["baseline"] == "champion v1"
    assert decision["challenger_version"] == "2"
    assert decision["outcome"] in ("promoted", "kept")
    expected = "2" if decision["outcome"] == "promoted" else "1"
    assert _champion("profit") == expected
    # the decision is recorded on the challenger's version with its evidence
    from rl_core.registry.tracking import client, model_name

    tags = client().get_model_version(model_name("profit"), "2").tags
    assert tags["forecourt.decision"] == decision["outcome"]
    assert tags["forecourt.decision.baseline"] == "champion v1"
    # telemetry: one point per trial and agent, per day
    from rl_core.telemetry import read_local

    assert len(read_local("TrialTotalReward")) == 2 * 2 * CONF["trials"]


def test_a_bad_day_is_quarantined_and_changes_nothing(runs):
    from rl_core.data.ingest import write_landing
    from rl_core.data.store import read_day

    champion_before = _champion("profit")
    bad = read_day(runs["store"], DAY2).copy()
    bad["date"] = pd.Timestamp(DAY3)
    bad.loc[bad.index[:3], "price"] = -1.0  # impossible prices
    write_landing(runs["store"], {DAY3: bad})
    log = runs["home"] / f"{DAY3}.log"
    run = run_day(DAY3, {**CONF, "day": str(DAY3)}, runs["env"], log, echo=lambda _: None)
    text = log.read_text(errors="replace")
    assert run["state"] == "failed", text[-4000:]
    # the validation summary is in the task log, naming the failed check
    assert "validation FAILED" in text and "price_in_band" in text
    store = Path(runs["store"])
    assert list((store / "quarantine" / f"date={DAY3}").glob("*pricing.parquet"))
    assert not (store / "pricing" / f"date={DAY3}").exists()
    assert not (store / "recommendations" / f"date={DAY3 + timedelta(days=1)}").exists()
    assert _champion("profit") == champion_before
    report = find_report(DAY3)
    assert report["status"].startswith("stopped: the delivery failed validation")
    assert report["agents"] == {}  # nothing trained
    # the failure callback recorded it (SNS on AWS)
    failures = (runs["home"] / "notifications" / "failures.jsonl").read_text().splitlines()
    assert any(json.loads(line)["task"] == "validate" for line in failures)
