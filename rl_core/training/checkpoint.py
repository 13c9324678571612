"""Checkpoints: everything needed to resume or evaluate an agent, written atomically."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from rl_core.agents.dqn import DQNAgent, DQNConfig
from rl_core.envs.observation import OBS_DIM
from rl_core.errors import ForecourtError
from rl_core.evaluation.evaluate import Evaluation
from rl_core.market.model import Market, shared_move_bounds
from rl_core.training.train import TrainResult


def save_checkpoint(result: TrainResult, markets: Sequence[Market], directory: Path) -> Path:
    """Write agent, config, markets and curve to `directory/dqn-<agent>.pt` (temp + rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"dqn-{result.objective}.pt"
    tmp = path.with_suffix(".pt.tmp")
    torch.save(
        {
            "objective": result.objective,
            "config": dataclasses.asdict(result.config),
            "markets": [m.to_dict() for m in markets],
            "agent": result.agent.state_dict(),
            "curve": result.curve,
            "evaluation": result.evaluation.to_dict(),
            # the arrays too, so load_result gives back the whole TrainResult (the daily
            # DAG trains in one task and registers the best trial in another)
            "evaluation_arrays": {
                "prices": result.evaluation.prices,
                "scenario_fractions": result.evaluation.scenario_fractions,
            },
            "stats": {
                "env_steps": result.env_steps,
                "updates": result.updates,
                "wall_s": result.wall_s,
                "train_s": result.train_s,
            },
        },
        tmp,
    )
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[DQNAgent, str, list[Market], dict]:
    """(agent, objective, training markets, raw checkpoint) from a checkpoint file."""
    path = Path(path)
    if not path.is_file():
        raise ForecourtError(f"no checkpoint at {path} (train one with `forecourt train`)")
    ckpt = torch.load(path, weights_only=False)
    markets = [Market.from_dict(d) for d in ckpt["markets"]]
    config = DQNConfig(**ckpt["config"])
    agent = DQNAgent(OBS_DIM, markets[0].n_prices, config, move_bounds=shared_move_bounds(markets))
    agent.load_state_dict(ckpt["agent"])
    return agent, ckpt["objective"], markets, ckpt


def load_result(path: str | os.PathLike) -> TrainResult:
    """The TrainResult a checkpoint was saved from (agent, config, curve, evaluation)."""
    agent, objective, _, ckpt = load_checkpoint(path)
    if "evaluation_arrays" not in ckpt:
        raise ForecourtError(f"{path} predates full-result checkpoints: train it again")
    ev = ckpt["evaluation"]
    evaluation = Evaluation(
        objective=ev["objective"],
        total_reward=ev["total_reward"],
        optimum=ev["optimum"],
        fraction_of_optimum=ev["fraction_of_optimum"],
        volume=ev["volume"],
        profit=ev["profit"],
        prices=ckpt["evaluation_arrays"]["prices"],
        scenario_fractions=ckpt["evaluation_arrays"]["scenario_fractions"],
    )
    return TrainResult(
        objective=objective,
        agent=agent,
        config=agent.config,
        evaluation=evaluation,
        curve=ckpt["curve"],
        **ckpt["stats"],
    )
