"""`forecourt study SOURCE`: run real data through ingest -> validation -> calibration ->
training, and write a report with plots (`rl_core.study.run`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from rl_core.study.sources import SOURCES


def add_study_parser(sub: Any) -> argparse.ArgumentParser:
    from rl_core.study.run import DEFAULT_AGENTS, DEFAULT_ENV_STEPS

    p = sub.add_parser(
        "study",
        help="run a real data source through the loop and report fit quality and prices",
        description=__doc__.split("\n\n")[0]
        + " Sources: "
        + "; ".join(f"{s.name}: {s.title}" for s in SOURCES.values()),
    )
    p.add_argument("source", choices=list(SOURCES), help="which real data source")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="study folder (default: $FORECOURT_HOME/studies/SOURCE)",
    )
    p.add_argument(
        "--agents",
        default=",".join(DEFAULT_AGENTS),
        help="comma-separated objectives to train (default: %(default)s)",
    )
    p.add_argument(
        "--env-steps",
        type=int,
        default=DEFAULT_ENV_STEPS,
        help="training budget per agent (default: the daily run's, %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--window", type=int, default=None, help="calibrate on the last N days (default: all)"
    )
    p.add_argument(
        "--volume",
        type=float,
        default=None,
        help="price-only sources: assumed litres/day of a typical station (default 8000)",
    )
    p.add_argument(
        "--file", type=Path, default=None, help="read this file instead of the shared one"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(run=cmd_study)
    return p


def cmd_study(args: argparse.Namespace) -> dict:
    from rl_core.errors import ForecourtError
    from rl_core.market.model import OBJECTIVES
    from rl_core.study.run import run_study

    agents = tuple(a.strip() for a in args.agents.split(",") if a.strip())
    unknown = [a for a in agents if a not in OBJECTIVES]
    if not agents or unknown:
        raise ForecourtError(
            f"--agents {args.agents!r}: choose from {', '.join(OBJECTIVES)} (comma-separated)"
        )
    if args.env_steps < 1_000:
        raise ForecourtError(f"--env-steps {args.env_steps}: at least 1,000")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = run_study(
        args.source,
        args.out,
        agents=agents,
        env_steps=args.env_steps,
        seed=args.seed,
        window_days=args.window,
        volume=args.volume,
        source_path=args.file,
    )
    if not args.json:
        print(f"report: {result.report}")
    r = result.record
    return {
        "report": str(result.report),
        "folder": str(result.folder),
        "training": {
            a: {k: v for k, v in t.items() if k != "curve"} for a, t in r["training"].items()
        },
        "prices": r["prices"],
        "quarantined": [q["day"] for q in r["validation"]["quarantined"]],
    }
