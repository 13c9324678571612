"""`forecourt`: the command line of Forecourt's library.

    forecourt data synth        write a seeded synthetic pricing history into the store
    forecourt data ingest       map a real CSV/Parquet into daily landing files
    forecourt data validate     check a day's file (Great Expectations), store or quarantine it
    forecourt calibrate         fit the market to a trailing window of pricing data
    forecourt train             train a DQN agent (demand or profit) to the exact optimum
    forecourt evaluate          score a checkpoint (or the baselines) against the optimum
    forecourt registry          list, show, promote, roll back registered models (MLflow)
    forecourt serve             the inference server (SageMaker /ping, /invocations)
    forecourt demo              synth -> calibrate -> train both agents -> evaluate
    forecourt study             real data (NSW FuelCheck, one station) through the loop, a report

Every command prints a short human summary; with `--json` its last line is one JSON object.
Errors a user can fix print one line naming the problem and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.market.model import OBJECTIVES


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        payload = args.run(args)
    except ForecourtError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}))
        print(f"forecourt: error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "json", False) and payload is not None:
        print(json.dumps(payload, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="forecourt", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(title="commands")

    data = sub.add_parser("data", help="pricing data in the store").add_subparsers(
        title="data commands"
    )
    synth = data.add_parser("synth", help="write a seeded synthetic history into the store")
    _store_arg(synth)
    synth.add_argument("--stations", type=int, default=20)
    synth.add_argument("--days", type=int, default=120)
    synth.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="last day of the history (default: yesterday)",
    )
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--market", default="default", help="market that generates the data")
    _json_arg(synth)
    synth.set_defaults(run=cmd_synth)

    from rl_core.data.ingest_cli import add_ingest_parser

    add_ingest_parser(data)

    from rl_core.validation.cli import add_validate_parser

    add_validate_parser(data)

    cal = sub.add_parser("calibrate", help="fit the market to a trailing data window")
    _store_arg(cal)
    cal.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="last day of the window (default: newest day in the store)",
    )
    cal.add_argument("--window", type=int, default=90, help="days in the window")
    cal.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="calibrate on a pricing-schema CSV/Parquet file instead of the store",
    )
    cal.add_argument("--out", type=Path, default=None, help="write the calibration JSON here")
    _json_arg(cal)
    cal.set_defaults(run=cmd_calibrate)

    tr = sub.add_parser("train", help="train a DQN agent against the exact optimum")
    _agent_arg(tr)
    _market_arg(tr)
    tr.add_argument("--steps", type=int, default=None, help="env steps (default: the setup's)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for checkpoint, exported policy and plot "
        "(default: $FORECOURT_HOME/models/<agent>)",
    )
    tr.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _json_arg(tr)
    tr.set_defaults(run=cmd_train)

    ev = sub.add_parser("evaluate", help="score a checkpoint and the baselines")
    _agent_arg(ev)
    _market_arg(ev)
    ev.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint from `forecourt train` (default: baselines only)",
    )
    _json_arg(ev)
    ev.set_defaults(run=cmd_evaluate)

    from rl_core.registry.cli import add_registry_parser
    from rl_core.serving.cli import add_serve_parser

    add_registry_parser(sub)
    add_serve_parser(sub)

    from rl_core.pipeline.cli import add_pipeline_parsers
    from rl_core.study.cli import add_study_parser

    add_pipeline_parsers(sub)
    add_study_parser(sub)
    return p


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, help="store URI (default: $FORECOURT_HOME/store)")


def _agent_arg(p: argparse.ArgumentParser) -> None:
    # validated by rl_core (one clear message for CLI and library alike), not argparse choices
    p.add_argument("--agent", default="profit", help=f"one of {', '.join(OBJECTIVES)}")


def _market_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--market",
        default="default",
        help="'default', 'sydney', or a JSON file with a market or calibration",
    )


def say(args: argparse.Namespace, text: str) -> None:
    """Human output; to stderr under --json so stdout's last line stays machine-readable."""
    print(text, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)


# ---- commands -----------------------------------------------------------------------------


def cmd_synth(args: argparse.Namespace) -> dict:
    from rl_core.market.presets import market_setup
    from rl_core.market.synthetic import write_history

    store = args.store or paths.store_uri()
    end = args.end or date.today() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    market = market_setup(args.market).train[0]
    df = write_history(
        store, market, n_stations=args.stations, days=args.days, start=start, seed=args.seed
    )
    say(
        args,
        f"wrote {len(df):,} rows: {args.stations} stations x {args.days} days "
        f"({start}..{end}) to {store}",
    )
    return {
        "store": store,
        "rows": len(df),
        "stations": args.stations,
        "days": args.days,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def cmd_calibrate(args: argparse.Namespace) -> dict:
    import pandas as pd

    from rl_core.data.store import list_days, read_window
    from rl_core.errors import EmptyDataError
    from rl_core.market.calibration import calibrate

    if args.csv is not None:
        if not args.csv.is_file():
            raise EmptyDataError(f"no file at {args.csv}")
        reader = pd.read_parquet if args.csv.suffix == ".parquet" else pd.read_csv
        df = reader(args.csv)
        source = str(args.csv)
    else:
        store = args.store or paths.store_uri()
        days = list_days(store)
        if args.end is None and not days:
            raise EmptyDataError(
                f"the store {store} holds no pricing data: run `forecourt data synth` first"
            )
        end = args.end or days[-1]
        df = read_window(store, end, args.window)
        source = f"{store} ({args.window} days to {end})"
    cal = calibrate(df)
    say(args, f"source: {source}\n{cal.summary()}")
    out = cal.to_dict()
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2))
        say(args, f"calibration written to {args.out}")
    return out


def cmd_train(args: argparse.Namespace) -> dict:
    summary, _, _ = train_agent(
        args.agent,
        args.market,
        steps=args.steps,
        seed=args.seed,
        out=args.out,
        progress=not args.no_progress and sys.stderr.isatty(),
        echo=lambda text: say(args, text),
    )
    return summary


def train_agent(
    agent: str, market: str, *, steps: int | None, seed: int, out: Path | None, progress: bool, echo
):
    """Train, checkpoint, bundle (export with a parity check), plot.

    Returns (summary dict, TrainResult, PolicyBundle)."""
    from rl_core.agents.dqn import DQNConfig
    from rl_core.evaluation.optimum import solve
    from rl_core.market.model import check_objective
    from rl_core.market.presets import market_setup
    from rl_core.training.bundle import POLICY_FILE, write_bundle
    from rl_core.training.plots import plot_training
    from rl_core.training.train import train

    check_objective(agent)
    setup = market_setup(market)
    overrides = dict(setup.config_overrides)
    if steps is not None:
        if steps <= 0:
            raise ForecourtError(f"--steps must be a positive number of env steps, got {steps}")
        overrides.update(total_env_steps=steps, buffer_size=steps)
    config = DQNConfig(seed=seed, **overrides)
    echo(
        f"training the {agent} agent on market '{setup.name}' "
        f"({config.total_env_steps:,} env steps, {config.num_envs} markets at once)..."
    )
    result = train(setup.train, agent, config, eval_markets=setup.evaluate, progress=progress)
    out = out or paths.models_dir() / agent
    from rl_core.training.checkpoint import save_checkpoint

    ckpt = save_checkpoint(result, setup.train, out)
    first = setup.evaluate[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    bundle = write_bundle(result, first, out / "bundles" / stamp)
    exported = {**bundle.metadata["export"], "path": str(bundle.path / POLICY_FILE)}
    plot = plot_training(
        result.curve,
        result.evaluation.prices[0],
        first.prices[solve(first, agent).actions],
        first.costs,
        f"{agent} agent, {setup.name} market",
        out / f"training-{agent}.png",
    )
    summary = result.to_dict()
    summary.update(
        market=setup.name,
        checkpoint=str(ckpt),
        bundle=str(bundle.path),
        exported=exported,
        plot=str(plot),
    )
    ev, hold = result.evaluation, result.held_from()
    echo(
        f"{agent} agent: {ev.fraction_of_optimum:.2%} of the exact optimum "
        f"(median of last 5 evaluations {result.tail_median():.2%}); "
        f"total reward {ev.total_reward:,.0f}, volume {ev.volume:,.0f} L, "
        f"profit ${ev.profit:,.0f}\n"
        f"  {result.env_steps:,} env steps, {result.updates:,} updates, "
        f"{result.train_s:.1f} s training ({result.wall_s:.1f} s with evaluations); "
        + (
            f"held 99% from {hold['env_steps']:,} steps ({hold['train_s']:.1f} s)"
            if hold
            else "did not hold 99% to the end"
        )
        + f"\n  checkpoint {ckpt}\n  policy bundle {bundle.path} (export parity on "
        f"{exported['states_checked']} states, max |dQ| {exported['max_abs_diff']:.1e})"
        f"\n  plot {plot}"
    )
    return summary, result, bundle


def cmd_evaluate(args: argparse.Namespace) -> dict:
    from rl_core.evaluation.baselines import best_constant_price
    from rl_core.evaluation.evaluate import evaluate_policy
    from rl_core.market.model import check_objective
    from rl_core.market.presets import market_setup
    from rl_core.training.checkpoint import load_checkpoint

    agent = check_objective(args.agent)
    setup = market_setup(args.market)
    level, const_frac = best_constant_price(setup.evaluate, agent)
    out: dict[str, Any] = {
        "agent": agent,
        "market": setup.name,
        "scenarios": len(setup.evaluate),
        "best_constant_price": {
            "price": float(setup.evaluate[0].prices[level]),
            "fraction_of_optimum": const_frac,
        },
    }
    lines = [
        f"{agent} on the {setup.name} market ({len(setup.evaluate)} scenario(s)):",
        f"  best constant price {out['best_constant_price']['price']:.3f} $/L: "
        f"{const_frac:.2%} of the optimum",
    ]
    if args.checkpoint is not None:
        model, objective, _, _ = load_checkpoint(args.checkpoint)
        if objective != agent:
            raise ForecourtError(f"{args.checkpoint} holds a {objective} agent, not {agent}")
        ev = evaluate_policy(model.greedy, setup.evaluate, agent)
        out["agent_evaluation"] = ev.to_dict(trajectories=True)
        lines.append(
            f"  agent: {ev.fraction_of_optimum:.2%} of the optimum (worst scenario "
            f"{ev.scenario_fractions.min():.2%}); reward {ev.total_reward:,.0f}, "
            f"volume {ev.volume:,.0f} L, profit ${ev.profit:,.0f}"
        )
        lines.append("  prices: " + " ".join(f"{p:.2f}" for p in ev.prices[0]))
    say(args, "\n".join(lines))
    return out


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
