"""The exact optimum of a market's expected return, by dynamic programming.

The state of the pricing problem is (day t, yesterday's price level j) and the action is
today's price level i; the expected reward r_t(j, i) is known in closed form (see
`rl_core.market.model`), so backward induction

    V_H(j) = 0,    Q_t(j, i) = r_t(j, i) + V_{t+1}(i),    V_t(j) = max_i Q_t(j, i)

gives the optimal expected return V_0(j0) and an optimal policy, in O(H * n^2).
The cost path is known in full to the DP: it *anticipates* tomorrow's cost. See
`non_anticipating_plan` for the best a policy that sees only today's cost can do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rl_core.market.model import Market, check_objective


@dataclass(frozen=True)
class Optimum:
    value: float  # optimal expected total reward from the market's initial price
    q: np.ndarray  # (horizon, n_prices prev, n_prices action) optimal action values
    policy: np.ndarray  # (horizon, n_prices prev) -> optimal action index
    actions: np.ndarray  # (horizon,) optimal action path from the initial price


def reward_table(market: Market, objective: str) -> np.ndarray:
    """Expected reward r[t, j, i] of charging price i on day t after price j yesterday."""
    check_objective(objective)
    p = market.prices
    prev, now = p[:, None], p[None, :]
    litres = market.demand.demand(now, prev)  # (n, n)
    if objective == "demand":
        return np.broadcast_to(litres, (market.horizon, *litres.shape)).copy()
    margin = now[None, :, :] - market.costs[:, None, None]  # (H, 1, n)
    return margin * litres[None]


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
    """Expected total reward of a fixed sequence of price indices."""
    r = reward_table(market, objective)
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
