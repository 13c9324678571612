"""`forecourt demo` (the daily DAG on embedded defaults) and `forecourt ui` (Airflow UI)."""

from __future__ import annotations

import argparse


def add_pipeline_parsers(sub) -> None:
    demo = sub.add_parser(
        "demo",
        help="the main job on embedded defaults: the daily DAG on two consecutive days",
        description="Seed a synthetic history, then run the real forecourt_daily_retrain DAG "
        "(airflow dags test, SQLite) on two consecutive days: the first establishes "
        "champions, the second compares challengers against them.",
    )
    demo.add_argument("--trials", type=int, default=4, help="trials per agent (DAG default 8)")
    demo.add_argument(
        "--env-steps", type=int, default=300_000, help="env steps per trial (DAG default 600k)"
    )
    demo.add_argument("--days", type=int, default=2, help="consecutive days to run (1-7)")
    demo.add_argument("--stations", type=int, default=20)
    demo.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    demo.set_defaults(run=_demo)

    ui = sub.add_parser(
        "ui", help="start the Airflow UI (airflow standalone) on 127.0.0.1 with the DAG loaded"
    )
    ui.add_argument("--port", type=int, default=8080)
    ui.set_defaults(run=_ui)


def _demo(args: argparse.Namespace) -> dict:
    from rl_core.pipeline.demo import run_demo

    return run_demo(
        trials=args.trials,
        env_steps=args.env_steps,
        days=args.days,
        stations=args.stations,
        quiet=args.json,
    )


def _ui(args: argparse.Namespace) -> None:
    from rl_core.pipeline.ui import run_ui

    run_ui(port=args.port)
