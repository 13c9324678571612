"""Run every benchmark: env throughput, validation, serving, the daily run, the rehearsed
AWS run, DQN vs SB3.

    .venv/bin/python benchmarks/run_all.py [--agents profit demand] [--seeds 3]
                                           [--sb3-budget-s 60]
    .venv/bin/python -m benchmarks.run_all ...

Each benchmark writes its own benchmarks/results/<name>.json; this prints one JSON object
holding all of them (also written to benchmarks/results/run_all.json).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (  # noqa: E402
    bench_daily_run,
    bench_dqn_vs_sb3,
    bench_env,
    bench_rehearsal,
    bench_serving,
    bench_validation,
)
from benchmarks.common import emit, log  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agents", nargs="+", choices=("profit", "demand"), default=["profit"])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--sb3-budget-s", type=float, default=60.0)
    args = p.parse_args(argv)

    results = {}
    log("[run_all] environment throughput")
    env = bench_env.run([])
    emit(bench_env.NAME, env, stdout=False)
    results[bench_env.NAME] = env
    log("[run_all] data validation (one day, a year as a backfill)")
    validation = bench_validation.run([])
    emit(bench_validation.NAME, validation, stdout=False)
    results[bench_validation.NAME] = validation
    log("[run_all] serving (latency under load on loopback, batch recommendations)")
    serving = bench_serving.run([])
    emit(bench_serving.NAME, serving, stdout=False)
    results[bench_serving.NAME] = serving
    log("[run_all] the whole daily run through Airflow (2 agents x 8 trials), vs no Airflow")
    daily = bench_daily_run.run([])
    emit(bench_daily_run.NAME, daily, stdout=False)
    results[bench_daily_run.NAME] = daily
    log("[run_all] the rehearsed AWS run (batch runner on moto) vs the local runner")
    rehearsal = bench_rehearsal.run([])
    emit(bench_rehearsal.NAME, rehearsal, stdout=False)
    results[bench_rehearsal.NAME] = rehearsal
    for agent in args.agents:
        log(f"[run_all] DQN vs stable-baselines3, agent={agent}")
        dqn = bench_dqn_vs_sb3.run(
            ["--agent", agent, "--seeds", str(args.seeds), "--sb3-budget-s", str(args.sb3_budget_s)]
        )
        name = dqn["name"]
        emit(name, dqn, stdout=False)
        results[name] = dqn
    emit("run_all", results)
    return results


if __name__ == "__main__":
    main()
