"""The exact optimum of a market's expected return, by dynamic programming.

The state of the pricing problem is (day t, yesterday's price level j) and the action is
today's price level i; the expected reward r_t(j, i) is known in closed form (see
`rl_core.market.model`), so backward induction

    V_H(j) = 0,    Q_t(j, i) = r_t(j, i) + V_{t+1}(i),    V_t(j) = max_i Q_t(j, i)

gives the optimal expected return V_0(j0) and an optimal policy, in O(H * n^2).
The cost path is known in full to the DP: it *anticipates* tomorrow's cost. See
`non_anticipating_plan` for the best a policy that sees only today's cost can do.

With a daily move limit (`Market.max_daily_move`) a price i the day after j with
|p_i - p_j| > m is unreachable: r_t(j, i) = -inf, so the optimum and its policy stay inside
the limit. That is the same optimum as the environments' clipping (asking for a disallowed
level charges the nearest allowed one, which the DP can choose directly). Paths given to
`path_return` and `batch_path_metrics` are clipped the same way before they are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rl_core.market.model import (
    Market,
    batch_litres,
    batch_move_bounds,
    check_objective,
    reward,
)


@dataclass(frozen=True)
class Optimum:
    value: float  # optimal expected total reward from the market's initial price
    q: np.ndarray  # (horizon, n_prices prev, n_prices action) optimal action values
    policy: np.ndarray  # (horizon, n_prices prev) -> optimal action index
    actions: np.ndarray  # (horizon,) optimal action path from the initial price


def reward_table(market: Market, objective: str) -> np.ndarray:
    """Expected reward r[t, j, i] of charging price i on day t after price j yesterday
    (-inf where the daily move limit forbids i after j)."""
    p = market.prices
    prev, now = p[:, None], p[None, :]
    litres = market.demand.demand(now, prev)  # (n, n)
    r = reward(objective, now[None, :, :], market.costs[:, None, None], litres[None])
    r = np.broadcast_to(r, (market.horizon, *litres.shape)).copy()  # (H, n, n), writable
    if market.max_daily_move is not None:
        r[:, ~market.allowed_moves()] = -np.inf
    return r


def solve(market: Market, objective: str) -> Optimum:
    """Backward induction over (day, yesterday's price level)."""
    r = reward_table(market, objective)
    horizon, n, _ = r.shape
    q = np.empty_like(r)
    v_next = np.zeros(n)
    for t in range(horizon - 1, -1, -1):
        q[t] = r[t] + v_next[None, :]
        v_next = q[t].max(axis=1)
    policy = q.argmax(axis=2)
    actions = np.empty(horizon, dtype=np.int64)
    j = market.initial_index
    for t in range(horizon):
        actions[t] = j = policy[t, j]
    return Optimum(
        value=float(q[0, market.initial_index].max()), q=q, policy=policy, actions=actions
    )


def path_return(market: Market, objective: str, actions: np.ndarray) -> float:
    """Expected total reward of a fixed sequence of price indices (as charged: clipped to the
    daily move limit day by day)."""
    r = reward_table(market, objective)
    actions = market.charged_path(actions)
    prev = np.concatenate([[market.initial_index], actions[:-1]])
    return float(r[np.arange(market.horizon), prev, actions].sum())


def non_anticipating_plan(market: Market, objective: str) -> np.ndarray:
    """Price path of the certainty-equivalent policy that knows only today's cost.

    Each day it re-solves the DP as if every remaining day cost what today costs (the
    best forecast of a random-walk wholesale price) and charges that plan's first price.
    Its return on the real path bounds what an agent observing only today's cost can be
    expected to reach; `solve` on the same market gives the anticipating optimum.
    """
    check_objective(objective)
    costs = market.costs
    actions = np.empty(market.horizon, dtype=np.int64)
    j = market.initial_index
    for t in range(market.horizon):
        rest = market.replace(
            horizon=market.horizon - t,
            unit_costs=(float(costs[t]),) * (market.horizon - t),
            initial_price=float(market.prices[j]),
        )
        actions[t] = j = solve(rest, objective).actions[0]
    return actions


@dataclass(frozen=True)
class BatchOptimum:
    """`solve` for many markets at once (e.g. every station of a network)."""

    values: np.ndarray  # (markets,) optimal expected return from each initial price
    policy: np.ndarray  # (horizon, markets, n_prices prev) -> optimal action index
    actions: np.ndarray  # (markets, horizon) optimal action path from each initial price


def _batch_arrays(markets: Sequence[Market]) -> dict[str, np.ndarray]:
    """Each market's grid, cost path and initial level as arrays (one row per market)."""
    first = markets[0]
    if any(m.horizon != first.horizon or m.n_prices != first.n_prices for m in markets):
        raise ValueError("markets solved in a batch must share horizon and n_prices")
    return {
        "prices": np.stack([m.prices for m in markets]),  # (S, n)
        "costs": np.stack([m.costs for m in markets]),  # (S, H)
        "initial": np.array([m.initial_index for m in markets]),
    }


def batch_charged_path(markets: Sequence[Market], actions: np.ndarray) -> np.ndarray:
    """Level paths (markets, horizon) as charged: each day clipped to its market's move limit."""
    actions = np.asarray(actions, dtype=np.int64)
    if all(m.max_daily_move is None for m in markets):
        return actions
    lo, hi = batch_move_bounds(markets)
    rows = np.arange(len(markets))
    out = np.empty_like(actions)
    j = np.array([m.initial_index for m in markets])
    for t in range(actions.shape[1]):
        out[:, t] = j = np.clip(actions[:, t], lo[rows, j], hi[rows, j])
    return out


def _batch_forbidden(markets: Sequence[Market]) -> np.ndarray | None:
    """forbidden[s, j, i]: market s's move limit rules out level i after j (None: no limit)."""
    if all(m.max_daily_move is None for m in markets):
        return None
    return ~np.stack([m.allowed_moves() for m in markets])


def solve_batch(markets: Sequence[Market], objective: str) -> BatchOptimum:
    """Backward induction for every market at once: numpy over markets, a loop over days.

    Same result as `[solve(m, objective) for m in markets]` (tested), without Q (it would
    take horizon x markets x n^2 floats: 200 MB for 2,000 stations).
    """
    check_objective(objective)
    markets = list(markets)
    a = _batch_arrays(markets)
    litres = batch_litres(markets)  # (S, n, n)
    forbidden = _batch_forbidden(markets)
    n_markets, horizon = a["costs"].shape
    n = litres.shape[1]
    rows = np.arange(n_markets)
    policy = np.empty((horizon, n_markets, n), dtype=np.int64)
    v = np.zeros((n_markets, n))
    for t in range(horizon - 1, -1, -1):
        today = reward(objective, a["prices"][:, None, :], a["costs"][:, t, None, None], litres)
        q = today + v[:, None, :]
        if forbidden is not None:
            q[forbidden] = -np.inf
        policy[t] = q.argmax(axis=2)
        v = np.take_along_axis(q, policy[t][:, :, None], axis=2)[:, :, 0]
    actions = np.empty((n_markets, horizon), dtype=np.int64)
    j = a["initial"]
    for t in range(horizon):
        actions[:, t] = j = policy[t, rows, j]
    return BatchOptimum(values=v[rows, a["initial"]], policy=policy, actions=actions)


def batch_path_metrics(
    markets: Sequence[Market], actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected (litres, profit) per market and day (markets, horizon) of level paths, as
    charged (clipped to each market's move limit, `batch_charged_path`)."""
    a = _batch_arrays(markets)
    actions = batch_charged_path(markets, actions)
    litres = batch_litres(markets)
    rows = np.arange(len(markets))[:, None]
    prev = np.concatenate([a["initial"][:, None], actions[:, :-1]], axis=1)
    sold = litres[rows, prev, actions]
    return sold, reward("profit", a["prices"][rows, actions], a["costs"], sold)
