"""Champion vs challenger: both evaluated now, on the same seeded scenarios of today's market.

A scenario is today's calibrated market with a different start price (yesterday's price on
day 0, drawn from the grid) and, by default, a unit-cost path that wanders from today's
cost (a seeded random walk, `cost_walk_std` $/L a day): the states a station can be in
tomorrow. Each policy's expected return per scenario is exact (`evaluate_policy`). The
challenger is promoted only if

* it passes the guardrails (every price inside the band, every day-to-day move within the
  limit, and for the profit agent a non-negative mean planned profit), and
* it beats the incumbent (the champion, or with no champion the best constant price) by
  the relative `margin` significantly (superiority): the lower end of the one-sided paired
  bootstrap interval of sum(challenger) / sum(incumbent) - 1 over scenarios is above
  `margin`. A paired t-test of challenger - (1 + margin) x incumbent is reported alongside;
* or, when there is no champion to beat (none yet, or one that cannot price today's
  market), it is a good first model (non-inferiority): it holds at least
  `first_model_min_fraction` of the exact optimum over the scenarios, and it is not
  significantly worse than the best constant price: the same lower bound is above
  -`non_inferiority_margin`. Where the optimum *is* a flat price (the demand agent on a
  market whose best volume is at the price floor) no policy can beat the flat price, and
  superiority alone would leave the agent without a champion for good.

On a station network (`decide(agent, version, network)`) the scenarios are drawn over the
stations (`network_scenarios`: each a station's own market, cycling through a seeded
permutation of the stations, with the same start-price and cost-walk draws), so champion
and challenger price the same stations with their own demand levels; fractions are
sum of returns / sum of optima over those scenarios (the network fraction).

Outcomes: `rejected` (a guardrail failed, the challenger cannot price today's market, or
with no champion it is neither better nor a good first model), `kept` (not significantly
better than the champion), `promoted`. `Decision.rule` says which rule promoted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import torch
from scipy import stats

from rl_core.agents.dqn import allowed_argmax
from rl_core.envs.observation import COST, DAY, LEVEL, PREV, encode_torch
from rl_core.evaluation.baselines import best_constant_price, constant_policy
from rl_core.evaluation.evaluate import Evaluation, Policy, evaluate_policy
from rl_core.evaluation.optimum import solve
from rl_core.market.model import MAX_DAILY_MOVE, Market, check_objective
from rl_core.market.network import StationNetwork
from rl_core.registry.errors import ChampionChangedError
from rl_core.registry.promotion import champion_version, download_bundle, promote
from rl_core.registry.tracking import client, model_name
from rl_core.training.bundle import PolicyBundle


@dataclass(frozen=True)
class Guardrails:
    price_band: tuple[float, float] | None = None  # allowed ($/L); None: today's price grid
    # $/L between consecutive days of a plan (day 0 excluded); the daily run's markets carry
    # the same limit (rl_core.market.model.MAX_DAILY_MOVE), so its agents are trained inside it
    max_daily_move: float = MAX_DAILY_MOVE
    profit_never_loses: bool = True  # profit agent: mean planned profit >= 0


@dataclass(frozen=True)
class Decision:
    agent: str
    challenger_version: str
    champion_version: str | None  # the champion evaluated against (None: none existed)
    outcome: str  # promoted | kept | rejected
    reason: str
    applied: bool  # the alias was moved (outcome promoted and apply=True)
    baseline: str  # "champion vN" or "best constant price $x"
    margin: float
    n_scenarios: int
    seed: int
    relative_improvement: float  # sum(challenger) / sum(incumbent) - 1
    ci_low: float  # one-sided (1 - alpha) paired bootstrap lower bound of the above
    ci_high: float  # two-sided upper bound, for the report
    p_value: float  # one-sided paired t-test, H0: challenger - incumbent <= margin x |incumbent|
    challenger: dict
    incumbent: dict
    guardrails: list[dict]
    decided_at: str
    report: str | None = None
    plot: str | None = None
    evidence: dict = field(default_factory=dict)
    rule: str = ""  # what promoted it: "superiority" | "non-inferiority" ("" otherwise)
    fraction_of_optimum: float = float("nan")  # the challenger's, over the scenarios
    first_model_min_fraction: float = 0.99
    non_inferiority_margin: float = 0.01

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"{self.outcome}: {model_name(self.agent)} v{self.challenger_version} vs "
            f"{self.baseline}: {self.relative_improvement:+.2%} "
            f"(lower bound {self.ci_low:+.2%}, margin {self.margin:.2%}, p={self.p_value:.3g}); "
            f"{self.reason}"
        )


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


def _returns(ev: Evaluation, optima: np.ndarray) -> np.ndarray:
    return ev.scenario_fractions * optima


def _figures(ev: Evaluation) -> dict:
    return {
        k: v
        for k, v in ev.to_dict().items()
        if k in ("total_reward", "fraction_of_optimum", "volume", "profit", "optimum")
    }


def paired_test(
    challenger: np.ndarray,
    incumbent: np.ndarray,
    margin: float,
    *,
    alpha: float = 0.05,
    n_boot: int = 5000,
    seed: int = 0,
) -> dict:
    """Relative improvement, its paired bootstrap bounds and a one-sided paired t-test."""
    denom = abs(incumbent.sum()) or 1.0
    rel = float((challenger.sum() - incumbent.sum()) / denom)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(challenger), size=(n_boot, len(challenger)))
    ch, inc = challenger[idx].sum(1), incumbent[idx].sum(1)
    boot = (ch - inc) / np.where(np.abs(inc) > 0, np.abs(inc), 1.0)
    low = float(np.quantile(boot, alpha))
    high = float(np.quantile(boot, 1 - alpha / 2))
    diff = challenger - incumbent - margin * np.abs(incumbent)
    if np.allclose(diff, diff[0]):  # no spread: the sign alone decides
        p = 0.0 if diff[0] > 0 else 1.0
    else:
        p = float(stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue)
    return {"relative_improvement": rel, "ci_low": low, "ci_high": high, "p_value": p}


def check_guardrails(ev: Evaluation, market: Market, agent: str, g: Guardrails) -> list[dict]:
    band = g.price_band or (market.price_min, market.price_max)
    lo, hi = float(ev.prices.min()), float(ev.prices.max())
    moves = np.abs(np.diff(ev.prices, axis=1))
    worst_move = float(moves.max()) if moves.size else 0.0
    checks = [
        {
            "name": "price_band",
            "passed": bool(lo >= band[0] - 1e-9 and hi <= band[1] + 1e-9),
            "detail": f"prices {lo:.2f}-{hi:.2f} $/L, allowed {band[0]:.2f}-{band[1]:.2f}",
        },
        {
            "name": "max_daily_move",
            "passed": bool(worst_move <= g.max_daily_move + 1e-9),
            "detail": f"largest day-to-day move {worst_move:.2f} $/L, limit {g.max_daily_move:.2f}",
        },
    ]
    if agent == "profit" and g.profit_never_loses:
        checks.append(
            {
                "name": "no_planned_loss",
                "passed": bool(ev.profit >= 0),
                "detail": f"mean planned profit ${ev.profit:,.0f} per scenario",
            }
        )
    return checks


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
    g = guardrails or Guardrails()
    if isinstance(market_or_scenarios, Market):
        market = market_or_scenarios
        scen = scenarios(market, n_scenarios, seed, cost_walk_std)
    elif isinstance(market_or_scenarios, StationNetwork):
        market = market_or_scenarios.market  # the shared grid and horizon
        scen = network_scenarios(market_or_scenarios, n_scenarios, seed, cost_walk_std)
    else:
        scen = list(market_or_scenarios)
        market = scen[0]
    optima = np.array([solve(m, agent).value for m in scen])
    challenger_version = str(challenger_version)
    champ = champion_version(agent)
    ch_bundle = download_bundle(agent, challenger_version)
    evidence: dict = {"scenarios": len(scen), "optima": optima.round(3).tolist()}

    why_not = compatible(ch_bundle, market)
    ch_ev = (
        None if why_not else evaluate_policy(bundle_policy(ch_bundle, market), scen, agent, optima)
    )

    inc_ev, baseline = None, None
    if champ is not None and champ != challenger_version:
        champ_bundle = download_bundle(agent, champ)
        champ_issue = compatible(champ_bundle, market)
        if champ_issue is None:
            inc_ev = evaluate_policy(bundle_policy(champ_bundle, market), scen, agent, optima)
            baseline = f"champion v{champ}"
        else:
            evidence["champion_incompatible"] = f"champion v{champ}: {champ_issue}"
    if inc_ev is None:
        level, _ = best_constant_price(scen, agent)
        inc_ev = evaluate_policy(constant_policy(level), scen, agent, optima)
        baseline = f"best constant price ${market.prices[level]:.2f}"
        evidence["best_constant_level"] = level

    if ch_ev is None:
        checks = [{"name": "compatible", "passed": False, "detail": why_not}]
        test = {"relative_improvement": float("nan"), "ci_low": float("nan")}
        test.update(ci_high=float("nan"), p_value=float("nan"))
    else:
        checks = check_guardrails(ch_ev, market, agent, g)
        test = paired_test(
            _returns(ch_ev, optima), _returns(inc_ev, optima), margin, alpha=alpha, seed=seed
        )
        evidence["challenger_returns"] = _returns(ch_ev, optima).round(3).tolist()
        evidence["challenger_prices"] = ch_ev.prices.round(4).tolist()
    evidence["incumbent_returns"] = _returns(inc_ev, optima).round(3).tolist()
    evidence["incumbent_prices"] = inc_ev.prices.round(4).tolist()
    evidence["champion_guardrails"] = check_guardrails(inc_ev, market, agent, g)

    failed = [c for c in checks if not c["passed"]]
    fraction = float("nan") if ch_ev is None else float(ch_ev.fraction_of_optimum)
    first_model = not baseline.startswith("champion")  # no champion able to price today
    rule = ""
    if champ == challenger_version:
        outcome, reason = "kept", f"v{challenger_version} is already the champion"
    elif failed:
        outcome = "rejected"
        reason = "guardrail failed: " + "; ".join(f"{c['name']} ({c['detail']})" for c in failed)
    elif test["ci_low"] > margin:
        outcome, rule = "promoted", "superiority"
        reason = (
            f"beats {baseline} by {test['relative_improvement']:+.2%}, "
            f"{1 - alpha:.0%} lower bound {test['ci_low']:+.2%} > margin {margin:.2%}"
        )
    elif (
        first_model
        and fraction >= first_model_min_fraction
        and test["ci_low"] > -non_inferiority_margin
    ):
        outcome, rule = "promoted", "non-inferiority"
        reason = (
            f"first model: {fraction:.2%} of the exact optimum "
            f">= {first_model_min_fraction:.0%}, and not worse than {baseline} beyond "
            f"{non_inferiority_margin:.2%}: {test['relative_improvement']:+.2%}, "
            f"{1 - alpha:.0%} lower bound {test['ci_low']:+.2%}"
        )
    else:
        outcome = "rejected" if first_model else "kept"
        reason = (
            f"not significantly better than {baseline} by the margin: "
            f"{test['relative_improvement']:+.2%}, lower bound {test['ci_low']:+.2%} "
            f"<= margin {margin:.2%}"
        )
        if first_model:
            reason = f"no champion and {reason}; nor a good first model: " + _first_model_gap(
                fraction, first_model_min_fraction, test["ci_low"], non_inferiority_margin
            )

    decision = Decision(
        agent=agent,
        challenger_version=challenger_version,
        champion_version=champ,
        outcome=outcome,
        reason=reason,
        applied=False,
        baseline=baseline,
        margin=margin,
        n_scenarios=len(scen),
        seed=seed,
        challenger=_figures(ch_ev) if ch_ev is not None else {},
        incumbent=_figures(inc_ev),
        guardrails=checks,
        decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
        evidence=evidence,
        rule=rule,
        fraction_of_optimum=fraction,
        first_model_min_fraction=first_model_min_fraction,
        non_inferiority_margin=non_inferiority_margin,
        **test,
    )
    if outcome == "promoted" and apply:
        try:
            promote(agent, challenger_version, expected_champion=champ, reason=decision.summary())
            decision = _replace(decision, applied=True)
        except ChampionChangedError as exc:
            decision = _replace(decision, outcome="kept", reason=f"not applied: {exc}")
            _record(decision, report)
            raise
    return _record(decision, report)


def _first_model_gap(fraction: float, min_fraction: float, ci_low: float, ni: float) -> str:
    gaps = []
    if not fraction >= min_fraction:
        gaps.append(f"{fraction:.2%} of the exact optimum < {min_fraction:.0%}")
    if not ci_low > -ni:
        gaps.append(f"lower bound {ci_low:+.2%} <= -{ni:.2%} (significantly worse)")
    return "; ".join(gaps)


def _replace(d: Decision, **changes) -> Decision:
    return Decision(**{**asdict(d), **changes})


def _record(decision: Decision, report: bool) -> Decision:
    if report:
        from rl_core.registry.report import write_report

        md, png = write_report(decision)
        decision = _replace(decision, report=str(md), plot=str(png))
    name = model_name(decision.agent)
    c = client()
    v = decision.challenger_version
    tags = {
        "forecourt.decision": decision.outcome,
        "forecourt.decision.reason": decision.reason[:4000],
        "forecourt.decision.applied": str(decision.applied).lower(),
        "forecourt.decision.at": decision.decided_at,
        "forecourt.decision.baseline": decision.baseline,
        "forecourt.decision.champion_version": decision.champion_version or "",
        "forecourt.decision.relative_improvement": f"{decision.relative_improvement:.6f}",
        "forecourt.decision.ci_low": f"{decision.ci_low:.6f}",
        "forecourt.decision.p_value": f"{decision.p_value:.6g}",
        "forecourt.decision.margin": str(decision.margin),
        "forecourt.decision.rule": decision.rule,
        "forecourt.decision.fraction_of_optimum": f"{decision.fraction_of_optimum:.6f}",
        "forecourt.decision.scenarios": f"{decision.n_scenarios} (seed {decision.seed})",
        "forecourt.decision.guardrails": json.dumps(decision.guardrails)[:4000],
        "forecourt.decision.report": decision.report or "",
    }
    if decision.outcome != "promoted":
        tags["forecourt.status"] = "challenger-" + decision.outcome
    for k, val in tags.items():
        c.set_model_version_tag(name, v, k, val)
    mv = c.get_model_version(name, v)
    stamp = decision.decided_at.replace(":", "").replace("+0000", "Z")
    c.log_dict(mv.run_id, decision.to_dict(), f"decisions/{stamp}.json")
    if decision.plot:
        c.log_artifact(mv.run_id, decision.plot, "decisions")
    return decision
