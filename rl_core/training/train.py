"""Train a DQN pricing agent on vectorised markets, scored against the exact optimum.

    result = train(Market(), "profit")
    result.evaluation.fraction_of_optimum   # >= 0.99 with the default config

The loop, top to bottom: step `num_envs` markets with epsilon-greedy prices, store the
transitions, take `updates_per_step` gradient steps, decay epsilon and the learning rate
linearly, and every `eval_interval` vector steps roll out the greedy policy on the
evaluation scenarios (exact expected return, see `rl_core.evaluation.evaluate`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from rl_core.agents.dqn import DQNAgent, DQNConfig
from rl_core.agents.replay_buffer import NStepCollector, ReplayBuffer
from rl_core.envs.vector import VectorGasStation
from rl_core.evaluation.evaluate import Evaluation, evaluate_policy
from rl_core.evaluation.optimum import solve_batch
from rl_core.market.model import Market, check_objective, shared_move_bounds

TARGET_FRACTION = 0.99


@dataclass
class TrainResult:
    objective: str
    agent: DQNAgent
    config: DQNConfig
    evaluation: Evaluation  # final greedy policy on the evaluation scenarios
    curve: list[dict] = field(default_factory=list)  # one row per evaluation
    env_steps: int = 0
    updates: int = 0
    wall_s: float = 0.0  # whole call, evaluations included
    train_s: float = 0.0  # training only (what the speed targets count)

    def first_reach(self, threshold: float = TARGET_FRACTION) -> dict | None:
        """The first evaluation at or above `threshold`."""
        return next((row for row in self.curve if row["fraction"] >= threshold), None)

    def held_from(self, threshold: float = TARGET_FRACTION) -> dict | None:
        """The evaluation from which every later one stayed at or above `threshold`."""
        held = None
        for row in self.curve:
            if row["fraction"] < threshold:
                held = None
            elif held is None:
                held = row
        return held

    def tail_median(self, n: int = 5) -> float:
        return float(np.median([row["fraction"] for row in self.curve[-n:]]))

    def to_dict(self) -> dict:
        reach, hold = self.first_reach(), self.held_from()
        return {
            "agent": self.objective,
            "fraction_of_optimum": self.evaluation.fraction_of_optimum,
            "median_last_5_evals": self.tail_median(),
            "total_reward": self.evaluation.total_reward,
            "optimum": self.evaluation.optimum,
            "volume": self.evaluation.volume,
            "profit": self.evaluation.profit,
            "env_steps": self.env_steps,
            "updates": self.updates,
            "wall_s": round(self.wall_s, 3),
            "train_s": round(self.train_s, 3),
            "reached_99_at": _point(reach),
            "held_99_from": _point(hold),
            "hyperparameters": self.config.to_dict(),
        }


def _point(row: dict | None) -> dict | None:
    return None if row is None else {k: row[k] for k in ("env_steps", "updates", "train_s")}


def train(
    markets: Market | Sequence[Market],
    objective: str,
    config: DQNConfig | None = None,
    *,
    eval_markets: Market | Sequence[Market] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train on `markets` (a pool, sampled per episode) and evaluate on `eval_markets`.

    Nothing is written: `rl_core.training.checkpoint.save_checkpoint` saves the result."""
    check_objective(objective)
    cfg = config or DQNConfig()
    pool = [markets] if isinstance(markets, Market) else list(markets)
    scenarios = (
        pool
        if eval_markets is None
        else ([eval_markets] if isinstance(eval_markets, Market) else list(eval_markets))
    )
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.torch_threads)
    try:
        result = _train(cfg, pool, scenarios, objective, progress, start)
    finally:
        torch.set_num_threads(threads)
    result.wall_s = time.perf_counter() - start
    return result


def _train(cfg: DQNConfig, pool, scenarios, objective, progress, start) -> TrainResult:
    """The DQN loop, top to bottom (CleanRL's dqn.py, over a batch of markets)."""
    # ---- setup: seeds, the yardstick, environments, agent, replay
    torch.manual_seed(cfg.seed)  # the Q-network's initial weights
    optima = solve_batch(scenarios, objective).values.tolist()  # exact optimum per scenario
    env = VectorGasStation(pool, objective, cfg.num_envs, sample=len(pool) > 1, seed=cfg.seed)
    # rewards in units of "an optimal day", so Q-values count days and need no tuning
    scale = _reward_scale(cfg, pool, scenarios, optima, objective)
    agent = DQNAgent(env.obs_dim, env.n_prices, cfg, move_bounds=shared_move_bounds(pool))
    buffer = ReplayBuffer(cfg.buffer_size, env.obs_dim)
    collector = NStepCollector(buffer, cfg.n_step, cfg.gamma)  # n-step returns into `buffer`
    rng = torch.Generator().manual_seed(cfg.seed + 1)  # exploration and replay sampling

    vector_steps = max(1, cfg.total_env_steps // cfg.num_envs)
    explore_steps = max(1, int(cfg.exploration_fraction * vector_steps))
    curve: list[dict] = []
    eval_s = 0.0  # time spent evaluating, left out of train_s
    updates, losses = 0, []
    episode_return = torch.zeros(env.num_envs)  # running return of the exploring policy
    finished_returns: list[torch.Tensor] = []
    bar = tqdm(
        total=vector_steps * cfg.num_envs,
        unit="step",
        disable=not progress,
        desc=f"train {objective}",
        leave=False,
    )

    obs = env.reset()
    for step in range(1, vector_steps + 1):
        # ---- act: epsilon-greedy, epsilon decaying linearly over explore_steps
        epsilon = cfg.exploration_initial + min(1.0, step / explore_steps) * (
            cfg.exploration_final - cfg.exploration_initial
        )
        actions = agent.act(obs, epsilon, rng)

        # ---- step every market one day and store the (scaled) transitions; each slot's
        # scale is read before the step, which reassigns markets when the episodes end
        slot_scale = scale if isinstance(scale, float) else scale[env.market_id]
        next_obs, reward, done = env.step(actions)
        collector.add(obs, actions, reward * slot_scale, next_obs, done)
        obs = next_obs  # on the last day: already the first of the next episodes
        episode_return += reward
        if done:
            finished_returns.append(episode_return.mean())
            episode_return = torch.zeros(env.num_envs)

        # ---- learn: the learning rate decays linearly to lr * final_lr_fraction
        if buffer.size >= max(cfg.learning_starts, cfg.batch_size):
            frac_done = step / vector_steps
            agent.set_learning_rate(
                cfg.learning_rate * (1.0 - frac_done * (1.0 - cfg.final_lr_fraction))
            )
            for _ in range(cfg.updates_per_step):
                # a TD step on a replay batch, then the Polyak update of the target net
                losses.append(agent.update(*buffer.sample(cfg.batch_size, rng)))
                updates += 1

        # ---- evaluate the greedy policy exactly (noise-free rollouts vs the optimum)
        if step % cfg.eval_interval == 0 or step == vector_steps:
            t0 = time.perf_counter()
            ev = evaluate_policy(agent.greedy, scenarios, objective, optima)
            curve.append(
                {
                    "env_steps": step * cfg.num_envs,
                    "updates": updates,
                    "train_s": round(t0 - start - eval_s, 4),
                    "fraction": ev.fraction_of_optimum,
                    "total_reward": ev.total_reward,
                    "loss": float(torch.stack(losses).mean()) if losses else float("nan"),
                    # mean return of the training (epsilon-greedy) episodes since the last row
                    "episode_return": (
                        float(torch.stack(finished_returns).mean()) if finished_returns else None
                    ),
                    "epsilon": epsilon,
                    "learning_rate": agent.optimizer.param_groups[0]["lr"],
                }
            )
            losses, finished_returns = [], []
            eval_s += time.perf_counter() - t0
            bar.set_postfix(optimum=f"{ev.fraction_of_optimum:.2%}", eps=f"{epsilon:.2f}")
        bar.update(cfg.num_envs)
    bar.close()
    return TrainResult(
        objective=objective,
        agent=agent,
        config=cfg,
        evaluation=ev,  # the last evaluation: the final greedy policy
        curve=curve,
        env_steps=vector_steps * cfg.num_envs,
        updates=updates,
        train_s=time.perf_counter() - start - eval_s,
    )


def _reward_scale(cfg, pool, scenarios, optima, objective) -> float | torch.Tensor:
    """Reward multiplier: one float, or one per pool market (`DQNConfig.scale_per_market`)."""
    if cfg.reward_scale is not None:
        return float(cfg.reward_scale)
    if cfg.scale_per_market and len(pool) > 1:
        per_day = solve_batch(pool, objective).values / pool[0].horizon
        # a market whose optimum is ~0 (cannot sell at a profit) keeps the pool's scale
        mean = float(np.mean(per_day))
        per_day = np.where(per_day > 1e-3 * mean, per_day, mean)
        return torch.as_tensor(1.0 / per_day, dtype=torch.float32)
    return scenarios[0].horizon * len(optima) / float(np.sum(optima))
