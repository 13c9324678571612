"""The pure judgement (rl_core.registry.judgement.judge) on hand-made arrays: no training,
no registry, no files. compare.decide evaluates real bundles and calls the same function
(tests/test_registry.py checks the whole path on real MLflow)."""

import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from rl_core.registry.judgement import Contest, Evaluated, Guardrails, Thresholds, judge

N, H = 32, 5  # scenarios, days per plan
GRID = (1.40, 2.40)  # today's price grid: the default price band
OPTIMA = 1000.0 + 200.0 * np.random.default_rng(0).random(N)
FLAT = np.full((N, H), 1.80)  # a plan that never moves


def policy(fraction, prices=FLAT, *, noise: float = 0.0, seed: int = 1, profit=None):
    """A policy holding `fraction` of each scenario's optimum (times 1 + noise)."""
    jitter = 1.0 + noise * np.random.default_rng(seed).standard_normal(N)
    return Evaluated.from_returns(fraction * OPTIMA * jitter, prices, OPTIMA, profit=profit)


def contest(challenger, incumbent, *, first_model: bool, agent="profit", champion="1"):
    """v2 against the champion v1, or (first_model) against the best constant price."""
    return Contest(
        agent=agent,
        challenger_version="2",
        champion_version=None if first_model else champion,
        optima=OPTIMA,
        challenger=challenger,
        incumbent=incumbent,
        baseline="best constant price $1.80" if first_model else "champion v1",
        first_model=first_model,
        price_grid=GRID,
    )


def test_a_clear_winner_is_promoted_by_superiority():
    d = judge(contest(policy(0.97, noise=0.01), policy(0.90), first_model=False))
    assert (d.outcome, d.rule) == ("promoted", "superiority"), d.reason
    assert d.relative_improvement == pytest.approx(0.97 / 0.90 - 1, abs=0.01)
    assert d.ci_low > d.margin and d.p_value < 0.05 and not d.applied
    assert d.reason.startswith("beats champion v1 by +7.") and "> margin 0.50%" in d.reason
    assert all(g["passed"] for g in d.guardrails)
    assert [g["name"] for g in d.guardrails] == ["price_band", "max_daily_move", "no_planned_loss"]
    assert d.fraction_of_optimum == pytest.approx(0.97, abs=0.01)
    assert d.n_scenarios == N and d.champion_version == "1" and d.baseline == "champion v1"


def test_a_tie_by_a_first_model_at_the_optimum_is_non_inferior():
    """The flat price is the optimum (the demand agent's case): nothing beats it by the
    margin, so a first model holding >= 99% of the optimum and not worse is promoted."""
    at_optimum = policy(0.995)
    d = judge(contest(at_optimum, policy(0.995), first_model=True, agent="demand"))
    assert (d.outcome, d.rule) == ("promoted", "non-inferiority"), d.reason
    assert d.relative_improvement == pytest.approx(0.0) and d.ci_low <= d.margin
    assert d.fraction_of_optimum >= 0.99
    assert d.reason.startswith("first model: 99.50% of the exact optimum >= 99%")
    assert [g["name"] for g in d.guardrails] == ["price_band", "max_daily_move"]  # demand

    # the same tie against a champion: only superiority counts once a champion serves
    d = judge(contest(at_optimum, policy(0.995), first_model=False, agent="demand"))
    assert (d.outcome, d.rule) == ("kept", "")


def test_a_loser_is_kept_and_the_reason_names_the_failed_test():
    d = judge(contest(policy(0.85, noise=0.01), policy(0.90), first_model=False))
    assert (d.outcome, d.rule) == ("kept", "")
    assert d.relative_improvement < 0 and d.ci_low <= d.margin
    assert d.reason.startswith("not significantly better than champion v1 by the margin: -5.")
    assert "<= margin 0.50%" in d.reason


def test_a_first_model_that_loses_is_rejected_naming_both_failed_tests():
    d = judge(contest(policy(0.95, noise=0.01), policy(0.99), first_model=True))
    assert (d.outcome, d.rule) == ("rejected", ""), d.reason
    assert d.reason.startswith("no champion and not significantly better than best constant")
    assert "nor a good first model" in d.reason
    assert "of the exact optimum < 99%" in d.reason and "(significantly worse)" in d.reason


def test_a_guardrail_breach_is_refused_however_well_it_scores():
    jumpy = FLAT.copy()
    jumpy[3, 2] = 2.30  # 1.80 -> 2.30 -> 1.80: a 0.50 $/L move, the limit is 0.30
    d = judge(contest(policy(0.99, jumpy, noise=0.01), policy(0.90), first_model=False))
    assert (d.outcome, d.rule) == ("rejected", "")
    failed = [g for g in d.guardrails if not g["passed"]]
    assert [g["name"] for g in failed] == ["max_daily_move"]
    assert d.reason == (
        "guardrail failed: max_daily_move (largest day-to-day move 0.50 $/L, limit 0.30)"
    )
    assert d.ci_low > d.margin  # it would have won: the guardrail alone refuses it
    assert all(g["passed"] for g in d.evidence["champion_guardrails"])


def test_band_and_planned_loss_guardrails():
    high = np.full((N, H), 2.20)
    tight = Guardrails(price_band=(1.50, 2.00))
    d = judge(contest(policy(0.99, high), policy(0.90), first_model=False), guardrails=tight)
    assert d.outcome == "rejected" and d.reason.startswith("guardrail failed: price_band")
    assert "allowed 1.50-2.00" in d.reason
    assert judge(contest(policy(0.99, high), policy(0.90), first_model=False)).outcome == (
        "promoted"  # inside today's grid, the default band
    )

    losing = policy(0.99, profit=-1.0)
    d = judge(contest(losing, policy(0.90), first_model=False))
    assert d.outcome == "rejected" and "no_planned_loss" in d.reason
    d = judge(
        contest(losing, policy(0.90), first_model=False), guardrails=Guardrails(None, 0.3, False)
    )
    assert d.outcome == "promoted"


def test_a_challenger_that_cannot_price_today_is_rejected():
    c = contest(None, policy(0.90), first_model=True)
    d = judge(replace(c, incompatible="it plans 7-day horizons, today's market 5 days"))
    assert d.outcome == "rejected" and d.challenger == {}
    assert d.reason == (
        "guardrail failed: compatible (it plans 7-day horizons, today's market 5 days)"
    )
    assert math.isnan(d.relative_improvement) and math.isnan(d.fraction_of_optimum)
    assert "challenger_returns" not in d.evidence and len(d.evidence["incumbent_returns"]) == N


def test_the_champion_itself_is_kept():
    c = contest(policy(0.97), policy(0.90), first_model=True)
    d = judge(replace(c, champion_version="2"))
    assert d.outcome == "kept" and d.reason == "v2 is already the champion"


def test_thresholds_and_evidence_are_recorded():
    t = Thresholds(
        margin=0.10, alpha=0.10, first_model_min_fraction=0.9, non_inferiority_margin=0.05
    )
    c = contest(policy(0.97, noise=0.01), policy(0.90), first_model=False)
    d = judge(c, t, seed=3, decided_at="2026-03-01T00:00:00+00:00")
    assert d.outcome == "kept" and "<= margin 10.00%" in d.reason  # +7.8% < 10%
    assert (d.margin, d.first_model_min_fraction, d.non_inferiority_margin) == (0.10, 0.9, 0.05)
    assert d.seed == 3 and d.decided_at == "2026-03-01T00:00:00+00:00"
    assert list(d.evidence) == [
        "scenarios",
        "optima",
        "challenger_returns",
        "challenger_prices",
        "incumbent_returns",
        "incumbent_prices",
        "champion_guardrails",
    ]
    assert d.to_dict() == judge(c, t, seed=3, decided_at=d.decided_at).to_dict()  # seeded
    record = d.to_record()
    assert "evidence" not in record and record["summary"].startswith(
        "kept: forecourt-profit v2 vs champion v1: +7."
    )


def test_the_judgement_imports_neither_torch_nor_mlflow():
    code = (
        "import sys, rl_core.registry.judgement; "
        "print(sorted({'torch', 'mlflow', 'gymnasium'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
