"""Recording a decision where people and later steps read it; decides nothing.

* tags `forecourt.decision*` on the challenger's model version (and `forecourt.status =
  challenger-kept|challenger-rejected` when it was not promoted; `promotion.promote`
  writes the champion's status);
* the full decision (per-scenario returns and price paths) as `decisions/<stamp>.json`
  in the challenger's run, with the PNG;
* with `report`, a markdown report and PNG under <FORECOURT_HOME>/reports/registry/<agent>/
  (`rl_core.registry.report`).
"""

from __future__ import annotations

import json
from dataclasses import replace

from rl_core.registry.judgement import Decision
from rl_core.registry.tracking import client, model_name


def decision_tags(decision: Decision) -> dict[str, str]:
    """The version tags that record `decision`."""
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
    return tags


def record_decision(decision: Decision, report: bool = True) -> Decision:
    """Write the report (with `report`), the version's tags and the decision's JSON and PNG
    in its run; returns the decision with the report's paths."""
    if report:
        from rl_core.registry.report import write_report

        md, png = write_report(decision)
        decision = replace(decision, report=str(md), plot=str(png))
    name = model_name(decision.agent)
    c = client()
    v = decision.challenger_version
    for k, val in decision_tags(decision).items():
        c.set_model_version_tag(name, v, k, val)
    mv = c.get_model_version(name, v)
    stamp = decision.decided_at.replace(":", "").replace("+0000", "Z")
    c.log_dict(mv.run_id, decision.to_dict(), f"decisions/{stamp}.json")
    if decision.plot:
        c.log_artifact(mv.run_id, decision.plot, "decisions")
    return decision
