"""The step contract: `forecourt pipeline step NAME --plan URI [--agent A] [--trial N]`.

Every DAG step reads its inputs from the run folder by URI and writes its result there, so
it can run in another process or machine: here as a real subprocess, and with the store
and the run folder on S3 (a moto server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from rl_core.errors import ForecourtError
from rl_core.pipeline import runfolder, steps
from rl_core.pipeline.contract import STEPS, TORCH_STEPS, StepError, job, run_step
from rl_core.pipeline.params import RunParams
from rl_core.pipeline.plan import Plan
from rl_core.pipeline.report import collect, write_run_report
from rl_core.pipeline.settings import SettingsError, preflight

DAY = date(2026, 3, 10)
FORECOURT = str(Path(sys.executable).with_name("forecourt"))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECOURT_HOME", str(tmp_path / "forecourt"))
    for key in ("FORECOURT_METRICS", "FORECOURT_RUNS", "FORECOURT_STORE", "FORECOURT_RUNNER"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path / "forecourt"


def _seeded_plan(store: str, runs: str | None = None, **params) -> Plan:
    from rl_core.pipeline.demo import seed

    seed(store, DAY, days=1, stations=4)
    conf = {"trials": 2, "env_steps": 10_000, "calibration_days": 30, **params}
    return steps.plan_run(conf, DAY, "manual__contract", store=store, runs=runs)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FORECOURT, "pipeline", "step", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_plan_round_trips_and_names_a_missing_plan(home):
    plan = Plan.new(RunParams(trials=3), DAY, "scheduled__2026-03-11T02:00:00+00:00")
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert plan.folder.endswith("/runs/2026-03-10/scheduled__2026-03-11T02_00_00_00_00")
    plan.save()
    assert Plan.load(plan.uri) == plan and Plan.load(plan.folder) == plan
    with pytest.raises(ForecourtError, match="no run plan at .*nowhere.*plan_run"):
        Plan.load(str(home / "nowhere" / "plan.json"))
    with pytest.raises(ForecourtError, match="missing run_id"):
        Plan.from_dict({"day": "2026-03-10"})


def test_steps_refuse_wrong_arguments(home):
    plan = Plan.new(RunParams(), DAY, "r1")
    plan.save()
    with pytest.raises(StepError, match="unknown step 'train'"):
        run_step("train", plan.uri)
    with pytest.raises(StepError, match="train_trial needs --agent"):
        run_step("train_trial", plan.uri, trial="0")
    with pytest.raises(StepError, match="calibrate takes no --agent"):
        run_step("calibrate", plan.uri, agent="profit")
    with pytest.raises(StepError, match="pick_best takes no --trial"):
        run_step("pick_best", plan.uri, agent="profit", trial="1")
    with pytest.raises(StepError, match="'x' is not a trial number"):
        run_step("train_trial", plan.uri, agent="profit", trial="x")
    assert job("validate", plan.uri) == {
        "step": "validate",
        "plan": plan.uri,
        "agent": "-",
        "trial": "-",
    }


def test_the_dag_and_the_contract_agree_on_the_torch_steps():
    import ast

    tree = ast.parse(Path("dags/forecourt_daily_retrain.py").read_text())
    found = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "TORCH_STEPS"
    )
    assert tuple(found) == TORCH_STEPS
    assert set(TORCH_STEPS) <= set(STEPS)


def test_a_step_in_a_subprocess_prints_its_result_last_and_records_it(home):
    plan = _seeded_plan(str(home / "store"))
    done = _cli("validate", "--plan", plan.uri)
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["valid"] is True and last["day"] == "2026-03-10"
    assert runfolder.load(runfolder.join(plan.folder, "steps"), "validate.json") == last


def test_a_failed_step_is_recorded_and_named_by_the_report(home):
    """calibrate before validate: a clear error, a .failed.json, and a report that says so."""
    plan = _seeded_plan(str(home / "store"))
    done = _cli("calibrate", "--plan", plan.uri)
    assert done.returncode == 2
    assert "validation.json is missing: run 'validate' first" in done.stderr
    failed = runfolder.load(runfolder.join(plan.folder, "steps"), "calibrate.failed.json")
    assert failed["step"] == "calibrate" and "MissingInputError" in failed["error"]
    run = collect(plan.folder)
    assert run["status"].startswith("failed at calibrate: MissingInputError")
    out = write_run_report(plan.uri)
    assert "## Failed steps" in Path(out["report"]).read_text()
    # the step succeeds once its input is there, and its failure record is gone
    assert _cli("validate", "--plan", plan.uri).returncode == 0
    assert _cli("calibrate", "--plan", plan.uri).returncode == 0
    assert collect(plan.folder)["failed"] == []


def test_a_killed_task_is_named_by_the_failure_callback_record(home):
    from rl_core.pipeline.notify import task_failed

    plan = _seeded_plan(str(home / "store"))
    task_failed(
        dag_id="forecourt_daily_retrain",
        run_id=plan.run_id,
        task_id="profit.train_trial",
        map_index=1,
        error="AirflowException: Batch job abc FAILED: Essential container exited (137)",
        plan=plan.uri,
    )
    run = collect(plan.folder)
    assert run["status"].startswith("failed at profit.train_trial[1]: AirflowException: Batch")
    from rl_core.telemetry.emit import read_local

    write_run_report(plan.folder)
    assert [p["value"] for p in read_local("RunFailedTasks")] == [1.0]


def test_settings_name_the_missing_terraform_output(home, monkeypatch):
    monkeypatch.setenv("FORECOURT_RUNNER", "batch")
    monkeypatch.delenv("FORECOURT_BATCH_JOB_QUEUE", raising=False)
    monkeypatch.setenv("FORECOURT_BATCH_JOB_DEFINITION", "forecourt-dev-training")
    with pytest.raises(SettingsError) as err:
        preflight()
    text = str(err.value)
    assert "FORECOURT_BATCH_JOB_QUEUE is not set" in text and "`batch_job_queue_name`" in text
    assert "FORECOURT_STORE=" in text and "`store_uri`" in text  # a worker path, not S3
    assert "FORECOURT_MLFLOW_TRACKING_URI is not set" in text
    monkeypatch.setenv("FORECOURT_RUNNER", "ecs")
    with pytest.raises(SettingsError, match="FORECOURT_RUNNER='ecs'"):
        preflight()


def test_an_unreachable_registry_stops_the_run_before_anything_is_registered(home, monkeypatch):
    from conftest import free_port

    monkeypatch.setenv("FORECOURT_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SettingsError, match=r"MLflow tracking server http://127\.0\.0\.1:\d+ "):
        preflight()
    plan = Plan.new(RunParams(), DAY, "r1")
    plan.save()
    with pytest.raises(ForecourtError, match="unreachable.*Nothing was registered"):
        run_step("register_challenger", plan.uri, agent="profit")
    failed = runfolder.load(
        runfolder.join(plan.folder, "steps"), "register_challenger.profit.failed.json"
    )
    assert "RegistryUnreachableError" in failed["error"]


def test_the_whole_search_with_store_and_run_folder_on_s3(aws, home, monkeypatch):
    """validate -> calibrate -> plan_trials -> train_trial x2 -> pick_best, every step
    reading and writing s3:// (moto) only; the trial folders are published whole."""
    import boto3

    boto3.client("s3").create_bucket(
        Bucket="fc-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    monkeypatch.setenv("FORECOURT_METRICS", "off")
    plan = _seeded_plan("s3://fc-data/store", runs="s3://fc-data/runs")
    assert plan.uri == "s3://fc-data/runs/2026-03-10/manual__contract/plan.json"
    run_step("validate", plan.uri)
    assert run_step("calibrate", plan.uri)["market_file"].startswith("s3://fc-data/runs/")
    from rl_core.pipeline.contract import trial_jobs

    jobs = trial_jobs(plan.uri, "profit")
    assert [j["trial"] for j in jobs] == ["0", "1"] and {j["agent"] for j in jobs} == {"profit"}
    for j in jobs:
        run_step(**j)
    best = run_step("pick_best", plan.uri, agent="profit")
    assert best["bundle"].startswith("s3://fc-data/runs/") and best["fraction_of_optimum"] > 0.5
    keys = {
        o["Key"]
        for o in boto3.client("s3").list_objects_v2(Bucket="fc-data", Prefix="runs/")["Contents"]
    }
    prefix = "runs/2026-03-10/manual__contract/"
    for name in (
        "plan.json",
        "validation.json",
        "market.json",
        "profit/trials.json",
        "profit/trial-01/trial.json",
        "profit/trial-01/dqn-profit.pt",
        "profit/trial-01/bundle/bundle.json",
        "profit/search.json",
        "steps/pick_best.profit.json",
        "steps/train_trial.profit.trial-00.json",
    ):
        assert prefix + name in keys, name
    assert not any(".tmp" in k for k in keys)
