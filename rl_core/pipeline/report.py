"""The run report: what a daily run did, from the JSON its steps left in the run folder.

Written last, whatever happened before it (a validation failure included), as
report.md + report.json + report.png beside the step records, and its path is what the
DAG's last task returns.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from rl_core.pipeline import runfolder
from rl_core.pipeline.runfolder import load, save
from rl_core.telemetry import emit

log = logging.getLogger(__name__)

AGENTS = ("demand", "profit")


def _folder(where: str | Path) -> str:
    """The run folder, given it or its plan.json."""
    where = str(where)
    return where.rsplit("/", 1)[0] if where.endswith("/plan.json") else where


def collect(folder: str | Path) -> dict:
    """Everything the run's steps recorded, as one dict (absent steps are None)."""
    from rl_core.pipeline.contract import failed_steps

    folder = _folder(folder)
    plan = load(folder, "plan.json") or {}
    run = {
        "plan": plan,
        "validation": load(folder, "validation.json"),
        "calibration": load(folder, "calibration.json"),
        "recommendations": load(folder, "recommendations.json"),
        "failed": failed_steps(folder),
        "agents": {},
    }
    for agent in AGENTS:
        sub = runfolder.join(folder, agent)
        found = runfolder.names(sub, "trial-*/trial.json")
        if not found and not runfolder.exists(sub, "trials.json"):
            continue
        trials = [load(sub, name) for name in found]
        run["agents"][agent] = {
            "trials": trials,
            "search": load(sub, "search.json"),
            "registered": load(sub, "registered.json"),
            "decision": load(sub, "decision.json"),
            "promotion": load(sub, "promotion.json"),
            "deploy": load(sub, "deploy.json"),
        }
    run["status"] = status(run)
    if plan.get("planned_at"):
        run["elapsed_s"] = round(time.time() - plan["planned_at"], 1)
    return run


def status(run: dict) -> str:
    v = run["validation"]
    if v is not None and not v.get("valid"):
        return "stopped: the delivery failed validation and was quarantined"
    failed = run.get("failed") or []
    if failed:
        steps = ", ".join(dict.fromkeys(f["step"] for f in failed))
        return f"failed at {steps}: {failed[0]['error'][:300]}"
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


def write_run_report(where: str | Path) -> dict:
    """report.md, report.json and report.png in the run folder (given it or its plan)."""
    folder = _folder(where)
    run = collect(folder)
    emit("RunFailedTasks", len(run["failed"]))
    with tempfile.TemporaryDirectory(prefix="forecourt-report-") as tmp:
        png = _plot(run, Path(tmp) / "report.png")
        png_uri = runfolder.put_file(png, folder, "report.png") if png else None
        md = Path(tmp) / "report.md"
        md.write_text(_markdown(run, png))
        md_uri = runfolder.put_file(md, folder, "report.md")
    save(folder, "report.json", run)
    log.info("run report (%s): %s", run["status"], md_uri)
    return {"status": run["status"], "report": md_uri, "plot": png_uri}


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
    if run.get("failed"):
        out += ["", "## Failed steps", ""]
        for f in run["failed"]:
            where = f" (Batch job {f['batch_job_id']})" if f.get("batch_job_id") else ""
            out.append(f"- **{f['step']}**{where}: {f['error'][:500]}")
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
        if a.get("deploy"):
            d = a["deploy"]
            out.append(f"\n**Deploy:** {d['outcome']}: {d['reason'][:500]}")
            if d.get("alias"):
                out.append(f"  \nchampion alias {d['alias']}")
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
    try:
        import matplotlib
    except ImportError:  # an MWAA worker has no matplotlib: the report goes without its plot
        log.info("matplotlib is not installed here: the report has no plot")
        return None

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
