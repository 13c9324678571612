"""Environment throughput: the torch `VectorGasStation` against the gymnasium env.

    .venv/bin/python -m benchmarks.bench_env [--seconds 0.2] [--repeats 5]

Counts environment transitions (station-days) per second of:
  * `VectorGasStation` on the default `Market()` profit objective with 64, 1,024 and 8,192
    markets, stepping uniformly random price levels (a bank of pre-drawn action tensors is
    cycled, so the figure is the env alone, demand noise included);
  * `gymnasium.make("GasStationProfit-v0")`: a plain Python step loop with random actions and
    a reset on termination (with gym.make's checker/order wrappers), and the same env unwrapped;
  * gymnasium's `SyncVectorEnv` of 8 such envs (same-step autoreset, so every call is 8 real
    transitions);
  * `gymnasium.make_vec(..., vectorization_mode="vector_entry_point")` with 8 and 1,024
    markets: `VectorGasStation` behind gymnasium's VectorEnv API (rl_core.envs.gym_vector).
Torch runs on one thread. Each figure is the median of `--repeats` timed trials after a
warm-up. The target is >= 20M steps/s with 1,024 markets.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch

import rl_core.envs  # noqa: F401 - registers the gymnasium ids
from benchmarks.common import emit, log, machine_facts, median, ratio, set_single_thread
from rl_core.envs import ENV_IDS
from rl_core.envs.gas_station import GasStationEnv
from rl_core.envs.vector import VectorGasStation
from rl_core.market.model import Market

NAME = "env_throughput"
TARGET_STEPS_PER_S = 20_000_000
TARGET_MARKETS = 1_024


def _timed(step_block: Callable[[int], int], seconds: float, repeats: int) -> dict:
    """Median transitions/s of `step_block(n_calls) -> transitions` over timed trials.

    The number of calls per trial is calibrated so one trial lasts about `seconds`.
    """
    calls = 16
    while True:  # calibrate (also the warm-up)
        t0 = time.perf_counter()
        step_block(calls)
        dt = time.perf_counter() - t0
        if dt >= seconds / 4:
            break
        calls *= 4
    calls = max(1, int(calls * seconds / dt))
    rates, cpu_rates = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        n = step_block(calls)
        rates.append(n / (time.perf_counter() - t0))
        cpu_rates.append(n / max(time.process_time() - c0, 1e-9))
    return {
        "steps_per_s": median(rates),  # wall clock: the headline figure
        "min_steps_per_s": min(rates),
        "max_steps_per_s": max(rates),
        # per CPU second of this process: what a quiet machine gives when others compete
        "steps_per_cpu_s": median(cpu_rates),
        "calls_per_trial": calls,
        "repeats": repeats,
    }


def bench_vector(market: Market, objective: str, num_envs: int, seconds: float, repeats: int):
    env = VectorGasStation(market, objective, num_envs, seed=0)
    gen = torch.Generator().manual_seed(0)
    bank = [torch.randint(env.n_prices, (num_envs,), generator=gen) for _ in range(64)]

    def block(calls: int) -> int:
        for i in range(calls):
            env.step(bank[i & 63])
        return calls * num_envs

    out = _timed(block, seconds, repeats)
    out["num_envs"] = num_envs
    out["vector_steps_per_s"] = out["steps_per_s"] / num_envs
    return out


def bench_gym(env: gym.Env, seconds: float, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    actions = rng.integers(env.action_space.n, size=4096).tolist()
    env.reset(seed=0)

    def block(calls: int) -> int:
        for i in range(calls):
            _, _, terminated, truncated, _ = env.step(actions[i & 4095])
            if terminated or truncated:
                env.reset()
        return calls

    return _timed(block, seconds, repeats)


def bench_sync_vector(env_id: str, num_envs: int, seconds: float, repeats: int) -> dict:
    envs = gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    return _bench_vector_env(envs, seconds, repeats)


def bench_make_vec(env_id: str, num_envs: int, seconds: float, repeats: int) -> dict:
    """gymnasium.make_vec(..., vectorization_mode="vector_entry_point"): VectorGasStation
    behind the standard VectorEnv API (numpy actions in, numpy arrays out)."""
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    return _bench_vector_env(envs, seconds, repeats)


def _bench_vector_env(envs: gym.vector.VectorEnv, seconds: float, repeats: int) -> dict:
    """Steps of a gymnasium VectorEnv with a cycled bank of random actions."""
    rng = np.random.default_rng(0)
    bank = rng.integers(envs.single_action_space.n, size=(64, envs.num_envs))
    envs.reset(seed=0)

    def block(calls: int) -> int:
        for i in range(calls):
            envs.step(bank[i & 63])
        return calls * envs.num_envs

    out = _timed(block, seconds, repeats)
    out["num_envs"] = envs.num_envs
    envs.close()
    return out


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=0.2, help="length of one timed trial")
    p.add_argument("--repeats", type=int, default=5, help="timed trials per figure")
    p.add_argument("--sizes", type=int, nargs="+", default=[64, TARGET_MARKETS, 8_192])
    p.add_argument("--objective", choices=sorted(ENV_IDS), default="profit")
    args = p.parse_args(argv)

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    threads = set_single_thread()
    market = Market()
    env_id = ENV_IDS[args.objective]
    log(f"[{NAME}] torch threads = {threads}; {args.repeats} trials of ~{args.seconds}s each")

    vector = {}
    for n in sorted(set(args.sizes) | {TARGET_MARKETS}):
        r = bench_vector(market, args.objective, n, args.seconds, args.repeats)
        vector[str(n)] = r
        log(
            f"[{NAME}] VectorGasStation x{n:>6,}: {r['steps_per_s']:>14,.0f} steps/s "
            f"({r['steps_per_cpu_s']:,.0f} per CPU s)"
        )

    gym_env = gym.make(env_id)
    single = bench_gym(gym_env, args.seconds, args.repeats)
    gym_env.close()
    log(f"[{NAME}] gymnasium.make({env_id!r}):  {single['steps_per_s']:>14,.0f} steps/s")
    raw = bench_gym(GasStationEnv(market, args.objective), args.seconds, args.repeats)
    log(f"[{NAME}] unwrapped GasStationEnv:       {raw['steps_per_s']:>14,.0f} steps/s")
    sync8 = bench_sync_vector(env_id, 8, args.seconds, args.repeats)
    log(f"[{NAME}] gymnasium SyncVectorEnv x8:    {sync8['steps_per_s']:>14,.0f} steps/s")
    make_vec = {}
    for n in (8, TARGET_MARKETS):
        make_vec[str(n)] = r = bench_make_vec(env_id, n, args.seconds, args.repeats)
        log(f"[{NAME}] gymnasium.make_vec x{n:>6,}:   {r['steps_per_s']:>14,.0f} steps/s")

    at_target = vector[str(TARGET_MARKETS)]["steps_per_s"]
    cpu_share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    if cpu_share < 0.9:
        log(f"[{NAME}] WARNING: cpu share {cpu_share:.2f}: another process competed for the CPU")
    return {
        "benchmark": NAME,
        "objective": args.objective,
        "market": "Market() defaults",
        "torch_threads": threads,
        "machine": machine_facts() | {"load_average_at_start": load_at_start},
        "cpu_share": round(cpu_share, 3),  # process CPU s / wall s; ~1.0 = uncontended
        "unit": "environment transitions (station-days) per second; median of trials",
        "vector_gas_station": vector,
        "gymnasium_make": single,
        "gymnasium_unwrapped": raw,
        "gymnasium_sync_vector_env_8": sync8,
        # the registered vector entry point: the same VectorGasStation, numpy at the boundary
        "gymnasium_make_vec": make_vec,
        "ratios": {
            "make_vec_8_vs_sync_vector_env_8": ratio(
                make_vec["8"]["steps_per_s"], sync8["steps_per_s"]
            ),
            f"make_vec_{TARGET_MARKETS}_vs_vector_{TARGET_MARKETS}": ratio(
                make_vec[str(TARGET_MARKETS)]["steps_per_s"],
                vector[str(TARGET_MARKETS)]["steps_per_s"],
            ),
        }
        | {
            f"vector_{n}_vs_gymnasium_make": ratio(v["steps_per_s"], single["steps_per_s"])
            for n, v in vector.items()
        }
        | {
            f"vector_{n}_vs_sync_vector_env_8": ratio(v["steps_per_s"], sync8["steps_per_s"])
            for n, v in vector.items()
        },
        "target": {
            "what": f">= {TARGET_STEPS_PER_S:,} steps/s with {TARGET_MARKETS:,} markets",
            "measured_steps_per_s": at_target,
            "met": at_target >= TARGET_STEPS_PER_S,
            "measured_steps_per_cpu_s": vector[str(TARGET_MARKETS)]["steps_per_cpu_s"],
            "met_per_cpu_s": vector[str(TARGET_MARKETS)]["steps_per_cpu_s"] >= TARGET_STEPS_PER_S,
        },
    }


def main(argv: list[str] | None = None) -> dict:
    result = run(argv)
    emit(NAME, result)
    return result


if __name__ == "__main__":
    main()
