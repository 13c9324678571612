"""Forecourt's DQN against stable-baselines3's DQN: time to reach and hold 99% of the optimum.

    .venv/bin/python -m benchmarks.bench_dqn_vs_sb3 [--agent profit|demand] [--seeds 3]
                                                    [--sb3-budget-s 60]

On the default `Market()` and one objective, for seeds 0..N-1, three variants:

  forecourt         `rl_core.training.train(Market(), agent, DQNConfig(seed=s))`, read as is:
                    the defaults are whatever `DQNConfig()` holds when this runs.
  sb3_defaults      `DQN("MlpPolicy", gymnasium.make(<env id>), seed=s)` with every other
                    argument at SB3's default, one env (as SB3's quickstart),
                    total_timesteps = DQNConfig().total_env_steps, capped by --sb3-budget-s.
  sb3_same_hparams  SB3's DQN given Forecourt's hyperparameters as far as SB3 can take them
                    (see `sb3_same_hparams_kwargs`), num_envs gymnasium envs in a DummyVecEnv,
                    Forecourt's reward scale applied by a gymnasium `TransformReward` wrapper
                    (--sb3-reward-scale none withholds it), also capped by --sb3-budget-s.

Every variant is scored the same way: the greedy policy, evaluated *exactly* (noise-free
expected return, `rl_core.evaluation.evaluate_policy`) against the DP optimum every
`DQNConfig().eval_interval * DQNConfig().num_envs` env steps. Forecourt's own loop does
this; SB3 gets a callback at the same env-step cadence. Time is training wall time with
evaluation time subtracted, clock started before the env and model are built, for both.

reach: the first evaluation at >= 99% of the optimum.
hold:  the first evaluation of the final unbroken run of evaluations at >= 99% (every later
       evaluation, up to the end of that run's training, stays >= 99%); None if the last
       evaluation is below 99%. A run that ends (or hits the budget) is judged on what it did.

Torch runs on one thread for all variants (`DQNConfig().torch_threads`, which is 1 as of
writing; the JSON records the value used). Prints one JSON object to stdout, progress to
stderr, and writes benchmarks/results/dqn_vs_sb3_<agent>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import math
import os
import sys
import time
import warnings

import gymnasium as gym
import torch

import rl_core.envs  # noqa: F401 - registers the gymnasium ids
from benchmarks.common import (
    censored_median,
    emit,
    log,
    machine_facts,
    median,
    ratio,
    set_single_thread,
)
from rl_core.agents.dqn import DQNConfig
from rl_core.agents.networks import QNetwork
from rl_core.envs import ENV_IDS
from rl_core.evaluation.baselines import best_constant_price
from rl_core.evaluation.evaluate import evaluate_policy
from rl_core.evaluation.optimum import solve
from rl_core.market.model import Market
from rl_core.training.train import train

TARGET_FRACTION = 0.99
TARGET_HOLD_S = 5.0
TARGET_VS_SB3_DEFAULTS = 10.0
TARGET_VS_SB3_SAME = 3.0
CPU_SHARE_OK = 0.9
VARIANTS = ("forecourt", "sb3_defaults", "sb3_same_hparams")


# ---- reach / hold ---------------------------------------------------------------------------
def reach_and_hold(curve: list[dict], threshold: float = TARGET_FRACTION):
    """(first row >= threshold, first row of the final unbroken run >= threshold)."""
    reach = next((row for row in curve if row["fraction"] >= threshold), None)
    hold = None
    for row in curve:
        if row["fraction"] < threshold:
            hold = None
        elif hold is None:
            hold = row
    return reach, hold


def summarize_run(seed: int, curve: list[dict], env_steps: int, train_s: float, **extra) -> dict:
    reach, hold = reach_and_hold(curve)
    return {
        "seed": seed,
        "reach_s": None if reach is None else reach["train_s"],
        "reach_env_steps": None if reach is None else reach["env_steps"],
        "hold_s": None if hold is None else hold["train_s"],
        "hold_env_steps": None if hold is None else hold["env_steps"],
        # how many evaluations the final >= 99% run spans (1 = only the last one)
        "evaluations_in_hold": 0 if hold is None else len(curve) - curve.index(hold),
        "final_fraction": curve[-1]["fraction"] if curve else None,
        "best_fraction": max((r["fraction"] for r in curve), default=None),
        "env_steps": env_steps,
        "train_s": round(train_s, 3),
        "env_steps_per_s": env_steps / train_s if train_s > 0 else None,
        "evaluations": len(curve),
        **extra,
        # compact curve: [env_steps, train_s, fraction] per evaluation
        "curve": [[r["env_steps"], round(r["train_s"], 3), round(r["fraction"], 5)] for r in curve],
    }


def summarize_variant(runs: list[dict]) -> dict:
    """Medians over seeds. None in a time means never; `*_lower_bound_s` counts it as the
    run's whole training time instead (so the median is a lower bound on the true one)."""

    def lower_bound(key: str) -> float | None:
        return median([r[key] if r[key] is not None else r["train_s"] for r in runs])

    return {
        "seeds": len(runs),
        "runs_reaching_99": sum(r["reach_s"] is not None for r in runs),
        "runs_holding_99": sum(r["hold_s"] is not None for r in runs),
        "median_reach_s": censored_median([r["reach_s"] for r in runs]),
        "median_reach_env_steps": censored_median([r["reach_env_steps"] for r in runs]),
        "median_hold_s": censored_median([r["hold_s"] for r in runs]),
        "median_hold_env_steps": censored_median([r["hold_env_steps"] for r in runs]),
        "median_reach_lower_bound_s": lower_bound("reach_s"),
        "median_hold_lower_bound_s": lower_bound("hold_s"),
        "median_final_fraction": median([r["final_fraction"] for r in runs]),
        "median_env_steps_per_s": median([r["env_steps_per_s"] for r in runs]),
        "median_train_s": median([r["train_s"] for r in runs]),
    }


# ---- Forecourt ------------------------------------------------------------------------------
def run_forecourt(market: Market, objective: str, seed: int) -> dict:
    cfg = DQNConfig(seed=seed)
    result = train(market, objective, cfg)
    curve = [
        {"env_steps": r["env_steps"], "train_s": r["train_s"], "fraction": r["fraction"]}
        for r in result.curve
    ]
    return summarize_run(
        seed,
        curve,
        result.env_steps,
        result.train_s,
        updates=result.updates,
        stopped_by_budget=False,
        ended_by="total_env_steps",
    )


# ---- stable-baselines3 ----------------------------------------------------------------------
def _sb3():
    try:
        import stable_baselines3  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dev extra
        raise SystemExit("stable-baselines3 is not installed: pip install -e '.[dev]'") from exc
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    return DQN, BaseCallback


def sb3_greedy_policy(model):
    """Obs batch tensor (N, 3) -> greedy price levels, straight from SB3's Q-network."""
    q_net = model.q_net

    @torch.no_grad()
    def policy(obs: torch.Tensor) -> torch.Tensor:
        return q_net(obs).argmax(dim=1)

    return policy


def make_exact_eval_callback(base_callback, market, objective, optimum, every, budget_s, start):
    """An SB3 callback: exact evaluation every `every` env steps, stop at `budget_s` of
    training time; evaluation time is kept off the training clock."""

    class ExactEvalCallback(base_callback):
        def __init__(self):
            super().__init__()
            self.curve: list[dict] = []
            self.eval_s = 0.0
            self.next_eval = every
            self.stopped_by_budget = False
            self.last_log = start

        def train_s(self, now: float | None = None) -> float:
            return (time.perf_counter() if now is None else now) - start - self.eval_s

        def evaluate(self) -> None:
            t0 = time.perf_counter()
            ev = evaluate_policy(sb3_greedy_policy(self.model), [market], objective, [optimum])
            self.curve.append(
                {
                    "env_steps": self.model.num_timesteps,
                    "train_s": self.train_s(t0),
                    "fraction": ev.fraction_of_optimum,
                }
            )
            self.eval_s += time.perf_counter() - t0
            if t0 - self.last_log >= 10.0:
                self.last_log = t0
                log(
                    f"    {self.model.num_timesteps:>8,} env steps  "
                    f"{self.train_s(t0):6.1f} s  {ev.fraction_of_optimum:.2%} of optimum"
                )

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.evaluate()
                while self.next_eval <= self.num_timesteps:
                    self.next_eval += every
            if self.train_s() >= budget_s:
                self.stopped_by_budget = True
                return False
            return True

    return ExactEvalCallback()


def _learn_sb3(model, total_steps, market, objective, optimum, every, budget_s, start, cb_cls):
    cb = make_exact_eval_callback(cb_cls, market, objective, optimum, every, budget_s, start)
    model.learn(total_timesteps=total_steps, callback=cb, progress_bar=False)
    end = time.perf_counter()
    train_s = cb.train_s(end)
    if not cb.curve or cb.curve[-1]["env_steps"] != model.num_timesteps:
        cb.evaluate()  # score the policy training ended with (time stays `train_s`)
        cb.curve[-1]["train_s"] = train_s
    return cb, train_s


def sb3_same_hparams_kwargs(cfg: DQNConfig) -> tuple[dict, dict]:
    """SB3 DQN keyword arguments carrying Forecourt's config, and how each was mapped."""
    from stable_baselines3.common.utils import LinearSchedule

    # SB3 does one Polyak update per vector step (target_update_interval=1), Forecourt one per
    # gradient step: compose `updates_per_step` of them so the target lags by the same amount.
    tau = 1.0 - (1.0 - cfg.tau) ** cfg.updates_per_step
    kwargs = {
        # Forecourt: lr * (1 - done * (1 - final_lr_fraction)), linear in training progress
        "learning_rate": LinearSchedule(
            cfg.learning_rate, cfg.learning_rate * cfg.final_lr_fraction, 1.0
        ),
        "buffer_size": cfg.buffer_size,
        "learning_starts": cfg.learning_starts,
        "batch_size": cfg.batch_size,
        "tau": tau,
        "gamma": cfg.gamma,
        "train_freq": (1, "step"),  # one vector step = num_envs transitions
        "gradient_steps": cfg.updates_per_step,
        "target_update_interval": 1,
        "exploration_fraction": cfg.exploration_fraction,
        "exploration_initial_eps": cfg.exploration_initial,
        "exploration_final_eps": cfg.exploration_final,
        "max_grad_norm": math.inf if cfg.max_grad_norm is None else cfg.max_grad_norm,
        "policy_kwargs": {"net_arch": list(cfg.hidden)},
        "device": "cpu",
    }
    mapping = {
        "learning_rate": f"LinearSchedule({cfg.learning_rate} -> "
        f"{cfg.learning_rate * cfg.final_lr_fraction:g} over all of training)",
        "tau": f"{tau:g} per vector step (= {cfg.updates_per_step} Polyak step(s) of {cfg.tau:g})",
        "train_freq/gradient_steps": f"(1, 'step') / {cfg.updates_per_step}: "
        f"{cfg.updates_per_step} update(s) per {cfg.num_envs} env steps, as Forecourt",
        "n_envs": f"{cfg.num_envs} gymnasium envs in SB3's DummyVecEnv (make_vec_env)",
        "net_arch": f"{list(cfg.hidden)} plain MLP on the raw 3-float observation",
        "max_grad_norm": "inf (SB3 always clips; Forecourt None = no clipping)"
        if cfg.max_grad_norm is None
        else str(cfg.max_grad_norm),
        "loss": "smooth_l1 (= Huber, delta 1)"
        + ("" if cfg.huber_delta == 1.0 else f"; Forecourt uses delta {cfg.huber_delta}"),
    }
    n_step = getattr(cfg, "n_step", 1)
    if n_step != 1:
        from stable_baselines3 import DQN

        if "n_steps" not in inspect.signature(DQN.__init__).parameters:
            raise SystemExit(f"n_step={n_step} needs stable-baselines3 >= 2.7 (n_steps)")
        kwargs["n_steps"] = n_step
        mapping["n_steps"] = f"{n_step} (SB3's n-step returns)"
    return kwargs, mapping


def forecourt_reward_scale(cfg: DQNConfig, market: Market, optimum: float) -> float:
    """The factor `train` multiplies rewards by (one market: horizon / optimum)."""
    return cfg.reward_scale or market.horizon / optimum


class _Scale:
    def __init__(self, factor: float):
        self.factor = factor

    def __call__(self, reward):
        return float(reward) * self.factor


def run_sb3(variant, market, objective, optimum, seed, budget_s, reward_scale_mode):
    DQN, BaseCallback = _sb3()  # noqa: N806
    from gymnasium.wrappers import TransformReward
    from stable_baselines3.common.env_util import make_vec_env

    cfg = DQNConfig(seed=seed)
    env_id = ENV_IDS[objective]
    every = cfg.eval_interval * cfg.num_envs
    extra: dict = {}
    start = time.perf_counter()
    if variant == "sb3_defaults":
        total = cfg.total_env_steps
        model = DQN("MlpPolicy", gym.make(env_id), seed=seed)
    else:
        total = max(1, cfg.total_env_steps // cfg.num_envs) * cfg.num_envs
        kwargs, _ = sb3_same_hparams_kwargs(cfg)
        wrapper, wrapper_kwargs = None, None
        if reward_scale_mode == "forecourt":
            scale = forecourt_reward_scale(cfg, market, optimum)
            wrapper, wrapper_kwargs = TransformReward, {"func": _Scale(scale)}
            extra["reward_scale"] = scale
        venv = make_vec_env(
            env_id,
            n_envs=cfg.num_envs,
            seed=seed,
            wrapper_class=wrapper,
            wrapper_kwargs=wrapper_kwargs,
            env_kwargs={"render_mode": None},
        )
        with warnings.catch_warnings():
            # "target network updated after each env.step() (n_envs transitions)": intended,
            # target_update_interval=1 is how SB3 gets one Polyak step per vector step
            warnings.filterwarnings("ignore", message="The number of environments used")
            model = DQN("MlpPolicy", venv, seed=seed, **kwargs)
    cb, train_s = _learn_sb3(
        model, total, market, objective, optimum, every, budget_s, start, BaseCallback
    )
    return summarize_run(
        seed,
        cb.curve,
        int(model.num_timesteps),
        train_s,
        updates=int(model._n_updates),
        total_timesteps_requested=total,
        stopped_by_budget=cb.stopped_by_budget,
        ended_by="budget" if cb.stopped_by_budget else "total_timesteps",
        **extra,
    )


# ---- what differs ---------------------------------------------------------------------------
def forecourt_features_sb3_lacks(cfg: DQNConfig, n_actions: int) -> list[dict]:
    """Read off the code in use, not assumed."""
    net = QNetwork(3, n_actions, cfg.hidden)
    dueling = net.head.out_features == n_actions + 1
    one_hot = hasattr(net, "encode")
    lacks = []
    if cfg.double_dqn:
        lacks.append(
            {
                "feature": "Double-DQN target (online net picks, target net values)",
                "sb3": "absent: SB3's DQN bootstraps from max_a of the target net",
            }
        )
    if dueling:
        lacks.append(
            {
                "feature": "dueling head Q = V + A - mean(A)",
                "sb3": "absent: SB3's QNetwork is a plain MLP",
            }
        )
    if getattr(cfg, "greedy_on_target", False):
        lacks.append(
            {
                "feature": "greedy policy taken from the target (Polyak-averaged) "
                "weights (greedy_on_target=True)",
                "sb3": "absent: SB3 acts with the online q_net, and this benchmark "
                "evaluates SB3's q_net as its predict() would",
            }
        )
    if one_hot:
        lacks.append(
            {
                "feature": "yesterday's price one-hot encoded inside the Q-network",
                "sb3": "absent for a Box observation (SB3 one-hot encodes only "
                "Discrete spaces); the MLP sees the raw 3 floats",
            }
        )
    lacks.append(
        {
            "feature": "reward scaling (reward_scale="
            f"{cfg.reward_scale!r}: None = 1 / optimum per day)",
            "sb3": "no built-in (VecNormalize's running-std reward normalisation is "
            "a different thing); sb3_same_hparams gets the same factor through "
            "a gymnasium TransformReward wrapper unless --sb3-reward-scale none",
        }
    )
    lacks.append(
        {
            "feature": "environment as batched torch tensors (VectorGasStation)",
            "sb3": "DummyVecEnv steps num_envs Python gymnasium envs one by one, with "
            "a Monitor wrapper each, and converts numpy <-> torch every step",
        }
    )
    lacks.append(
        {
            "feature": "replay buffer of preallocated torch tensors; fused Adam; "
            "Polyak update as one torch._foreach_lerp_",
            "sb3": "numpy replay buffer copied to torch per sample; default Adam; "
            "Polyak update as a Python loop over parameters",
        }
    )
    if cfg.max_grad_norm is None:
        lacks.append(
            {
                "feature": "no gradient clipping",
                "sb3": "always clips; given max_grad_norm=inf (a no-op clip)",
            }
        )
    return lacks


# ---- verdicts -------------------------------------------------------------------------------
def compare(summary: dict, runs: dict, other: str, metric: str) -> dict:
    """Ratio other / forecourt of the median `metric` ("hold" or "reach") time."""
    fc, ot = summary["forecourt"], summary[other]
    out = {
        "forecourt_s": fc[f"median_{metric}_s"],
        "sb3_s": ot[f"median_{metric}_s"],
        "throughput_ratio": ratio(fc["median_env_steps_per_s"], ot["median_env_steps_per_s"]),
    }
    if out["sb3_s"] is not None:
        return out | {"ratio": ratio(out["sb3_s"], out["forecourt_s"]), "sb3_censored": False}
    never = [r for r in runs[other] if r[f"{metric}_s"] is None]
    lb = ot[f"median_{metric}_lower_bound_s"]
    return out | {
        "ratio": None,
        "sb3_censored": True,
        "sb3_lower_bound_s": lb,
        "ratio_lower_bound": ratio(lb, out["forecourt_s"]),
        "sb3_runs_never_there_cut_by_budget": sum(r["stopped_by_budget"] for r in never),
        "sb3_runs_never_there_full_run": sum(not r["stopped_by_budget"] for r in never),
    }


def verdict_ratio(cmp: dict, target: float) -> dict:
    """met: True / False / None (undecided), with the basis it rests on."""
    if cmp["forecourt_s"] is None:
        met, basis = None, "forecourt_not_there_in_median_run"
    elif not cmp["sb3_censored"]:
        met, basis = cmp["ratio"] >= target, "ratio_of_medians"
    elif cmp["ratio_lower_bound"] is not None and cmp["ratio_lower_bound"] >= target:
        met, basis = True, "lower_bound"  # SB3's whole training time already >= target x
    elif cmp["sb3_runs_never_there_cut_by_budget"] == 0:
        # every SB3 run that never got there ran its complete configured training
        met, basis = True, "sb3_never_there_in_full_run"
    else:
        met, basis = None, "undecided_raise_sb3_budget"
    notes = {
        "ratio_of_medians": "median SB3 time / median Forecourt time",
        "lower_bound": "SB3 never got there in the median run; its whole training time "
        "counted as its time already gives >= the target ratio",
        "sb3_never_there_in_full_run": "SB3 did not get there at all in its complete run of "
        "the configured env steps, so no finite ratio exists; "
        "see throughput_ratio for the per-step speed alone",
        "undecided_raise_sb3_budget": "SB3 never got there before its time budget and the "
        "lower bound is below target: raise --sb3-budget-s",
        "forecourt_not_there_in_median_run": "Forecourt did not get there in the median run",
    }
    return {"target": f">= {target:g}x", "met": met, "basis": basis, "note": notes[basis], **cmp}


def verdicts(summary: dict, runs: dict) -> dict:
    holds = [r["hold_s"] for r in runs["forecourt"]]
    med = summary["forecourt"]["median_hold_s"]
    return {
        f"forecourt_holds_99_within_{TARGET_HOLD_S:g}s": {
            "median_hold_s": med,
            "per_seed_hold_s": holds,
            "met": med is not None and med <= TARGET_HOLD_S,
            "met_every_seed": all(h is not None and h <= TARGET_HOLD_S for h in holds),
        },
        "vs_sb3_defaults_hold": verdict_ratio(
            compare(summary, runs, "sb3_defaults", "hold"), TARGET_VS_SB3_DEFAULTS
        ),
        "vs_sb3_same_hparams_hold": verdict_ratio(
            compare(summary, runs, "sb3_same_hparams", "hold"), TARGET_VS_SB3_SAME
        ),
        "vs_sb3_defaults_reach": verdict_ratio(
            compare(summary, runs, "sb3_defaults", "reach"), TARGET_VS_SB3_DEFAULTS
        ),
        "vs_sb3_same_hparams_reach": verdict_ratio(
            compare(summary, runs, "sb3_same_hparams", "reach"), TARGET_VS_SB3_SAME
        ),
    }


# ---- driver ---------------------------------------------------------------------------------
def _warm_up(market: Market, objective: str, optimum: float) -> None:
    """One short untimed run of each implementation, so neither pays first-call costs."""
    cfg = DQNConfig()
    short = dataclasses.replace(
        cfg, total_env_steps=cfg.num_envs * cfg.eval_interval, learning_starts=cfg.batch_size
    )
    train(market, objective, short)
    DQN, BaseCallback = _sb3()  # noqa: N806
    model = DQN("MlpPolicy", gym.make(ENV_IDS[objective]), learning_starts=64, seed=0)
    _learn_sb3(
        model, 512, market, objective, optimum, 256, math.inf, time.perf_counter(), BaseCallback
    )


def _log_run(variant: str, r: dict) -> None:
    def s(x):
        return "never" if x is None else f"{x:.2f} s"

    log(
        f"[{variant}] seed {r['seed']}: reach {s(r['reach_s'])}, hold {s(r['hold_s'])}, "
        f"final {r['final_fraction']:.2%}, {r['env_steps']:,} env steps in {r['train_s']:.1f} s "
        f"({r['env_steps_per_s']:,.0f}/s, cpu share {r['cpu_share']:.2f})"
        + (" [budget hit]" if r["stopped_by_budget"] else "")
    )


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agent", choices=sorted(ENV_IDS), default="profit")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    p.add_argument(
        "--sb3-budget-s", type=float, default=60.0, help="training-time cap (s) for each SB3 run"
    )
    p.add_argument(
        "--sb3-reward-scale",
        choices=("forecourt", "none"),
        default="forecourt",
        help="give sb3_same_hparams Forecourt's reward scale (wrapper) or not",
    )
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--tag", default="", help="suffix for the results file name")
    args = p.parse_args(argv)
    if "forecourt" not in args.variants:
        p.error("the forecourt variant is the yardstick and cannot be left out")

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    threads = set_single_thread()
    cfg = DQNConfig()
    market, objective = Market(), args.agent
    optimum = solve(market, objective).value
    best_level, best_const = best_constant_price(market, objective)
    seeds = list(range(args.seeds))
    log(
        f"[dqn_vs_sb3] agent={objective}, seeds={seeds}, SB3 budget {args.sb3_budget_s:g} s, "
        f"torch threads {threads} (Forecourt's DQNConfig.torch_threads={cfg.torch_threads}); "
        f"optimum {optimum:,.1f}, best constant price {best_const:.2%} of it"
    )
    if cfg.torch_threads != threads:
        log(f"[dqn_vs_sb3] note: SB3 runs use DQNConfig.torch_threads={cfg.torch_threads} too")
    log("[dqn_vs_sb3] warm-up (untimed) ...")
    _warm_up(market, objective, optimum)

    runs: dict[str, list[dict]] = {v: [] for v in args.variants}
    for variant in args.variants:
        for seed in seeds:
            log(f"[{variant}] seed {seed} ...")
            torch.set_num_threads(cfg.torch_threads)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            try:
                if variant == "forecourt":
                    r = run_forecourt(market, objective, seed)
                else:
                    r = run_sb3(
                        variant,
                        market,
                        objective,
                        optimum,
                        seed,
                        args.sb3_budget_s,
                        args.sb3_reward_scale,
                    )
            finally:
                torch.set_num_threads(threads)
            # CPU seconds this process got per wall second of the run (evaluation included):
            # ~1.0 on a quiet machine; well below 1 means other processes took the core
            r["cpu_share"] = round((time.process_time() - cpu0) / (time.perf_counter() - wall0), 3)
            runs[variant].append(r)
            _log_run(variant, r)

    summary = {v: summarize_variant(rs) for v, rs in runs.items()}
    shares = [r["cpu_share"] for rs in runs.values() for r in rs]
    contention = {
        "min_cpu_share": min(shares),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "contended": min(shares) < CPU_SHARE_OK,
        "note": f"cpu_share = process CPU s / wall s per run; below {CPU_SHARE_OK} means "
        "another process competed for the CPU and the times are inflated",
    }
    if contention["contended"]:
        log(f"[dqn_vs_sb3] WARNING: min cpu_share {min(shares):.2f}: timings are contended")
    result = {
        "benchmark": "dqn_vs_sb3",
        "name": f"dqn_vs_sb3_{objective}" + (f"_{args.tag}" if args.tag else ""),
        "command_args": argv if argv is not None else sys.argv[1:],
        "agent": objective,
        "market": "Market() defaults",
        "seeds": seeds,
        "target_fraction": TARGET_FRACTION,
        "optimum": optimum,
        "best_constant_price": {"level": best_level, "fraction_of_optimum": best_const},
        "torch_threads": {
            "benchmark_process": threads,
            "forecourt_and_sb3_runs": cfg.torch_threads,
        },
        "timing": "training wall time (time.perf_counter), clock started before env + model "
        "are built, evaluation time subtracted, same for every variant; one "
        "untimed warm-up run of each implementation first",
        "evaluation": {
            "how": "greedy policy, exact expected return (noise-free rollout) / DP optimum",
            "every_env_steps": cfg.eval_interval * cfg.num_envs,
        },
        "sb3_budget_s": args.sb3_budget_s,
        "machine": machine_facts() | {"load_average_at_start": load_at_start},
        "contention": contention,
        "forecourt_config": cfg.to_dict(),
        "sb3_defaults_config": _sb3_defaults(),
        "sb3_same_hparams_mapping": sb3_same_hparams_kwargs(cfg)[1]
        | {
            "reward_scale": "TransformReward(r * forecourt scale)"
            if args.sb3_reward_scale == "forecourt"
            else "none (raw rewards)"
        },
        "forecourt_features_sb3_lacks": forecourt_features_sb3_lacks(cfg, market.n_prices),
        "summary": summary,
    }
    if {"sb3_defaults", "sb3_same_hparams"} <= set(args.variants):
        result["verdict"] = verdicts(summary, runs)
    result["runs"] = runs
    _log_summary(result)
    return result


def _sb3_defaults() -> dict:
    DQN, _ = _sb3()  # noqa: N806
    skip = {
        "self",
        "policy",
        "env",
        "tensorboard_log",
        "verbose",
        "seed",
        "device",
        "_init_setup_model",
        "replay_buffer_class",
        "replay_buffer_kwargs",
        "policy_kwargs",
    }
    params = inspect.signature(DQN.__init__).parameters
    out = {k: v.default for k, v in params.items() if k not in skip}
    out["net_arch"] = [64, 64]  # SB3's DQNPolicy default
    out["n_envs"] = 1
    out["total_timesteps"] = DQNConfig().total_env_steps
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}


def _log_summary(result: dict) -> None:
    for variant, s in result["summary"].items():
        log(
            f"[summary] {variant:17s} median hold {_fmt(s['median_hold_s'])}, reach "
            f"{_fmt(s['median_reach_s'])}, final {s['median_final_fraction']:.2%}, "
            f"{s['median_env_steps_per_s']:,.0f} env steps/s, holds {s['runs_holding_99']}/"
            f"{s['seeds']}"
        )
    for name, v in result.get("verdict", {}).items():
        if "ratio" in v:
            r = v["ratio"] if v["ratio"] is not None else v.get("ratio_lower_bound")
            shown = "n/a" if r is None else f"{'>= ' if v['ratio'] is None else ''}{r:.1f}x"
            log(f"[verdict] {name}: {shown} (target {v['target']}) met={v['met']} [{v['basis']}]")
        else:
            log(
                f"[verdict] {name}: median {_fmt(v['median_hold_s'])} met={v['met']} "
                f"(every seed: {v['met_every_seed']})"
            )


def _fmt(x: float | None) -> str:
    return "never" if x is None else f"{x:.2f} s"


def main(argv: list[str] | None = None) -> dict:
    result = run(argv)
    emit(result["name"], result)
    return result


if __name__ == "__main__":
    main()
