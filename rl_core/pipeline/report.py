"""The run report: what a daily run did, from the JSON its steps left in the run folder.

Written last, whatever happened before it (a validation failure included), as
report.md + report.json + report.png beside the step records, and its path is what the
DAG's last task returns.
"""

from __future__ import annotations

import time
from pathlib import Path

from rl_core.pipeline.steps import load, save

AGENTS = ("demand", "profit")


def collect(folder: str | Path) -> dict:
    """Everything the run's steps recorded, as one dict (absent steps are None)."""
    folder = Path(folder)
    plan = load(folder, "plan.json") or {}
    run = {
        "plan": plan,
        "validation": load(folder, "validation.json"),
        "calibration": load(folder, "calibration.json"),
        "recommendations": load(folder, "recommendations.json"),
        "agents": {},
    }
    for agent in AGENTS:
        sub = folder / agent
        if not sub.is_dir():
            continue
        trials = [load(p.parent, p.name) for p in sorted(sub.glob("trial-*/trial.json"))]
        run["agents"][agent] = {
            "trials": trials,
            "search": load(sub, "search.json"),
            "registered": load(sub, "registered.json"),
            "decision": load(sub, "decision.json"),
            "promotion": load(sub, "promotion.json"),
        }
    run["status"] = status(run)
    if plan.get("planned_at"):
        run["elapsed_s"] = round(time.time() - plan["planned_at"], 1)
    return run


def status(run: dict) -> str:
    v = run["validation"]
    if v is None:
        return "stopped before validation (no delivery?)"
    if not v.get("valid"):
        return "stopped: the delivery failed validation and was quarantined"
    if run["calibration"] is None:
        return "stopped: calibration did not finish"
    wanted = run["plan"].get("params", {}).get("agents", [])
    unfinished = [a for a in wanted if (run["agents"].get(a) or {}).get("promotion") is None]
    if unfinished:
        return f"incomplete: no decision applied for {', '.join(unfinished)}"
    if run["recommendations"] is None:
        return "incomplete: tomorrow's prices were not written"
    return "complete"


def write_run_report(folder: str | Path) -> dict:
    folder = Path(folder)
    run = collect(folder)
    png = _plot(run, folder / "report.png")
    md = folder / "report.md"
    md.write_text(_markdown(run, png))
    save(folder, "report.json", run)
    return {"status": run["status"], "report": str(md), "plot": str(png) if png else None}


def _markdown(run: dict, png: Path | None) -> str:
    plan = run["plan"]
    p = plan.get("params", {})
    out = [
        f"# Forecourt daily run {plan.get('run_id', '?')}",
        "",
        f"- **Day:** {plan.get('day', '?')} (prices for {plan.get('tomorrow', '?')})",
        f"- **Status:** {run['status']}",
        f"- **Parameters:** agents {', '.join(p.get('agents', []))}; {p.get('trials')} trials "
        f"(at most {p.get('max_concurrent_trials')} at once); {p.get('env_steps', 0):,} env "
        f"steps per trial"
        + ("; **dry run**" if p.get("dry_run") else "")
        + (f"; **force promotion**: {p.get('force_reason')}" if p.get("force_promotion") else ""),
    ]
    if "elapsed_s" in run:
        out.append(f"- **Elapsed:** {run['elapsed_s']:.0f} s")
    v = run["validation"]
    out += ["", "## Validation", ""]
    out.append(f"{v['headline']}  \nsummary: {v.get('summary_uri')}" if v else "not run")
    if v and v.get("quarantine_uri"):
        out.append(f"  \nquarantined to {v['quarantine_uri']}; the champions stay in service")
    c = run["calibration"]
    if c:
        out += ["", "## Market", "", "```", c["summary"], "```"]
    for agent, a in run["agents"].items():
        out += ["", f"## {agent} agent", ""]
        if a["trials"]:
            out += [
                "| trial | total reward | of optimum | train s | lr | gamma | batch | hidden |",
                "|---:|---:|---:|---:|---:|---:|---:|---|",
            ]
            for t in sorted(a["trials"], key=lambda t: -t["total_reward"]):
                hp = t["hyperparameters"]
                out.append(
                    f"| {t['trial']} | {t['total_reward']:,.1f} | {t['fraction_of_optimum']:.2%} "
                    f"| {t['train_s']:.1f} | {hp['learning_rate']:g} | {hp['gamma']:g} "
                    f"| {hp['batch_size']} | {'x'.join(map(str, hp['hidden']))} |"
                )
        if a["registered"]:
            out.append(
                f"\nBest trial #{a['registered']['trial']} registered as "
                f"{a['registered']['name']} v{a['registered']['version']}."
            )
        if a["decision"]:
            out.append(f"\n**Decision:** {a['decision']['summary']}")
            if a["decision"].get("report"):
                out.append(f"  \nevidence: {a['decision']['report']}")
        if a["promotion"]:
            pr = a["promotion"]
            out.append(
                f"\n**Applied:** {pr['action']}; champion in service: "
                f"v{pr['champion_version'] or ' none'}"
            )
    r = run["recommendations"]
    out += ["", "## Tomorrow's prices", ""]
    if not r:
        out.append("not written")
    elif not r.get("written"):
        out.append(r.get("reason", "no champion in service: none written"))
    else:
        for agent, s in r["agents"].items():
            if s.get("champion_version"):
                out.append(
                    f"- {agent} (champion v{s['champion_version']}): {s['stations']} stations, "
                    f"{s['min']:.3f}..{s['max']:.3f} $/L, median {s['median']:.3f}"
                )
            else:
                out.append(f"- {agent}: no champion in service")
        out.append(f"\nwritten to {r['uri']}")
    if png:
        out += ["", f"![trials and learning curves]({png.name})"]
    return "\n".join(out) + "\n"


def _plot(run: dict, path: Path) -> Path | None:
    agents = {k: a for k, a in run["agents"].items() if a["trials"]}
    if not agents:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(agents), figsize=(6 * len(agents), 7), squeeze=False)
    for col, (agent, a) in enumerate(agents.items()):
        trials = sorted(a["trials"], key=lambda t: t["trial"])
        best = (a["search"] or {}).get("best", {}).get("trial")
        ax = axes[0][col]
        colors = ["tab:green" if t["trial"] == best else "tab:gray" for t in trials]
        ax.bar(
            [str(t["trial"]) for t in trials],
            [t["fraction_of_optimum"] for t in trials],
            color=colors,
        )
        low = min(t["fraction_of_optimum"] for t in trials)
        ax.set_ylim(max(0.0, low - 0.02), 1.002)
        ax.set_title(f"{agent}: trials (best in green)")
        ax.set_xlabel("trial")
        ax.set_ylabel("fraction of the exact optimum")
        ax = axes[1][col]
        for t in trials:
            xs = [row["env_steps"] for row in t.get("curve", [])]
            ys = [row["fraction"] for row in t.get("curve", [])]
            ax.plot(
                xs,
                ys,
                lw=2 if t["trial"] == best else 0.8,
                label=f"#{t['trial']}",
                color="tab:green" if t["trial"] == best else None,
            )
        ax.set_ylim(0.8, 1.005)
        ax.set_xlabel("env steps")
        ax.set_ylabel("fraction of the exact optimum")
        ax.set_title(f"{agent}: learning curves")
        ax.legend(fontsize=7, ncol=4)
    fig.suptitle(f"Forecourt run for {run['plan'].get('day', '?')}: {run['status']}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
