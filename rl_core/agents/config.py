"""DQN's hyperparameters, torch-free: the MWAA worker (no torch) plans the search from them.

`DQNConfig()` holds the measured single-market defaults; `NETWORK_OVERRIDES` what a station
network changes (rl_core.training.network). `rl_core.pipeline.search` derives the search's
defaults from both, so they are written once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class DQNConfig:
    """All of DQN's knobs, with the defaults that hold 99% of the optimum (docs/performance.md)."""

    # fields in their historical order: to_dict() (checkpoints, MLflow params) follows it
    total_env_steps: int = 600_000  # environment transitions (days x stations) to train on
    num_envs: int = 64  # markets stepped at once (one vector step = num_envs transitions)
    buffer_size: int = 600_000  # replay capacity: keeps every transition of the default budget
    batch_size: int = 128  # transitions per gradient update, sampled uniformly from replay
    learning_starts: int = 5_000  # transitions collected before the first update
    updates_per_step: int = 1  # gradient updates per vector step (num_envs transitions)
    learning_rate: float = 1e-3  # Adam's initial learning rate
    final_lr_fraction: float = 0.05  # learning rate decays linearly to lr * this
    # gamma < 1 shortens the credit horizon (faster, steadier TD learning) at the price of
    # shrinking the Q margin between near-tied price cycles; 0.9 keeps the undiscounted
    # optimal policy on the default market (DP) with margins wide enough to learn (measured)
    gamma: float = 0.9  # discount per day
    n_step: int = 1  # bootstrap after n days (n-step returns)
    tau: float = 0.01  # soft (Polyak) target update per gradient step: target += tau * diff
    huber_delta: float = 1.0  # Huber loss: quadratic within delta of the target, linear beyond
    max_grad_norm: float | None = None  # gradient norm clip; None: Huber already bounds it
    exploration_initial: float = 1.0  # epsilon at the first step (1: uniformly random prices)
    exploration_final: float = 0.05  # keeps near-tied prices sampled to the end
    exploration_fraction: float = 0.3  # fraction of training over which epsilon decays
    hidden: tuple[int, ...] = (64, 64)  # hidden layer widths of the Q-network
    double_dqn: bool = True  # online net picks tomorrow's price, target net values it
    greedy_on_target: bool = True  # deploy the EMA (target) weights: steadier than online
    reward_scale: float | None = None  # reward multiplier; None: 1 / (optimum per day)
    # with reward_scale None and a pool of markets the agent can tell apart (a station
    # network: the demand-level feature names the station), scale each market's rewards by
    # its own optimum per day, so a small station's Q-values are learnt as precisely as a
    # big one's; off for pools it cannot tell apart (cost windows), where it would reweight
    # indistinguishable states and change the optimal policy
    scale_per_market: bool = False  # per-market reward scale for a pool (see above)
    eval_interval: int = 50  # vector steps between greedy evaluations (the training curve)
    torch_threads: int = 1  # one thread beats two for networks this small (measured)
    seed: int = 0  # seeds torch, the env batch and the replay sampler (seed + 1)

    def __post_init__(self) -> None:
        problems = [
            f"{name}={getattr(self, name)} must be > 0"
            for name in (
                "total_env_steps",
                "num_envs",
                "buffer_size",
                "batch_size",
                "learning_rate",
                "eval_interval",
                "updates_per_step",
                "n_step",
            )
            if not getattr(self, name) > 0
        ]
        if not 0.0 <= self.gamma <= 1.0:
            problems.append(f"gamma={self.gamma} must be in [0, 1]")
        if not 0.0 < self.tau <= 1.0:
            problems.append(f"tau={self.tau} must be in (0, 1]")
        if self.learning_starts < 0:
            problems.append(f"learning_starts={self.learning_starts} must be >= 0")
        if not 0.0 <= self.final_lr_fraction <= 1.0:  # < 0 would turn the lr negative
            problems.append(f"final_lr_fraction={self.final_lr_fraction} must be in [0, 1]")
        if self.reward_scale is not None and not self.reward_scale > 0:
            problems.append(f"reward_scale={self.reward_scale} must be > 0 (or None)")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            problems.append(f"hidden={self.hidden} needs at least one layer, each width >= 1")
        for name in ("exploration_initial", "exploration_final"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name}={getattr(self, name)} must be in [0, 1]")
        if not 0.0 < self.exploration_fraction <= 1.0:
            problems.append(f"exploration_fraction={self.exploration_fraction} must be in (0, 1]")
        if self.torch_threads < 1:
            problems.append(f"torch_threads={self.torch_threads} must be >= 1")
        if problems:
            raise ValueError("invalid DQN configuration: " + "; ".join(problems))
        self.hidden = tuple(self.hidden)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# What a network needs beyond DQNConfig()'s single-market defaults (measured on synthetic
# networks of 20 and 2,000 stations, tests/test_station_network.py): a wider network to
# represent Q over the demand level too, a higher learning rate, and rewards scaled per
# station so small stations are learnt as precisely as big ones. The greedy evaluation
# during training is only a curve here, so it runs less often.
NETWORK_OVERRIDES: dict = {
    "hidden": (128, 128),
    "learning_rate": 2e-3,
    "scale_per_market": True,
    "eval_interval": 500,
}
