"""The rehearsed AWS daily run (runner batch) against the local runner, on the same data.

    .venv/bin/python -m benchmarks.bench_rehearsal [--trials 2] [--env-steps 60000]

Side by side, the same conf and the same seeded history (8 stations, day 1 of the
rehearsal's three deliveries):
- `batch`: `make rehearse`'s first day: MWAA's Airflow 3.3.1 (no torch), every torch step an
  AWS Batch job on moto, run in the training environment; store and run folders on moto S3;
  MLflow over HTTP; metrics to CloudWatch (moto);
- `local`: the project's Airflow, `airflow dags test`, every step in-process, local files.
Both run the DAG through `airflow dags test`, one task at a time, so the walls compare.
Per batch step: the Airflow task's wall, the job's own process wall (what the step costs
wherever it runs), their difference (the batch runner's overhead here: submit, the 2 s
status poll the rehearsal sets, log fetch, process start with imports), and the same
task under the local runner. On AWS add the real costs this cannot show: MWAA polls every
30 s (FORECOURT_BATCH_POLL_S), and a GPU instance starts from 0 vCPUs (minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, log, machine_facts, median  # noqa: E402

NAME = "rehearsal"
STATIONS = 8


def run_local(root: Path, day: date, conf: dict) -> dict:
    from rl_core.pipeline.airflow_env import airflow_bin, airflow_env
    from rl_core.pipeline.demo import find_report, run_day, seed

    home = root / "local"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["FORECOURT_HOME"] = str(home)
    os.environ["AIRFLOW_HOME"] = str(home / "airflow")
    seed(str(home / "store"), day, 3, STATIONS)  # as the rehearsal seeds it
    env = airflow_env({"FORECOURT_SENSOR_MODE": "poke"})
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
    outcome = run_day(day, conf, env, home / "dags-test.log", echo=lambda s: log(s))
    report = find_report(day)
    return {**outcome, "status": report["status"] if report else None}


def _task_id(command: list[str]) -> str:
    """forecourt pipeline step NAME --plan P --agent A --trial N -> the DAG's task id."""
    step, agent, trial = command[3], command[7], command[9]
    task = step if agent == "-" else f"{agent}.{step}"
    return task if trial == "-" else f"{task}[{trial}]"


def per_step(batch_day: dict, local: dict) -> dict:
    gaps = {t["task"]: t["gap_s"] for t in batch_day["dag"]["tasks"]}
    local_gaps = {t["task"]: t["gap_s"] for t in local["tasks"]}
    rows = defaultdict(list)
    for job in batch_day["batch_jobs"]:
        task = _task_id(job["command"])
        step = job["command"][3]
        rows[step].append(
            {
                "task": task,
                "batch_task_s": gaps.get(task),
                "job_s": round(job["seconds"], 2),
                "overhead_s": round(gaps[task] - job["seconds"], 2) if task in gaps else None,
                "local_task_s": local_gaps.get(task),
            }
        )
    return {
        step: {
            "jobs": len(r),
            "median_batch_task_s": median(x["batch_task_s"] for x in r),
            "median_job_s": median(x["job_s"] for x in r),
            "median_overhead_s": median(x["overhead_s"] for x in r),
            "median_local_task_s": median(x["local_task_s"] for x in r),
            "rows": r,
        }
        for step, r in rows.items()
    }


def run(argv: list[str] | None = None) -> dict:
    from rehearsal.run import DAY, rehearse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=2)
    p.add_argument("--env-steps", type=int, default=60_000)
    p.add_argument("--root", type=Path, default=Path("/tmp/forecourt-bench-rehearsal"))
    args = p.parse_args(argv)
    os.environ.setdefault("MPLCONFIGDIR", "/tmp/forecourt-mpl")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    conf = {"trials": args.trials, "env_steps": args.env_steps, "calibration_days": 30}
    saved = {k: os.environ.get(k) for k in os.environ if k.startswith(("AWS_", "FORECOURT_"))}
    shutil.rmtree(args.root, ignore_errors=True)
    try:
        log(f"[{NAME}] local runner: {conf}")
        local = run_local(args.root, DAY, conf)
        log(f"[{NAME}] rehearsal (batch runner on moto): {conf}")
        rehearsed = rehearse(
            args.root / "batch",
            args.trials,
            args.env_steps,
            STATIONS,
            say=lambda s: log(s),
        )
    finally:
        for k in [k for k in os.environ if k.startswith(("AWS_", "FORECOURT_"))]:
            os.environ.pop(k)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    day1 = rehearsed["days"][str(DAY)]
    steps = per_step(day1, local)
    return {
        "name": NAME,
        "machine": machine_facts(),
        "workload": {**conf, "agents": 2, "stations": STATIONS, "day": str(DAY)},
        "local": {k: local[k] for k in ("wall_s", "state", "status")},
        "batch": {
            "wall_s": day1["dag"]["wall_s"],
            "state": day1["dag"]["state"],
            "status": day1["report_status"],
            "jobs": len(day1["batch_jobs"]),
            "job_seconds": round(sum(j["seconds"] for j in day1["batch_jobs"]), 1),
        },
        "batch_over_local": round(day1["dag"]["wall_s"] / local["wall_s"], 3),
        "per_step": {s: {k: v for k, v in d.items() if k != "rows"} for s, d in steps.items()},
        "rehearsal_timings_s": rehearsed["timings_s"],
        "rehearsal_wall_s": rehearsed["wall_s"],
    }


if __name__ == "__main__":
    emit(NAME, run())
