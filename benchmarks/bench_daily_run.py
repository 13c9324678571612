"""The whole daily run on embedded defaults (2 agents x 8 trials x 600k env steps), timed.

    .venv/bin/python -m benchmarks.bench_daily_run [--trials 8] [--env-steps 600000]
                                                   [--stations 20] [--skip-airflow | --skip-direct]

Side by side on the same seeded data:
- `airflow`: the real DAG through `airflow dags test` (SQLite, tasks in-process, one at a
  time: the local runner), with the per-task breakdown read from Airflow's own metadata
  DB (task_instance.duration), and the orchestration overhead (wall minus task time);
- `direct`: the same rl_core.pipeline steps called in order in one Python process, no
  Airflow: the floor the orchestrated run is compared with (ratio = airflow / direct).
Target (issue 5): the Airflow run within 10 minutes on 2 cores (`within_target`; with
`--skip-airflow` it is null and `direct_within_target` holds the direct run's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, log, machine_facts  # noqa: E402

NAME = "daily_run"
DAY = date(2026, 3, 10)
TARGET_S = 600.0


def _fresh_home(root: Path, name: str) -> Path:
    home = root / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["FORECOURT_HOME"] = str(home)
    os.environ["AIRFLOW_HOME"] = str(home / "airflow")
    return home


def run_airflow(root: Path, conf: dict, stations: int) -> dict:
    import subprocess

    from rl_core.pipeline.airflow_env import airflow_bin, airflow_env
    from rl_core.pipeline.demo import find_report, run_day, seed

    home = _fresh_home(root, "airflow")
    seed(str(home / "store"), DAY, 1, stations)
    env = airflow_env({"FORECOURT_SENSOR_MODE": "poke"})
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
    log(f"[{NAME}] airflow dags test: {conf}")
    outcome = run_day(
        DAY, {**conf, "day": str(DAY)}, env, home / "dags-test.log", echo=lambda s: log(s)
    )
    report = find_report(DAY)
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        rows = db.execute(
            "SELECT task_id, map_index, duration, state FROM task_instance"
        ).fetchall()
    per_task: dict[str, dict] = defaultdict(lambda: {"instances": 0, "total_s": 0.0})
    for task_id, _, duration, state in rows:
        entry = per_task[task_id]
        entry["instances"] += 1
        entry["total_s"] += float(duration or 0.0)
        entry.setdefault("states", set()).add(state)
    breakdown = {
        task: {
            "instances": e["instances"],
            "total_s": round(e["total_s"], 2),
            "mean_s": round(e["total_s"] / e["instances"], 2),
            "states": sorted(e["states"]),
        }
        for task, e in sorted(per_task.items(), key=lambda kv: -kv[1]["total_s"])
    }
    task_s = sum(e["total_s"] for e in per_task.values())
    return {
        "wall_s": outcome["wall_s"],
        "state": outcome["state"],
        "status": report["status"] if report else None,
        "task_seconds": round(task_s, 1),
        "orchestration_overhead_s": round(outcome["wall_s"] - task_s, 1),
        "per_task": breakdown,
        "best": _best(report),
    }


def run_direct(root: Path, conf: dict, stations: int) -> dict:
    from rl_core.pipeline import steps
    from rl_core.pipeline.contract import run_step, trial_jobs
    from rl_core.pipeline.demo import seed
    from rl_core.pipeline.report import write_run_report

    home = _fresh_home(root, "direct")
    seed(str(home / "store"), DAY, 1, stations)
    timings: dict[str, float] = defaultdict(float)

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        timings[name] += time.perf_counter() - t0
        return out

    log(f"[{NAME}] direct (no Airflow): {conf}")
    t0 = time.perf_counter()
    plan = timed("plan_run", steps.plan_run, {**conf}, DAY, "direct")
    timed("wait_for_delivery", steps.delivery_files, plan)
    timed("validate", run_step, "validate", plan.uri)
    timed("calibrate", run_step, "calibrate", plan.uri)
    for agent in ("demand", "profit"):
        jobs = timed(f"{agent}.plan_trials", trial_jobs, plan.uri, agent)
        for job in jobs:
            timed(f"{agent}.train_trial", lambda j: run_step(**j), job)
        for name in ("pick_best", "register_challenger", "evaluate_vs_champion", "promote_or_keep"):
            timed(f"{agent}.{name}", run_step, name, plan.uri, agent)
        log(f"[{NAME}] direct: {agent} done at {time.perf_counter() - t0:.0f} s")
    timed("write_recommendations", run_step, "write_recommendations", plan.uri)
    timed("run_report", write_run_report, plan.uri)
    from rl_core.pipeline.report import collect

    return {
        "wall_s": round(time.perf_counter() - t0, 1),
        "per_task_s": {k: round(v, 2) for k, v in sorted(timings.items(), key=lambda kv: -kv[1])},
        "best": _best(collect(plan.folder)),
    }


def _best(report: dict | None) -> dict:
    if not report:
        return {}
    return {
        agent: round(a["search"]["best"]["fraction_of_optimum"], 4)
        for agent, a in report.get("agents", {}).items()
        if a.get("search")
    }


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--env-steps", type=int, default=600_000)
    p.add_argument("--stations", type=int, default=20)
    skip = p.add_mutually_exclusive_group()
    skip.add_argument("--skip-direct", action="store_true", help="time the Airflow run only")
    skip.add_argument("--skip-airflow", action="store_true", help="time the direct run only")
    p.add_argument("--root", type=Path, default=Path("/tmp/forecourt-bench-daily"))
    args = p.parse_args(argv)
    os.environ.setdefault("MPLCONFIGDIR", "/tmp/forecourt-mpl")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    conf = {"trials": args.trials, "env_steps": args.env_steps}
    saved = {k: os.environ.get(k) for k in ("FORECOURT_HOME", "AIRFLOW_HOME")}
    try:
        airflow = None if args.skip_airflow else run_airflow(args.root, conf, args.stations)
        direct = None if args.skip_direct else run_direct(args.root, conf, args.stations)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {
        "name": NAME,
        "machine": machine_facts(),
        "workload": {**conf, "agents": 2, "stations": args.stations, "day": str(DAY)},
        "target_s": TARGET_S,
        "airflow": airflow,
        "direct": direct,
        "within_target": (
            airflow["wall_s"] <= TARGET_S and airflow["state"] == "success" if airflow else None
        ),
        "direct_within_target": direct["wall_s"] <= TARGET_S if direct else None,
        "airflow_over_direct": (
            round(airflow["wall_s"] / direct["wall_s"], 3) if airflow and direct else None
        ),
    }


if __name__ == "__main__":
    emit(NAME, run())
