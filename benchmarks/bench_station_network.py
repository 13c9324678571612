"""Station-aware pricing for a whole network (issue 12): calibrate, train, evaluate, recommend.

    .venv/bin/python -m benchmarks.bench_station_network [--stations 2000] [--agents profit demand]
                                                         [--seed 0] [--env-steps 600000]
                                                         [--max-daily-move 0.30 | --no-move-limit]

On a seeded synthetic network of heterogeneous stations (`synthetic_network`, 120 days of
history): per-station calibration with the daily move limit the daily run trains under
(`MAX_DAILY_MOVE`, applied as the pipeline's calibrate step does:
`calibrate(...).with_move_limit(MAX_DAILY_MOVE)`; `--no-move-limit` measures the market
without it) and `StationNetwork.from_calibration`, then per agent one
station-aware DQN (`train_network`, `network_config()`), the batched exact optimum and
network evaluation over every station, and tomorrow's price per station. Each stage is
timed; `cpu_share` (process CPU s / wall s) below 0.9 flags a contended machine.
Target (issue 12): the library core of the daily run for 2,000 stations, both agents,
within 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, log, machine_facts, set_single_thread  # noqa: E402

NAME = "station_network"
TARGET_S = 600.0
CPU_SHARE_OK = 0.9


def _timed(timings: dict, name: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[name] = round(time.perf_counter() - t0, 3)
    log(f"[{NAME}] {name}: {timings[name]:.2f}s")
    return out


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stations", type=int, default=2000)
    p.add_argument("--agents", nargs="+", choices=("profit", "demand"), default=["profit"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env-steps", type=int, default=None, help="default: network_config()'s")
    limit = p.add_mutually_exclusive_group()
    limit.add_argument(
        "--max-daily-move",
        type=float,
        default=None,
        help="$/L a price may move in a day (default: MAX_DAILY_MOVE, as the daily run)",
    )
    limit.add_argument(
        "--no-move-limit", action="store_true", help="no daily move limit (before issue 12)"
    )
    args = p.parse_args(argv)
    set_single_thread()

    from rl_core.evaluation.network import recommend_prices
    from rl_core.market.calibration import calibrate
    from rl_core.market.model import MAX_DAILY_MOVE
    from rl_core.market.network import StationNetwork
    from rl_core.market.synthetic import synthetic_network
    from rl_core.training.network import network_config, train_network

    wall0, cpu0 = time.perf_counter(), time.process_time()
    timings: dict = {}
    synth = synthetic_network(args.stations, seed=args.seed)
    history = _timed(timings, "generate_history", synth.history)
    if args.no_move_limit:
        max_daily_move = None
    elif args.max_daily_move is not None:
        max_daily_move = args.max_daily_move
    else:
        max_daily_move = MAX_DAILY_MOVE
    calibration = _timed(timings, "calibrate", calibrate, history).with_move_limit(max_daily_move)
    network = _timed(timings, "station_network", StationNetwork.from_calibration, calibration)
    sources = network.sources()
    agents = {}
    overrides = {"seed": args.seed}
    if args.env_steps:
        overrides["total_env_steps"] = args.env_steps
    for agent in args.agents:
        t0, c0 = time.perf_counter(), time.process_time()
        result = train_network(network, agent, network_config(**overrides))
        trained = time.perf_counter()
        recommended = recommend_prices(result.train.agent.greedy, network)
        wall = time.perf_counter() - t0
        ev = result.evaluation
        agents[agent] = {
            "fraction_of_optimum": round(ev.fraction_of_optimum, 5),
            "worst_station_fraction": round(float(ev.station_fractions.min()), 4),
            "first_day_agreement": round(ev.first_day_agreement(), 3),
            "distinct_recommended_prices": len(set(recommended.values())),
            "train_s": round(result.train.train_s, 2),
            "train_wall_s": round(result.train.wall_s, 2),  # includes the sampled evaluations
            "final_eval_s": round(result.eval_s, 3),
            "recommend_s": round(time.perf_counter() - trained, 3),
            "wall_s": round(wall, 2),
            "cpu_share": round((time.process_time() - c0) / wall, 3),
            "env_steps": result.train.env_steps,
            "updates": result.train.updates,
        }
        log(f"[{NAME}] {agent}: {agents[agent]}")
    wall = time.perf_counter() - wall0
    cpu_share = (time.process_time() - cpu0) / wall
    return {
        "name": NAME,
        "machine": machine_facts(),
        "workload": {
            "stations": args.stations,
            "history_days": 120,
            "rows": len(history),
            "agents": args.agents,
            "seed": args.seed,
            "max_daily_move": calibration.market.max_daily_move,
            "config": network_config(**overrides).to_dict(),
        },
        "stages_s": timings,
        "sources": {s: list(sources.values()).count(s) for s in sorted(set(sources.values()))},
        "agents": agents,
        "wall_s": round(wall, 2),
        "cpu_share": round(cpu_share, 3),
        "contended": cpu_share < CPU_SHARE_OK,
        "target_s": TARGET_S,
        "within_target": wall <= TARGET_S,
    }


if __name__ == "__main__":
    emit(NAME, run())
