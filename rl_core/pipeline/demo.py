"""`forecourt demo` / `make demo`: the real daily DAG on embedded defaults.

Seeds a synthetic history into a fresh local store, delivers the last `days` days to
landing/, and runs `airflow dags test forecourt_daily_retrain` (SQLite, in-process) once
per day: the first day establishes the champions, the next compare challengers with
them. Prints each task as it finishes, then what happened, from the runs' reports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.pipeline.airflow_env import DAG_ID, airflow_bin, airflow_env, airflow_home
from rl_core.pipeline.runfolder import join, load, names

# the demo's own state, wiped at each start (the Airflow config and UI password stay)
STATE = ("store", "mlflow", "runs", "reports", "models", "telemetry", "notifications")
HISTORY_DAYS = 120
_END_TASK = re.compile(r"\[DAG TEST\] end task task_id=(\S+) map_index=(-?\d+)")
_RUN_DONE = re.compile(r"DagRun Finished: .*state=(\w+)")


def seed(store: str, first_day: date, days: int, stations: int, seed: int = 0) -> list[str]:
    """History up to the day before `first_day` in the store; `days` days from `first_day`
    delivered to landing/ (what the pricing feed would drop there)."""
    from rl_core.data.ingest import write_landing
    from rl_core.data.store import write_day
    from rl_core.market.synthetic import synthetic_network

    last = first_day + timedelta(days=days - 1)
    # stations differ in demand level and cost (issue 12), so tomorrow's prices should too
    history = synthetic_network(stations, seed).history(
        days=HISTORY_DAYS + days, start=first_day - timedelta(days=HISTORY_DAYS)
    )
    by_day = {d.date(): frame for d, frame in history.groupby("date")}
    for day, frame in by_day.items():
        if day < first_day:
            write_day(store, day, frame)
    return write_landing(store, {d: f for d, f in by_day.items() if first_day <= d <= last})


def run_day(
    day: date,
    conf: dict,
    env: dict,
    log_file: Path,
    echo=print,
    timeout_s: float = 3600,
    airflow: str | None = None,
) -> dict:
    """`airflow dags test` for `day` (with the project's Airflow, or `airflow`); echoes each
    finished task. Returns the run's outcome."""
    logical = f"{day + timedelta(days=1)}T02:00:00+00:00"  # the schedule's run for day D
    cmd = [airflow or airflow_bin(), "dags", "test", DAG_ID, logical, "--conf", json.dumps(conf)]
    started = time.perf_counter()
    last = started
    state = None
    tasks: list[dict] = []
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if (m := _END_TASK.search(line)) is not None:
                now = time.perf_counter()
                task = m.group(1) + (f"[{m.group(2)}]" if m.group(2) != "-1" else "")
                echo(f"     {now - started:6.1f} s  {task} done ({now - last:.1f} s)")
                # `dags test` runs one task at a time: the gap is that task's wall time
                tasks.append({"task": task, "gap_s": round(now - last, 2)})
                last = now
            elif (m := _RUN_DONE.search(line)) is not None:
                state = m.group(1)
            if time.perf_counter() - started > timeout_s:
                proc.kill()
                raise ForecourtError(
                    f"the run for {day} took over {timeout_s:.0f} s: see {log_file}"
                )
        proc.wait()
    return {
        "rc": proc.returncode,
        "state": state,
        "wall_s": round(time.perf_counter() - started, 1),
        "tasks": tasks,
    }


def find_report(day: date, runs: str | None = None) -> dict | None:
    """The newest run report for `day` under the runs root ($FORECOURT_RUNS by default; any
    URI, S3 included), newest by when its run was planned."""
    folder = join(runs or paths.runs_uri(), str(day))
    reports = [load(folder, name) for name in names(folder, "*/report.json")]
    reports = [r for r in reports if r]
    return max(reports, key=lambda r: r.get("plan", {}).get("planned_at", 0)) if reports else None


def run_demo(
    *, trials: int = 4, env_steps: int = 300_000, days: int = 2, stations: int = 20, quiet=False
) -> dict:
    if not 1 <= days <= 7:
        raise ForecourtError(f"--days {days}: run 1 to 7 consecutive days")
    say = (
        (lambda text: print(text, file=sys.stderr, flush=True))
        if quiet
        else (lambda text: print(text, flush=True))
    )
    home = paths.home()
    home.mkdir(parents=True, exist_ok=True)
    for name in STATE:
        shutil.rmtree(home / name, ignore_errors=True)
    env = airflow_env({"FORECOURT_SENSOR_MODE": "poke"})
    (airflow_home() / "airflow.db").unlink(missing_ok=True)
    store = paths.store_uri()
    last_day = date.today() - timedelta(days=1)
    first_day = last_day - timedelta(days=days - 1)
    say(f"Forecourt demo: the {DAG_ID} DAG, run by Airflow on {days} consecutive day(s)")
    say(f"  state in {home} (fresh); Airflow home {airflow_home()} (SQLite)")
    say(
        f"1. seeding {HISTORY_DAYS} days x {stations} stations of synthetic history into "
        f"{store}, and delivering {first_day}..{last_day} to landing/"
    )
    seed(store, first_day, days, stations)
    say("2. preparing the Airflow database (airflow db migrate)")
    migrate = subprocess.run(
        [airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True
    )
    if migrate.returncode != 0:
        raise ForecourtError(
            f"airflow db migrate failed:\n{migrate.stdout[-2000:]}{migrate.stderr[-2000:]}"
        )
    logs = home / "runs" / "demo-logs"
    logs.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for i in range(days):
        day = first_day + timedelta(days=i)
        conf = {"day": day.isoformat(), "trials": trials, "env_steps": env_steps}
        log_file = logs / f"{day}.log"
        say(
            f"{3 + i}. day {day}: airflow dags test {DAG_ID} ({trials} trials x "
            f"{env_steps:,} env steps per agent); log {log_file}"
        )
        outcome = run_day(day, conf, env, log_file, echo=say)
        report = find_report(day)
        outcomes.append({"day": day.isoformat(), **outcome, "report": report})
        if report is None:
            raise ForecourtError(f"the run for {day} wrote no report: see {log_file}")
        for line in summarise(report):
            say("   " + line)
        if outcome["rc"] != 0 or outcome["state"] != "success":
            raise ForecourtError(
                f"the run for {day} ended {outcome['state'] or 'abnormally'}: see {log_file}"
            )
    say("")
    say("Done. `make ui` shows these runs in the Airflow UI, with the Forecourt page.")
    return {
        "days": [
            {k: o[k] for k in ("day", "state", "wall_s")}
            | {"status": o["report"]["status"], "report": _report_path(o)}
            for o in outcomes
        ]
    }


def _report_path(outcome: dict) -> str:
    plan = outcome["report"]["plan"]
    return join(plan["folder"], "report.md")


def summarise(report: dict) -> list[str]:
    """The few lines a person wants from a run report."""
    lines = [f"status: {report['status']}"]
    v = report.get("validation")
    if v:
        lines.append(f"validation: {v['headline']}")
    for agent, a in report.get("agents", {}).items():
        best = (a.get("search") or {}).get("best")
        if best:
            lines.append(
                f"{agent}: best of {len(a['trials'])} trials #{best['trial']}, "
                f"{best['fraction_of_optimum']:.2%} of the exact optimum"
            )
        d, p = a.get("decision"), a.get("promotion")
        if d:
            lines.append(f"  decision: {d['summary']}")
        if p:
            lines.append(
                f"  applied: {p['action']}; champion in service: "
                f"{'v' + p['champion_version'] if p['champion_version'] else 'none'}"
            )
    r = report.get("recommendations")
    if r and r.get("written"):
        for agent, s in r["agents"].items():
            if s.get("champion_version"):
                lines.append(
                    f"tomorrow ({r['day']}), {agent}: {s['stations']} stations, "
                    f"{s['min']:.3f}..{s['max']:.3f} $/L (median {s['median']:.3f})"
                )
            else:
                lines.append(f"tomorrow ({r['day']}), {agent}: no champion, no prices")
        lines.append(f"prices: {r['uri']}")
    elif r:
        lines.append(f"tomorrow: {r.get('reason', 'no prices written')}")
    plan = report.get("plan", {})
    if plan:
        lines.append(f"report: {join(plan['folder'], 'report.md')}")
    return lines
