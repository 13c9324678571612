"""The latest daily run reports, summarised for a dashboard (the Airflow "Forecourt" page).

Reads <FORECOURT_HOME>/runs/<day>/<run>/report.json, the file `report.write_run_report`
writes last in every run (its structure is `report.collect()`), newest day first. Only the
standard library and `rl_core.paths`: no numpy, torch or MLflow, so a web server without
them can still list the runs.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rl_core import paths

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
REPORT_PNG = "report.png"


def runs_dir() -> Path:
    """$FORECOURT_RUNS (default <FORECOURT_HOME>/runs): one folder per day, one per run.

    A local folder only: on AWS the runs are on S3 and this page lists none (docs/airflow.md).
    """
    return Path(paths.runs_uri())


def recent_runs(limit: int = 10, root: str | Path | None = None) -> list[dict]:
    """Summaries of the `limit` latest run reports, newest day first (then newest written).

    A report that cannot be read gives an entry with `error` set instead of failing the
    whole list. No runs folder gives [].
    """
    root = Path(root) if root is not None else runs_dir()
    if limit <= 0 or not root.is_dir():
        return []
    found = []
    for path in root.glob(f"*/*/{REPORT_JSON}"):
        try:
            mtime = path.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        found.append((path.parent.parent.name, mtime, path))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [summarise(path, root) for _, _, path in found[:limit]]


def summarise(path: str | Path, root: str | Path | None = None) -> dict:
    """One run report (report.json) as a small, JSON-safe dict."""
    path = Path(path)
    root = Path(root) if root is not None else runs_dir()
    folder = path.parent
    out: dict[str, Any] = {
        "day": folder.parent.name,
        "run_id": folder.name,
        "folder": str(folder),
        "path": _relative(folder, root),  # <day>/<run>, relative to the runs folder
        "written_at": _mtime(path),
        "report_md": _relative(folder / REPORT_MD, root)
        if (folder / REPORT_MD).is_file()
        else None,
        "report_png": (
            _relative(folder / REPORT_PNG, root) if (folder / REPORT_PNG).is_file() else None
        ),
    }
    try:
        run = json.loads(path.read_text())
        if not isinstance(run, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        out.update(status="unreadable report", error=f"{type(exc).__name__}: {exc}", agents={})
        return out
    plan = run.get("plan") or {}
    params = plan.get("params") or {}
    validation = run.get("validation")
    recs = run.get("recommendations")
    out.update(
        day=plan.get("day") or out["day"],
        run_id=plan.get("run_id") or out["run_id"],
        tomorrow=plan.get("tomorrow"),
        status=run.get("status", "unknown"),
        elapsed_s=_num(run.get("elapsed_s")),
        params={
            k: params.get(k)
            for k in ("agents", "trials", "env_steps", "dry_run", "force_promotion")
            if k in params
        },
        validation=(
            None
            if not isinstance(validation, dict)
            else {"valid": bool(validation.get("valid")), "headline": validation.get("headline")}
        ),
        agents={
            agent: _agent(a)
            for agent, a in (run.get("agents") or {}).items()
            if isinstance(a, dict)
        },
        recommendations=(
            None
            if not isinstance(recs, dict)
            else {k: recs.get(k) for k in ("written", "uri", "day", "reason") if k in recs}
        ),
    )
    return out


def _agent(a: dict) -> dict:
    registered = a.get("registered") or {}
    decision = a.get("decision") or {}
    promotion = a.get("promotion") or {}
    deploy = a.get("deploy") or {}
    best = (a.get("search") or {}).get("best") or {}
    trials = [t for t in (a.get("trials") or []) if t]
    return {
        "trials": len(trials),
        "best_trial": best.get("trial"),
        "best_fraction_of_optimum": _num(best.get("fraction_of_optimum")),
        "best_total_reward": _num(best.get("total_reward")),
        "registered_version": _str(registered.get("version")),
        "decision": decision.get("outcome"),
        "baseline": decision.get("baseline"),
        "relative_improvement": _num(decision.get("relative_improvement")),
        "ci_low": _num(decision.get("ci_low")),
        "summary": decision.get("summary"),
        "decision_report": decision.get("report"),
        # the action applied: promoted | forced | kept | rejected | dry-run (None: not reached)
        "action": promotion.get("action"),
        "action_reason": promotion.get("reason"),
        "champion_version": _str(promotion.get("champion_version")),
        # deploy_champion's outcome: created | updated | unchanged | skipped | dry-run |
        # no-champion | failed | refused | in-progress | timeout | error (None: not reached)
        "deploy": deploy.get("outcome"),
        "deploy_reason": deploy.get("reason"),
    }


def _num(x) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _str(x) -> str | None:
    return None if x is None or x == "" else str(x)


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (OSError, ValueError):
        return None


def _mtime(path: Path) -> str | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    except OSError:
        return None
