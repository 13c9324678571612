"""The vectorised twin of `GasStationEnv`: many markets stepped at once as torch tensors.

Same dynamics, observation and reward as the gymnasium env (tested equal), but one `step`
advances `num_envs` stations by a day with a handful of tensor operations: expected litres
are precomputed as a table over (yesterday's level, today's level) per market, so a step
is a gather, an optional noise multiply and a margin lookup.

The batch draws from a pool of markets (for example one per 30-day window of a real cost
series): with `sample=True` every slot picks a random market of the pool at each episode
start; otherwise slot k runs market k (or every slot the one market given). All markets
share `horizon` and `n_prices`, so all episodes end on the same step; the batch then
resets itself and the returned observation is already the next episode's first.

A market's daily move limit (`Market.max_daily_move`) clips each action into the levels
allowed after yesterday's (precomputed per market and yesterday's level), as the
gymnasium env does; `last_actions` holds the levels charged on the last step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rl_core.envs.observation import COST, DAY, LEVEL, OBS_DIM, PREV, demand_level_feature
from rl_core.market.model import (
    Market,
    batch_litres,
    batch_move_bounds,
    check_objective,
    reward,
)


class VectorGasStation:
    obs_dim = OBS_DIM

    def __init__(
        self,
        markets: Market | Sequence[Market],
        objective: str,
        num_envs: int | None = None,
        *,
        sample: bool = False,
        seed: int = 0,
        noise: bool = True,
        device: str | torch.device = "cpu",
    ) -> None:
        self.objective = check_objective(objective)
        pool = [markets] if isinstance(markets, Market) else list(markets)
        if not pool:
            raise ValueError("VectorGasStation needs at least one market")
        num_envs = num_envs or len(pool)
        if len(pool) not in (1, num_envs) and not sample:
            raise ValueError(
                f"{len(pool)} markets for {num_envs} slots: give one market, one per slot, "
                "or sample=True to draw from the pool"
            )
        first = pool[0]
        if any(m.horizon != first.horizon or m.n_prices != first.n_prices for m in pool):
            raise ValueError("all markets in a batch must share horizon and n_prices")
        self.markets = pool
        self.num_envs = num_envs
        self.sample = sample and len(pool) > 1
        self.horizon = first.horizon
        self.n_prices = n = first.n_prices
        self.device = torch.device(device)
        f32 = dict(dtype=torch.float32, device=self.device)

        prices = np.stack([m.prices for m in pool])  # (K, n)
        litres = batch_litres(pool)  # (K, n yesterday, n today)
        costs = np.stack([m.costs for m in pool])  # (K, H)
        # litres[k * n * n + j * n + i]: expected litres in market k, level j yesterday, i today
        self.litres = torch.as_tensor(litres, **f32).reshape(-1)
        # margin[t, k, i]: the reward per litre on day t in market k at level i (the reward
        # is linear in litres: $ per litre for profit, 1 for demand)
        one_litre = np.ones((self.horizon, *prices.shape))
        margin = reward(objective, prices[None, :, :], costs.T[:, :, None], one_litre)
        self.margin = torch.as_tensor(margin, **f32).reshape(-1)  # flat: (t * K + k) * n + i
        self.noise_std_pool = torch.as_tensor(
            [m.demand.noise_std if noise else 0.0 for m in pool], **f32
        )
        self.noisy = bool(self.noise_std_pool.max() > 0)
        self.prev_feature = torch.linspace(0.0, 1.0, n, **f32)
        lo = np.array([m.price_min for m in pool])[:, None]
        hi = np.array([m.price_max for m in pool])[:, None]
        cost_obs = (np.concatenate([costs, costs[:, -1:]], axis=1) - lo) / (hi - lo)
        self.cost_feature = torch.as_tensor(cost_obs.T.copy(), **f32)  # (H + 1, K)
        # each market's station feature (its demand level), constant over the episode
        self.level_feature = torch.as_tensor([demand_level_feature(m) for m in pool], **f32)
        self.initial_pool = torch.as_tensor(
            [m.initial_index for m in pool], dtype=torch.long, device=self.device
        )
        # move_lo/hi[k * n + j]: the lowest/highest level market k allows after level j
        self.limited = any(m.max_daily_move is not None for m in pool)
        lo, hi = batch_move_bounds(pool)
        self.move_lo = torch.as_tensor(lo.reshape(-1), dtype=torch.long, device=self.device)
        self.move_hi = torch.as_tensor(hi.reshape(-1), dtype=torch.long, device=self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.reset()

    def _assign_markets(self) -> None:
        k = len(self.markets)
        if self.sample:
            ids = torch.randint(k, (self.num_envs,), generator=self.generator, device=self.device)
        elif k == 1:
            ids = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        else:
            ids = torch.arange(self.num_envs, device=self.device)
        self.market_id = ids
        self.row_base = ids * (self.n_prices * self.n_prices)
        self.margin_base = ids * self.n_prices
        self.noise_std = self.noise_std_pool[ids]
        self.slot_level = self.level_feature[ids]
        self.prev = self.initial_pool[ids]
        self.day = 0

    def _observe(self) -> torch.Tensor:
        # the layout of `encode_torch`, filled column by column: fewer ops per step
        obs = torch.empty(self.num_envs, OBS_DIM, device=self.device)
        obs[:, DAY] = self.day / self.horizon
        obs[:, PREV] = self.prev_feature[self.prev]
        obs[:, COST] = self.cost_feature[self.day, self.market_id]
        obs[:, LEVEL] = self.slot_level
        return obs

    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self.generator.manual_seed(seed)
        self._assign_markets()
        return self._observe()

    def charged(self, actions: torch.Tensor) -> torch.Tensor:
        """The levels charged for `actions` today: clipped to each slot's move limit."""
        if not self.limited:
            return actions
        row = self.margin_base + self.prev
        return torch.maximum(torch.minimum(actions, self.move_hi[row]), self.move_lo[row])

    def _margin(self, actions: torch.Tensor) -> torch.Tensor:
        day_offset = self.day * len(self.markets) * self.n_prices
        return self.margin[self.margin_base + actions + day_offset]

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """Advance every station one day. Returns (next obs, reward, done).

        `done` is True for the whole batch on the last day; the observation returned then
        is the first of the next episode (a terminal state is never bootstrapped from).
        """
        actions = self.charged(actions)
        self.last_actions = actions
        litres = self.litres[self.row_base + self.prev * self.n_prices + actions]
        if self.noisy:
            eps = torch.randn(self.num_envs, generator=self.generator, device=self.device)
            litres = (litres * (1.0 + self.noise_std * eps)).clamp_(min=0.0)
        margin = self._margin(actions)
        self.last_litres = litres
        self.day += 1
        self.prev = actions
        done = self.day >= self.horizon
        if done:
            self._assign_markets()
        return self._observe(), litres * margin, done
