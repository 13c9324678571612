"""Train ONE agent for a whole station network, conditioned on each station's features.

    result = train_network(network, "profit")      # network: a StationNetwork
    result.evaluation.fraction_of_optimum          # sum of returns / sum of optima
    result.evaluation.recommendations()            # tomorrow's price per station

The agent trains on the pool of station markets (`VectorGasStation` samples a station per
episode slot; the observation carries the station's demand level), so the training cost
does not grow with the number of stations; only the final evaluation does, and that is
batched (`rl_core.evaluation.network`). During training the greedy policy is scored on a
fixed sample of `eval_stations` stations (the curve); the final score covers all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

# NETWORK_OVERRIDES (what a network changes in DQNConfig's defaults) lives with DQNConfig,
# torch-free, so the MWAA-side search derives its defaults from it too
from rl_core.agents.config import NETWORK_OVERRIDES, DQNConfig
from rl_core.evaluation.network import NetworkEvaluation, evaluate_network
from rl_core.market.network import StationNetwork
from rl_core.training.train import TrainResult, train

EVAL_STATIONS = 64  # stations scored at each evaluation during training


def network_config(**overrides) -> DQNConfig:
    """`DQNConfig` with `NETWORK_OVERRIDES`, then `overrides` (e.g. seed, total_env_steps)."""
    return DQNConfig(**{**NETWORK_OVERRIDES, **overrides})


@dataclass
class NetworkTrainResult:
    train: TrainResult  # the agent, its config and training curve (on the station sample)
    evaluation: NetworkEvaluation  # the final greedy policy at every station
    eval_s: float  # seconds of the final network evaluation

    def to_dict(self) -> dict:
        return {
            **self.evaluation.to_dict(),
            "train_s": round(self.train.train_s, 3),
            "final_eval_s": round(self.eval_s, 3),
            "env_steps": self.train.env_steps,
            "updates": self.train.updates,
            "hyperparameters": self.train.config.to_dict(),
        }


def train_network(
    network: StationNetwork,
    objective: str,
    config: DQNConfig | None = None,
    *,
    eval_stations: int = EVAL_STATIONS,
    progress: bool = False,
) -> NetworkTrainResult:
    """Train one station-aware agent on every station's market and score it on all."""
    cfg = config or network_config()
    markets = network.markets()
    rng = np.random.default_rng(cfg.seed)
    sample = np.sort(rng.choice(len(markets), min(eval_stations, len(markets)), replace=False))
    result = train(
        markets,
        objective,
        cfg,
        eval_markets=[markets[i] for i in sample],
        progress=progress,
    )
    t0 = time.perf_counter()
    evaluation = evaluate_network(result.agent.greedy, network, objective)
    return NetworkTrainResult(result, evaluation, time.perf_counter() - t0)
