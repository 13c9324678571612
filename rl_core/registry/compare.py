"""Champion vs challenger: both evaluated now, on the same seeded scenarios of today's market.

A scenario is today's calibrated market with a different start price (yesterday's price on
day 0, drawn from the grid) and, by default, a unit-cost path that wanders from today's
cost (a seeded random walk, `cost_walk_std` $/L a day): the states a station can be in
tomorrow. Each policy's expected return per scenario is exact (`evaluate_policy`).

On a station network (`decide(agent, version, network)`) the scenarios are drawn over the
stations (`network_scenarios`: each a station's own market, cycling through a seeded
permutation of the stations, with the same start-price and cost-walk draws), so champion
and challenger price the same stations with their own demand levels; fractions are
sum of returns / sum of optima over those scenarios (the network fraction).

`decide` is the orchestration, in four parts that each read on their own:

1. `draw_scenarios` and `evaluate_contest` (here): the scenarios; the challenger's and the
   champion's bundles downloaded and evaluated on them (the best constant price instead
   of a champion that is missing or cannot price today's market) with the exact optima:
   a `judgement.Contest`;
2. `judgement.judge`: the pure rules (superiority, non-inferiority for a first model,
   guardrails) from those returns to a `Decision`, see rl_core/registry/judgement.py;
3. `promotion.promotion_move` / `carry_out`: with `apply`, the promotion rules move the
   alias (compare-and-set);
4. `record.record_decision`: tags, decision JSON and the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from rl_core.agents.dqn import allowed_argmax
from rl_core.envs.observation import COST, DAY, LEVEL, PREV, encode_torch
from rl_core.evaluation.baselines import best_constant_price, constant_policy
from rl_core.evaluation.evaluate import Evaluation, Policy, evaluate_policy
from rl_core.evaluation.optimum import solve
from rl_core.market.model import Market, check_objective
from rl_core.market.network import StationNetwork
from rl_core.registry.errors import ChampionChangedError
from rl_core.registry.judgement import (
    Contest,
    Decision,
    Evaluated,
    Guardrails,
    Thresholds,
    guardrail_checks,
    judge,
)
from rl_core.registry.judgement import paired_test as paired_test  # re-exported, as before
from rl_core.registry.promotion import (
    carry_out,
    champion_version,
    download_bundle,
    promotion_move,
)
from rl_core.registry.record import record_decision
from rl_core.training.bundle import PolicyBundle


def scenarios(
    market: Market, n: int = 64, seed: int = 0, cost_walk_std: float = 0.01
) -> list[Market]:
    """`n` seeded variants of `market`: start price from the grid, a cost random walk."""
    return _variants([market] * n, np.random.default_rng(seed), cost_walk_std)


def network_scenarios(
    network: StationNetwork, n: int = 64, seed: int = 0, cost_walk_std: float = 0.01
) -> list[Market]:
    """`n` seeded scenarios over the network's stations: each a station's own market (a
    seeded permutation of the stations, repeated if `n` exceeds them) with a start price
    from the grid and a cost random walk, as `scenarios`."""
    rng = np.random.default_rng(seed)
    markets = network.markets()
    order = np.concatenate([rng.permutation(len(markets)) for _ in range(-(-n // len(markets)))])
    return _variants([markets[i] for i in order[:n]], rng, cost_walk_std)


def _variants(markets: Sequence[Market], rng: np.random.Generator, cost_walk_std: float):
    """Each market with a start price drawn from its grid and a cost walk from its costs."""
    starts = rng.integers(0, markets[0].n_prices, size=len(markets))
    out = []
    for i, market in enumerate(markets):
        costs = market.costs
        if cost_walk_std > 0:
            steps = rng.normal(0, cost_walk_std, market.horizon - 1)
            walk = np.concatenate([[0.0], np.cumsum(steps)])
            costs = np.maximum(costs + walk, 0.0)
        out.append(
            market.replace(
                initial_price=float(market.prices[starts[i]]),
                unit_costs=tuple(float(c) for c in costs),
            )
        )
    return out


def bundle_policy(bundle: PolicyBundle, market: Market) -> Policy:
    """The bundle's greedy policy pricing `market`, even one calibrated on another grid.

    Calibration moves the price grid a little every day, so yesterday's champion rarely
    shares today's grid. Observations are translated into the bundle's own terms
    (yesterday's price to its nearest level, today's cost and the station's demand level
    onto its scale, see `rl_core.envs.observation`) and its price
    back to today's nearest level; on the same grid this is the identity. Its greedy level
    ranges over those its own market's move limit allows (the agent's action mask).
    """
    net = bundle.load_policy()
    n_features = len(bundle.features)  # a pre-station-feature bundle reads 3 columns

    def module(obs: torch.Tensor) -> torch.Tensor:
        return net(obs[:, :n_features])

    own = bundle.market
    own_prices = torch.as_tensor(own.prices, dtype=torch.float32)
    prices = torch.as_tensor(market.prices, dtype=torch.float32)
    same_grid = own.n_prices == market.n_prices and np.allclose(
        (own.price_min, own.price_max), (market.price_min, market.price_max)
    )

    def nearest(grid: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return (grid[None, :] - p[:, None]).abs().argmin(dim=1)

    @torch.no_grad()
    def policy(obs: torch.Tensor) -> torch.Tensor:
        obs = obs.float()
        prev_level = torch.round(obs[:, PREV] * (market.n_prices - 1)).long()
        if same_grid:
            return allowed_argmax(module(obs), prev_level, own)
        prev = prices[prev_level]
        width = market.price_max - market.price_min
        cost = market.price_min + obs[:, COST] * width
        choke = market.price_max + obs[:, LEVEL] * width  # column 3 counts from the ceiling
        own_width = own.price_max - own.price_min
        own_prev = nearest(own_prices, prev)
        own_obs = encode_torch(
            obs[:, DAY],
            own_prev.float() / (own.n_prices - 1),
            (cost - own.price_min) / own_width,
            (choke - own.price_max) / own_width,
        )
        return nearest(prices, own_prices[allowed_argmax(module(own_obs), own_prev, own)])

    return policy


def compatible(bundle: PolicyBundle, market: Market) -> str | None:
    """Why `bundle` cannot price `market` (another planning horizon), or None.

    A different price grid is fine (`bundle_policy` translates); a different horizon is
    not, since the policy's day feature is a fraction of its own horizon.
    """
    if bundle.market.horizon != market.horizon:
        return (
            f"it plans {bundle.market.horizon}-day horizons, today's market {market.horizon} days"
        )
    return None


def _evaluated(ev: Evaluation, optima: np.ndarray) -> Evaluated:
    figures = {
        k: v
        for k, v in ev.to_dict().items()
        if k in ("total_reward", "fraction_of_optimum", "volume", "profit", "optimum")
    }
    return Evaluated(
        returns=ev.scenario_fractions * optima,
        prices=ev.prices,
        profit=ev.profit,
        fraction_of_optimum=ev.fraction_of_optimum,
        figures=figures,
    )


def check_guardrails(ev: Evaluation, market: Market, agent: str, g: Guardrails) -> list[dict]:
    """`judgement.guardrail_checks` on an evaluation; the band defaults to `market`'s grid."""
    return guardrail_checks(ev.prices, ev.profit, agent, g, (market.price_min, market.price_max))


def draw_scenarios(
    market_or_scenarios: Market | StationNetwork | Sequence[Market],
    n_scenarios: int = 64,
    seed: int = 0,
    cost_walk_std: float = 0.01,
) -> tuple[Market, list[Market]]:
    """(today's market: its grid and horizon, the scenarios) for `decide`'s argument."""
    if isinstance(market_or_scenarios, Market):
        return market_or_scenarios, scenarios(market_or_scenarios, n_scenarios, seed, cost_walk_std)
    if isinstance(market_or_scenarios, StationNetwork):
        scen = network_scenarios(market_or_scenarios, n_scenarios, seed, cost_walk_std)
        return market_or_scenarios.market, scen  # the shared grid and horizon
    scen = list(market_or_scenarios)
    return scen[0], scen


def evaluate_contest(
    agent: str, challenger_version: str, market: Market, scen: Sequence[Market]
) -> Contest:
    """Download and evaluate the challenger and the incumbent on `scen`, with the exact optima.

    The incumbent is the champion, or, with none or one that cannot price `market` (another
    horizon), the best constant price on these scenarios (a first model's contest). The
    version already in service is not evaluated against itself.
    """
    optima = np.array([solve(m, agent).value for m in scen])
    champ = champion_version(agent)
    ch_bundle = download_bundle(agent, challenger_version)
    notes: dict = {}
    why_not = compatible(ch_bundle, market)
    ch_ev = (
        None if why_not else evaluate_policy(bundle_policy(ch_bundle, market), scen, agent, optima)
    )

    inc_ev, baseline = None, ""
    if champ is not None and champ != challenger_version:
        champ_bundle = download_bundle(agent, champ)
        champ_issue = compatible(champ_bundle, market)
        if champ_issue is None:
            inc_ev = evaluate_policy(bundle_policy(champ_bundle, market), scen, agent, optima)
            baseline = f"champion v{champ}"
        else:
            notes["champion_incompatible"] = f"champion v{champ}: {champ_issue}"
    first_model = inc_ev is None  # no champion able to price today's market
    if inc_ev is None:
        level, _ = best_constant_price(scen, agent)
        inc_ev = evaluate_policy(constant_policy(level), scen, agent, optima)
        baseline = f"best constant price ${market.prices[level]:.2f}"
        notes["best_constant_level"] = level

    return Contest(
        agent=agent,
        challenger_version=challenger_version,
        champion_version=champ,
        optima=optima,
        challenger=None if ch_ev is None else _evaluated(ch_ev, optima),
        incumbent=_evaluated(inc_ev, optima),
        baseline=baseline,
        first_model=first_model,
        price_grid=(market.price_min, market.price_max),
        incompatible=why_not,
        evidence=notes,
    )


def decide(
    agent: str,
    challenger_version: str | int,
    market_or_scenarios: Market | StationNetwork | Sequence[Market],
    *,
    margin: float = 0.005,
    n_scenarios: int = 64,
    seed: int = 0,
    guardrails: Guardrails | None = None,
    alpha: float = 0.05,
    cost_walk_std: float = 0.01,
    first_model_min_fraction: float = 0.99,
    non_inferiority_margin: float = 0.01,
    apply: bool = True,
    report: bool = True,
) -> Decision:
    """Evaluate champion and challenger now on the same scenarios and decide (see module doc).

    `market_or_scenarios`: today's calibrated market (scenarios are drawn from it), today's
    station network (scenarios drawn over its stations, `network_scenarios`) or an explicit
    list of scenario markets. With `apply`, a `promoted` outcome moves the alias
    (compare-and-set against the champion evaluated here). The decision is recorded as tags
    on the challenger's version and, with `report`, as a markdown report and PNG under
    <FORECOURT_HOME>/reports/registry/.
    """
    check_objective(agent)
    market, scen = draw_scenarios(market_or_scenarios, n_scenarios, seed, cost_walk_std)
    contest = evaluate_contest(agent, str(challenger_version), market, scen)
    thresholds = Thresholds(margin, alpha, first_model_min_fraction, non_inferiority_margin)
    decision = judge(contest, thresholds, guardrails, seed=seed)
    if apply:
        decision = _apply(decision, report)
    return record_decision(decision, report)


def _apply(decision: Decision, report: bool) -> Decision:
    """The promotion rules on a fresh decision (a `promoted` one moves the alias). When the
    champion changed since the evaluation, the decision is recorded as kept and the error
    raised."""
    record = decision.to_record()
    try:
        moved = carry_out(decision.agent, record, promotion_move(record))
    except ChampionChangedError as exc:
        record_decision(replace(decision, outcome="kept", reason=f"not applied: {exc}"), report)
        raise
    return replace(decision, applied=moved)
