"""A decision as people read it: markdown with the figures, and a PNG of both policies.

<FORECOURT_HOME>/reports/registry/<agent>/<stamp>-v<version>.md
<FORECOURT_HOME>/reports/registry/<agent>/<stamp>-v<version>.png
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rl_core import paths
from rl_core.registry.tracking import model_name

if TYPE_CHECKING:
    from rl_core.registry.judgement import Decision

_SHOWN = 4  # scenarios whose trajectories are drawn


def report_dir(agent: str) -> Path:
    return paths.reports_dir() / "registry" / agent


def write_report(decision: Decision) -> tuple[Path, Path]:
    folder = report_dir(decision.agent)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = decision.decided_at.replace(":", "").replace("+0000", "Z")
    stem = folder / f"{stamp}-v{decision.challenger_version}"
    png = stem.with_suffix(".png")
    _plot(decision, png)
    md = stem.with_suffix(".md")
    md.write_text(_markdown(decision, png.name))
    return md, png


def _fmt(x) -> str:
    return f"{x:,.4f}" if isinstance(x, float) and abs(x) < 10 else f"{x:,.0f}"


def _markdown(d: Decision, png: str) -> str:
    name = model_name(d.agent)
    rows = ["| figure | challenger | incumbent |", "|---|---|---|"]
    for key in ("total_reward", "fraction_of_optimum", "volume", "profit", "optimum"):
        rows.append(
            f"| {key} | {_fmt(d.challenger.get(key, float('nan')))} | "
            f"{_fmt(d.incumbent.get(key, float('nan')))} |"
        )
    checks = ["| guardrail | passed | detail |", "|---|---|---|"] + [
        f"| {c['name']} | {'yes' if c['passed'] else '**NO**'} | {c['detail']} |"
        for c in d.guardrails
    ]
    champ = f"v{d.champion_version}" if d.champion_version else "none"
    return "\n".join(
        [
            f"# {name} v{d.challenger_version}: **{d.outcome}**",
            "",
            f"{d.reason}",
            "",
            f"- decided at {d.decided_at}; alias moved: {'yes' if d.applied else 'no'}",
            f"- champion at evaluation: {champ}; compared against: {d.baseline}",
            f"- {d.n_scenarios} scenarios of today's market (seed {d.seed}), exact evaluation",
            f"- relative improvement {d.relative_improvement:+.3%} "
            f"(paired bootstrap: lower bound {d.ci_low:+.3%}, upper {d.ci_high:+.3%}); "
            f"margin {d.margin:.2%}; paired t-test p = {d.p_value:.3g}",
            f"- challenger holds {d.fraction_of_optimum:.2%} of the exact optimum; "
            f"promotion rule: {d.rule or 'none met'} (a first model may be promoted "
            f"non-inferior: >= {d.first_model_min_fraction:.0%} of the optimum and lower "
            f"bound > -{d.non_inferiority_margin:.2%})",
            "",
            *rows,
            "",
            *checks,
            "",
            f"![champion vs challenger]({png})",
            "",
        ]
    )


def _plot(d: Decision, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ev = d.evidence
    inc_p = np.asarray(ev.get("incumbent_prices", []))
    ch_p = np.asarray(ev.get("challenger_prices", []))
    inc_r = np.asarray(ev.get("incumbent_returns", []))
    ch_r = np.asarray(ev.get("challenger_returns", []))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    # the scenarios where the two policies differ most
    shown = np.argsort(-np.abs(ch_r - inc_r))[:_SHOWN] if len(ch_r) else range(_SHOWN)
    for k, i in enumerate(list(shown)[: len(inc_p)]):
        c = colors[k % len(colors)]
        ax1.plot(inc_p[i], color=c, ls="--", lw=1, label=f"incumbent #{i}")
        if len(ch_p):
            ax1.plot(ch_p[i], color=c, lw=1.6, alpha=0.8, label=f"challenger #{i}")
    ax1.set(
        xlabel="day",
        ylabel="price ($/L)",
        title="price trajectories (scenarios differing most)\n"
        f"dashed: {d.baseline}, solid: challenger v{d.challenger_version}",
    )
    ax1.legend(fontsize=6, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    if len(ch_r):
        order = np.argsort(inc_r)
        x = np.arange(len(inc_r))
        ax2.plot(x, inc_r[order], "o", ms=3, label=d.baseline)
        ax2.plot(x, ch_r[order], "x", ms=4, label=f"challenger v{d.challenger_version}")
        ax2.legend(fontsize=7)
    ax2.set(
        xlabel="scenario (sorted by incumbent return)",
        ylabel="expected return",
        title=f"per-scenario return: {d.outcome} ({d.relative_improvement:+.2%})",
    )
    fig.suptitle(f"{model_name(d.agent)} v{d.challenger_version} vs {d.baseline}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
