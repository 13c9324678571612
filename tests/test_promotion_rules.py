"""The promotion rules (rl_core.registry.promotion.promotion_move) on hand-made decision
records: what a decision moves, given a dry run or a forced promotion. Pure: no registry.
tests/test_pipeline.py runs them through promote_or_keep on real MLflow."""

import pytest

from rl_core.registry.promotion import Move, promotion_move

OK = [{"name": "price_band", "passed": True}, {"name": "max_daily_move", "passed": True}]


def decision(outcome: str, *, champion="1", challenger="2", guardrails=OK) -> dict:
    return {
        "outcome": outcome,
        "reason": f"why {outcome}",
        "summary": f"{outcome}: the summary",
        "challenger_version": challenger,
        "champion_version": champion,
        "guardrails": guardrails,
    }


def test_a_win_moves_the_alias_citing_the_run():
    assert promotion_move(decision("promoted"), run_id="r7") == Move(
        "promoted", "why promoted", "run r7: promoted: the summary"
    )
    # compare.decide(apply=True): no run, the summary alone
    assert promotion_move(decision("promoted")).promote_reason == "promoted: the summary"


@pytest.mark.parametrize("outcome", ["kept", "rejected"])
def test_anything_else_keeps_the_champion(outcome):
    assert promotion_move(decision(outcome), run_id="r7") == Move(outcome, f"why {outcome}")


@pytest.mark.parametrize("outcome", ["promoted", "kept", "rejected"])
def test_a_dry_run_moves_nothing(outcome):
    move = promotion_move(decision(outcome), dry_run=True, run_id="r7")
    assert move == Move("dry-run", f"dry run: would have been {outcome} (why {outcome})")


def test_a_forced_promotion_overrides_the_comparison_but_not_the_guardrails():
    forced = promotion_move(decision("kept"), force=True, force_reason="ops 42", run_id="r7")
    assert forced == Move(
        "forced",
        "forced: ops 42",
        "FORCED by run r7: ops 42 (the comparison said kept: why kept)",
    )
    broken = OK + [{"name": "no_planned_loss", "passed": False}]
    refused = promotion_move(
        decision("rejected", guardrails=broken), force=True, force_reason="ops 42", run_id="r7"
    )
    assert refused == Move(
        "rejected", "force promotion refused: guardrails failed (no_planned_loss)"
    )
    # the version already in service: nothing to force
    same = decision("kept", champion="2")
    assert promotion_move(same, force=True, force_reason="ops 42").action == "kept"
    # a win under force is an ordinary promotion
    assert promotion_move(decision("promoted"), force=True, force_reason="x").action == "promoted"
