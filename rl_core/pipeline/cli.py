"""`forecourt demo` (the daily DAG on embedded defaults), `forecourt ui` (Airflow UI) and
`forecourt pipeline step` (one step of a daily run: what every DAG task runs)."""

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

    pipeline = sub.add_parser("pipeline", help="the daily run's steps").add_subparsers(
        title="pipeline commands"
    )
    from rl_core.pipeline.contract import NOT_GIVEN, STEPS

    step = pipeline.add_parser(
        "step",
        help="run one step of a daily run (what each DAG task and AWS Batch job runs)",
        description="Read the plan and the earlier steps' records from the run folder, run "
        "the step, write its result to <run folder>/steps/ and print it as the last line "
        "(JSON). A failure is recorded beside it as <step>.failed.json.",
    )
    step.add_argument("name", choices=list(STEPS), metavar="NAME", help=", ".join(STEPS))
    step.add_argument("--plan", required=True, help="the run's plan.json (or its folder) URI")
    step.add_argument("--agent", default=NOT_GIVEN, help=f"demand or profit ({NOT_GIVEN}: none)")
    step.add_argument("--trial", default=NOT_GIVEN, help=f"trial number ({NOT_GIVEN}: none)")
    step.set_defaults(run=_step)


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


def _step(args: argparse.Namespace) -> None:
    import json
    import logging

    from rl_core.pipeline.contract import run_step

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    result = run_step(args.name, args.plan, agent=args.agent, trial=args.trial)
    print(json.dumps(result, default=str), flush=True)  # the last line: the step's result
