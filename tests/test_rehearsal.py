"""The offline rehearsal of the AWS path (`make rehearse`), run whole and checked.

It runs in its own process, as a user runs it: its moto server lives in that process,
apart from the session's moto fixture. What it proves and what only a real account can:
docs/deploy.md ("The offline rehearsal").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rl_core.pipeline.contract import TORCH_STEPS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.rehearsal, pytest.mark.mwaa, pytest.mark.terraform]
TRIALS = 2


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("rehearsal")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FORECOURT_"))}
    env.update(FORECOURT_HOME=str(work / "home"), AIRFLOW_HOME=str(work / "home" / "airflow"))
    out = subprocess.run(
        [sys.executable, "-m", "rehearsal", "--workdir", str(work), "--trials", str(TRIALS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(out.stdout[-6000:])
    assert out.returncode == 0, f"rehearsal failed:\n{out.stdout[-4000:]}\n{out.stderr[-6000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _days(rehearsed) -> list[dict]:
    return [rehearsed["days"][d] for d in sorted(rehearsed["days"])]


def test_day_one_runs_on_batch_with_state_on_s3_and_mlflow(rehearsed):
    day1 = _days(rehearsed)[0]
    assert day1["airflow"] == "3.3.1"
    assert day1["dag"]["state"] == "success" and day1["report_status"] == "complete"
    assert rehearsed["outputs"]["store_uri"].startswith("s3://")
    assert rehearsed["outputs"]["runs_uri"].startswith("s3://")
    jobs = day1["batch_jobs"]
    # every torch step ran as a Batch job: 2 agents x (trials + register, evaluate,
    # promote, deploy) + tomorrow's prices, each the job definition's command, each succeeded
    assert len(jobs) == 2 * (TRIALS + 4) + 1
    assert all(j["status"] == "SUCCEEDED" and j["exit_code"] == 0 for j in jobs)
    assert all(j["command"][:3] == ["forecourt", "pipeline", "step"] for j in jobs)
    assert {j["command"][3] for j in jobs} == set(TORCH_STEPS)
    assert all(j["command"][5].startswith("s3://") for j in jobs)  # --plan on S3
    decisions = day1["decisions"]
    for agent in ("demand", "profit"):
        assert decisions[agent]["versions"] == ["1"]
        promoted = decisions[agent]["decisions"]["1"] == "promoted"
        assert decisions[agent]["champion"] == ("1" if promoted else None)
    recs = day1["recommendations"]
    assert recs["written"] and recs["uri"].startswith("s3://")
    assert recs["agents"]["profit"]["champion_version"] == decisions["profit"]["champion"]
    _endpoints_serve_the_champions(day1)


def _endpoints_serve_the_champions(day: dict) -> None:
    """The deploy step put each champion on its SageMaker endpoint (moto) and nothing else."""
    for agent, seen in day["decisions"].items():
        endpoint = day["endpoints"][agent]
        if seen["champion"] is None:
            assert endpoint is None, endpoint
        else:
            assert endpoint["status"] == "InService", endpoint
            assert endpoint["version"] == seen["champion"], (agent, endpoint, seen)


def test_mwaas_floor_airflow_runs_the_day_on_batch_too(rehearsed):
    day1, day2 = _days(rehearsed)[:2]
    assert day2["airflow"] == "3.0.6" and day2["dag"]["state"] == "success"
    assert day2["report_status"] == "complete"
    assert len(day2["batch_jobs"]) == 2 * (TRIALS + 4) + 1
    assert all(j["status"] == "SUCCEEDED" for j in day2["batch_jobs"])
    for agent in ("demand", "profit"):  # day 2's challenger registered as version 2
        assert day2["decisions"][agent]["versions"] == ["1", "2"]
    assert day2["recommendations"]["day"] == "2026-03-12"
    _endpoints_serve_the_champions(day2)  # a day-2 promotion is an UpdateEndpoint


def test_a_job_killed_midway_fails_the_run_and_changes_nothing(rehearsed):
    day2, day3 = _days(rehearsed)[1:]
    assert day3["dag"]["state"] == "failed"
    assert len(day3["killed"]) == 3  # the try and its 2 retries
    agent, step = day3["sabotage"].split(".")
    assert day3["report_status"].startswith(f"failed at {agent}.{step}")
    assert [f["step"] for f in day3["failed"]] == [f"{agent}.{step}"]
    # no half-registered model, the champion untouched; the other agent carried on
    assert day3["decisions"][agent] == day2["decisions"][agent]
    assert day3["decisions"]["demand"]["versions"] == ["1", "2", "3"]
    assert day3["endpoints"][agent] == day2["endpoints"][agent]  # still serving
    _endpoints_serve_the_champions(day3)


def test_every_metric_the_dashboard_plots_reached_cloudwatch(rehearsed):
    metrics = rehearsed["metrics_on_dashboard"]
    assert len(metrics) >= 10
    assert {name for name, points in metrics.items() if points == 0} == set()
