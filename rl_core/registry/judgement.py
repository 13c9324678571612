"""The judgement: from evaluated returns and thresholds to a `Decision`, and nothing else.

Pure: arrays and numbers in, a `Decision` out; no bundle, no registry, no MLflow, no file
(`compare.decide` evaluates and orchestrates, `rl_core.registry.record` records the
decision, `rl_core.registry.promotion` moves the alias). Importing it loads neither torch
nor MLflow, and a test can judge hand-made arrays.

What is judged (`Contest`): the challenger's and the incumbent's expected returns on the
same scenarios (the incumbent is the champion, or with no champion able to price today's
market the best constant price) and the exact optimum of each scenario. The challenger is
promoted only if

* it passes the guardrails (every price inside the band, every day-to-day move within the
  limit, and for the profit agent a non-negative mean planned profit), and
* it beats the incumbent by the relative `margin` significantly (superiority): the lower
  end of the one-sided paired bootstrap interval of sum(challenger) / sum(incumbent) - 1
  over scenarios is above `margin`. A paired t-test of challenger - (1 + margin) x
  incumbent is reported alongside;
* or, when there is no champion to beat (none yet, or one that cannot price today's
  market), it is a good first model (non-inferiority): it holds at least
  `first_model_min_fraction` of the exact optimum over the scenarios, and it is not
  significantly worse than the best constant price: the same lower bound is above
  -`non_inferiority_margin`. Where the optimum *is* a flat price (the demand agent on a
  market whose best volume is at the price floor) no policy can beat the flat price, and
  superiority alone would leave the agent without a champion for good.

Outcomes: `rejected` (a guardrail failed, the challenger cannot price today's market, or
with no champion it is neither better nor a good first model), `kept` (not significantly
better than the champion, or already the champion), `promoted`. `Decision.rule` says which
rule promoted. Whether the alias then moves is the promotion rules' business
(`rl_core.registry.promotion.promotion_move`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy import stats

from rl_core.market.model import MAX_DAILY_MOVE

_TEST_KEYS = ("relative_improvement", "ci_low", "ci_high", "p_value")


@dataclass(frozen=True)
class Guardrails:
    price_band: tuple[float, float] | None = None  # allowed ($/L); None: today's price grid
    # $/L between consecutive days of a plan (day 0 excluded); the daily run's markets carry
    # the same limit (rl_core.market.model.MAX_DAILY_MOVE), so its agents are trained inside it
    max_daily_move: float = MAX_DAILY_MOVE
    profit_never_loses: bool = True  # profit agent: mean planned profit >= 0


@dataclass(frozen=True)
class Thresholds:
    """What a challenger must clear (the defaults are `decide`'s)."""

    margin: float = 0.005  # superiority: relative improvement's lower bound above this
    alpha: float = 0.05  # one-sided level of the lower bound
    first_model_min_fraction: float = 0.99  # non-inferiority: share of the exact optimum
    non_inferiority_margin: float = 0.01  # non-inferiority: lower bound above minus this


@dataclass(frozen=True)
class Evaluated:
    """One policy over the scenarios, as the judgement reads it."""

    returns: np.ndarray  # (scenarios,) expected return per scenario (litres or $)
    prices: np.ndarray  # (scenarios, horizon) the prices it plans ($/L)
    profit: float  # mean planned profit per scenario ($): the no-loss guardrail
    fraction_of_optimum: float  # sum(returns) / sum(optima)
    figures: dict = field(default_factory=dict)  # reported in the Decision as they are

    @classmethod
    def from_returns(
        cls,
        returns,
        prices,
        optima,
        *,
        profit: float | None = None,
        volume: float = float("nan"),
    ) -> Evaluated:
        """From bare arrays (hand-made, or another evaluator's); `profit` defaults to the
        mean return (a profit agent's return is its profit)."""
        returns = np.asarray(returns, dtype=np.float64)
        optima = np.asarray(optima, dtype=np.float64)
        profit = float(returns.mean()) if profit is None else float(profit)
        fraction = float(returns.sum() / optima.sum())
        figures = {
            "total_reward": float(returns.mean()),
            "optimum": float(optima.mean()),
            "fraction_of_optimum": fraction,
            "volume": float(volume),
            "profit": profit,
        }
        return cls(returns, np.asarray(prices, dtype=np.float64), profit, fraction, figures)


@dataclass(frozen=True)
class Contest:
    """What was evaluated, on the same scenarios: everything the judgement reads."""

    agent: str
    challenger_version: str
    champion_version: str | None  # the champion in the registry (None: none existed)
    optima: np.ndarray  # (scenarios,) exact optimal expected return per scenario
    challenger: Evaluated | None  # None: it cannot price today's market (`incompatible`)
    incumbent: Evaluated  # the champion, or the best constant price
    baseline: str  # "champion vN" or "best constant price $x"
    first_model: bool  # the incumbent is no champion: the non-inferiority rule applies
    price_grid: tuple[float, float]  # today's (lowest, highest) price: the default band
    incompatible: str | None = None  # why the challenger cannot price today's market
    evidence: dict = field(default_factory=dict)  # the evaluation's notes, kept as they are


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

    def to_record(self) -> dict:
        """decision.json's form: every field but the evidence, and the summary."""
        record = self.to_dict()
        record.pop("evidence", None)
        record["summary"] = self.summary()
        return record

    def summary(self) -> str:
        from rl_core.registry.tracking import model_name  # MLflow: only to name the model

        return (
            f"{self.outcome}: {model_name(self.agent)} v{self.challenger_version} vs "
            f"{self.baseline}: {self.relative_improvement:+.2%} "
            f"(lower bound {self.ci_low:+.2%}, margin {self.margin:.2%}, p={self.p_value:.3g}); "
            f"{self.reason}"
        )


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


def guardrail_checks(
    prices: np.ndarray,
    profit: float,
    agent: str,
    g: Guardrails,
    price_grid: tuple[float, float],
) -> list[dict]:
    """The guardrails on planned `prices` (scenarios, horizon) and the mean planned profit;
    the band defaults to `price_grid` (today's grid)."""
    band = g.price_band or price_grid
    lo, hi = float(prices.min()), float(prices.max())
    moves = np.abs(np.diff(prices, axis=1))
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
                "passed": bool(profit >= 0),
                "detail": f"mean planned profit ${profit:,.0f} per scenario",
            }
        )
    return checks


def judge(
    contest: Contest,
    thresholds: Thresholds | None = None,
    guardrails: Guardrails | None = None,
    *,
    seed: int = 0,
    decided_at: str | None = None,
) -> Decision:
    """The decision on `contest` (see the module doc); not applied (`applied=False`).

    `seed` seeds the paired bootstrap and is recorded as the scenarios' seed; `decided_at`
    (ISO 8601) defaults to now.
    """
    c, t = contest, thresholds or Thresholds()
    g = guardrails or Guardrails()
    ch, inc = c.challenger, c.incumbent
    if ch is None:
        checks = [{"name": "compatible", "passed": False, "detail": c.incompatible}]
        test = dict.fromkeys(_TEST_KEYS, float("nan"))
    else:
        checks = guardrail_checks(ch.prices, ch.profit, c.agent, g, c.price_grid)
        test = paired_test(ch.returns, inc.returns, t.margin, alpha=t.alpha, seed=seed)
    fraction = float("nan") if ch is None else float(ch.fraction_of_optimum)
    outcome, rule, reason = _verdict(c, t, checks, test, fraction)

    evidence: dict = {"scenarios": len(c.optima), "optima": c.optima.round(3).tolist()}
    evidence.update(c.evidence)
    if ch is not None:
        evidence["challenger_returns"] = ch.returns.round(3).tolist()
        evidence["challenger_prices"] = ch.prices.round(4).tolist()
    evidence["incumbent_returns"] = inc.returns.round(3).tolist()
    evidence["incumbent_prices"] = inc.prices.round(4).tolist()
    evidence["champion_guardrails"] = guardrail_checks(
        inc.prices, inc.profit, c.agent, g, c.price_grid
    )
    return Decision(
        agent=c.agent,
        challenger_version=c.challenger_version,
        champion_version=c.champion_version,
        outcome=outcome,
        reason=reason,
        applied=False,
        baseline=c.baseline,
        margin=t.margin,
        n_scenarios=len(c.optima),
        seed=seed,
        challenger=ch.figures if ch is not None else {},
        incumbent=inc.figures,
        guardrails=checks,
        decided_at=decided_at or datetime.now(UTC).isoformat(timespec="seconds"),
        evidence=evidence,
        rule=rule,
        fraction_of_optimum=fraction,
        first_model_min_fraction=t.first_model_min_fraction,
        non_inferiority_margin=t.non_inferiority_margin,
        **test,
    )


def _verdict(
    c: Contest, t: Thresholds, checks: list[dict], test: dict, fraction: float
) -> tuple[str, str, str]:
    """(outcome, rule, reason): the rules of the module doc, in order."""
    failed = [check for check in checks if not check["passed"]]
    lower, rel = test["ci_low"], test["relative_improvement"]
    if c.champion_version == c.challenger_version:
        return "kept", "", f"v{c.challenger_version} is already the champion"
    if failed:
        detail = "; ".join(f"{check['name']} ({check['detail']})" for check in failed)
        return "rejected", "", "guardrail failed: " + detail
    if lower > t.margin:
        won = f"{1 - t.alpha:.0%} lower bound {lower:+.2%} > margin {t.margin:.2%}"
        return "promoted", "superiority", f"beats {c.baseline} by {rel:+.2%}, {won}"
    good_first = fraction >= t.first_model_min_fraction and lower > -t.non_inferiority_margin
    if c.first_model and good_first:
        reason = (
            f"first model: {fraction:.2%} of the exact optimum "
            f">= {t.first_model_min_fraction:.0%}, and not worse than {c.baseline} beyond "
            f"{t.non_inferiority_margin:.2%}: {rel:+.2%}, "
            f"{1 - t.alpha:.0%} lower bound {lower:+.2%}"
        )
        return "promoted", "non-inferiority", reason
    reason = (
        f"not significantly better than {c.baseline} by the margin: "
        f"{rel:+.2%}, lower bound {lower:+.2%} <= margin {t.margin:.2%}"
    )
    if not c.first_model:
        return "kept", "", reason
    gap = _first_model_gap(fraction, t.first_model_min_fraction, lower, t.non_inferiority_margin)
    return "rejected", "", f"no champion and {reason}; nor a good first model: " + gap


def _first_model_gap(fraction: float, min_fraction: float, ci_low: float, ni: float) -> str:
    gaps = []
    if not fraction >= min_fraction:
        gaps.append(f"{fraction:.2%} of the exact optimum < {min_fraction:.0%}")
    if not ci_low > -ni:
        gaps.append(f"lower bound {ci_low:+.2%} <= -{ni:.2%} (significantly worse)")
    return "; ".join(gaps)
