"""`forecourt serve`: run the inference server locally (uvicorn, one process).

Wire into rl_core/cli.py's build_parser:
    from rl_core.serving.cli import add_serve_parser
    add_serve_parser(sub)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rl_core.market.model import OBJECTIVES, check_objective
from rl_core.serving.settings import DEFAULT_REFRESH_S


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("serve", help="run the pricing inference server (SageMaker API)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    p.add_argument("--port", type=int, default=8080, help="port (SageMaker's is 8080)")
    # the environment Terraform gives the serving container, so the CLI and the image agree
    p.add_argument(
        "--source",
        default=os.environ.get("FORECOURT_SERVING_SOURCE") or "registry",
        help="'registry' (the champion alias) or a folder of <agent>/<version>/ bundles "
        "with <agent>/CHAMPION naming the version (default: $FORECOURT_SERVING_SOURCE, "
        "else registry)",
    )
    p.add_argument(
        "--agents",
        default=os.environ.get("FORECOURT_AGENT") or ",".join(OBJECTIVES),
        help="comma-separated agents to serve; /ping is healthy only when every one of them "
        f"has a champion loaded (default: $FORECOURT_AGENT, else {','.join(OBJECTIVES)}, "
        "the agents `make demo` trains)",
    )
    p.add_argument(
        "--refresh-interval",
        type=float,
        default=DEFAULT_REFRESH_S,
        help="seconds between checks for a new champion (0: only at start and POST /refresh)",
    )
    p.add_argument("--log-level", default="info", help="uvicorn log level")
    p.add_argument("--no-access-log", action="store_true", help="skip per-request log lines")
    p.set_defaults(run=cmd_serve)
    return p


def build_app(args: argparse.Namespace):
    # imported here, not at module level: building the CLI parser must stay fast
    from rl_core.serving.app import create_app
    from rl_core.serving.sources import source_from_spec

    agents = [check_objective(a.strip()) for a in args.agents.split(",") if a.strip()]
    return create_app(source_from_spec(args.source), agents, args.refresh_interval or None)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    logging.basicConfig(  # champion swaps and load failures, beside uvicorn's own lines
        level=args.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s"
    )
    app = build_app(args)
    print(
        f"forecourt serve: http://{args.host}:{args.port} (agents {args.agents}, "
        f"source {args.source}, refresh every {args.refresh_interval:g} s)",
        file=sys.stderr,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        workers=1,
    )
    return None


def main(argv: list[str] | None = None) -> int:
    """`python -m rl_core.serving.cli ...`: the serve command on its own."""
    from rl_core.errors import ForecourtError

    parser = argparse.ArgumentParser(prog="forecourt")
    add_serve_parser(parser.add_subparsers(title="commands"))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    try:
        args.run(args)
    except ForecourtError as exc:
        print(f"forecourt: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
