"""`VectorGasStation` behind gymnasium's `VectorEnv` API: numpy in, numpy out.

    envs = gymnasium.make_vec("GasStationProfit-v0", num_envs=64,
                              vectorization_mode="vector_entry_point", market=Market())
    obs, info = envs.reset(seed=0)
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())

It is the registered `vector_entry_point` of both environments, so gymnasium tooling (and
any library that takes a `VectorEnv`) gets the fast batched twin instead of N copies of the
single env in `SyncVectorEnv`. Training keeps calling `VectorGasStation` directly (torch
tensors, no copies): this class adds the numpy conversion and the spaces only for those
who want the standard API (benchmarks/bench_env.py measures both).

Episodes end together on the horizon's last day (`terminated`, never `truncated`); the
batch then resets itself in the same step (`AutoresetMode.SAME_STEP`): the returned
observation is the next episode's first, the terminal one is in `info["final_obs"]`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rl_core.envs.observation import COST, DAY, LEVEL, PREV, bounds
from rl_core.envs.vector import VectorGasStation
from rl_core.market.model import Market


class GasStationVectorEnv(VectorEnv):
    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        market: Market | Sequence[Market] | None = None,
        objective: str = "profit",
        *,
        sample: bool = False,
        noise: bool = True,
        seed: int = 0,
        render_mode: str | None = None,
    ) -> None:
        markets = market if market is not None else Market()
        self.env = VectorGasStation(
            markets, objective, num_envs, sample=sample, seed=seed, noise=noise
        )
        self.num_envs = self.env.num_envs
        self.render_mode = render_mode
        pool = self.env.markets
        lows, highs = zip(*(bounds(m) for m in pool), strict=True)
        self.single_observation_space = spaces.Box(
            low=np.min(lows, axis=0), high=np.max(highs, axis=0), dtype=np.float32
        )
        self.single_action_space = spaces.Discrete(self.env.n_prices)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        return self.env.reset(seed).numpy(), {}

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not self.action_space.contains(
            actions.astype(np.int64)
        ):
            raise ValueError(
                f"actions {actions!r}: expected {self.num_envs} price levels in "
                f"0..{self.env.n_prices - 1}"
            )
        env = self.env
        last_day = env.day == env.horizon - 1
        if last_day:  # the batch resets inside step: keep what the terminal obs needs
            market_id, level = env.market_id, env.slot_level
        obs, reward, done = env.step(torch.as_tensor(actions, dtype=torch.long))
        terminated = np.full(self.num_envs, done)
        info: dict = {}
        if done:
            final = torch.empty_like(obs)
            final[:, DAY] = 1.0
            final[:, PREV] = env.prev_feature[env.last_actions]
            final[:, COST] = env.cost_feature[env.horizon, market_id]
            final[:, LEVEL] = level
            info = {"final_obs": final.numpy(), "final_info": {}}
        assert done == last_day
        return obs.numpy(), reward.numpy(), terminated, np.zeros(self.num_envs, bool), info


class GasStationDemandVectorEnv(GasStationVectorEnv):
    """Reward = litres sold: the vector entry point of `GasStationDemand-v0`."""

    def __init__(self, num_envs: int = 1, market=None, **kwargs) -> None:
        super().__init__(num_envs, market, "demand", **kwargs)


class GasStationProfitVectorEnv(GasStationVectorEnv):
    """Reward = (price - unit cost) * litres: the vector entry point of `GasStationProfit-v0`."""

    def __init__(self, num_envs: int = 1, market=None, **kwargs) -> None:
        super().__init__(num_envs, market, "profit", **kwargs)
