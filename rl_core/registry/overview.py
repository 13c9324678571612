"""The registry at a glance, for a dashboard (the Airflow "Forecourt" page) or a script.

    registry_overview(limit=10) -> {"tracking_uri", "registry_exists", "agents": {...}}

Per agent (demand, profit): the champion, the latest versions with their evaluation and
status, the latest decisions with their evidence, the alias history (promotions,
rollbacks) and a fraction-of-optimum trend over versions. Everything is read from what
the registry already records, in three registry calls per agent:

* version tags written by `register.register_challenger` (`forecourt.eval.*`,
  `forecourt.status`, `forecourt.hyperparameters`, `forecourt.data_window`, ...),
* version tags written by `record.record_decision` (`forecourt.decision`,
  `forecourt.decision.*`),
* the registered model's alias `champion` and its `forecourt.champion_history` tag
  (`promotion.promote` / `promotion.rollback`).

Read only: nothing is created, not even the local SQLite registry (no registry yet gives
an empty, valid overview). Imports MLflow but never torch (no `promotion`/`register`
import), so a web server without torch can serve it. The result is JSON-safe (non-finite
numbers become None).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rl_core import paths
from rl_core.market.model import OBJECTIVES
from rl_core.registry.tracking import (
    CHAMPION,
    client,
    is_local,
    mlflow_dir,
    model_name,
    tracking_uri,
)

# the tags written by promotion.py (not imported here: it imports torch)
HISTORY_TAG = "forecourt.champion_history"
STACK_TAG = "forecourt.champion_stack"
EVAL_KEYS = ("total_reward", "fraction_of_optimum", "volume", "profit", "optimum")
TREND_LIMIT = 50


def registry_overview(limit: int = 10, trend_limit: int = TREND_LIMIT) -> dict:
    """Champion, latest `limit` versions, decisions and alias moves, and the trend, per agent.

    Versions and decisions are newest first; the history is newest first; the trend is
    oldest first (version order), the latest `trend_limit` versions. An agent whose model
    does not exist yet has champion None and empty lists. An error reading one agent's
    model (a tracking server down) is reported in that agent's `error`, not raised.
    """
    limit = max(int(limit), 0)
    out: dict[str, Any] = {
        "generated_at": _now(),
        "tracking_uri": _safe_uri(tracking_uri()),
        "registry_exists": True,
        "reports_dir": str(reports_root()),
        "agents": {},
    }
    if is_local() and not (mlflow_dir() / "mlflow.db").is_file():
        out["registry_exists"] = False  # never trained: don't create a DB just to read it
        out["agents"] = {agent: _empty(agent) for agent in OBJECTIVES}
        return out
    c = client()
    for agent in OBJECTIVES:
        try:
            out["agents"][agent] = _agent(c, agent, limit, trend_limit)
        except Exception as exc:  # one agent's failure must not hide the other
            out["agents"][agent] = {**_empty(agent), "error": f"{type(exc).__name__}: {exc}"}
    return out


def reports_root() -> Path:
    """Where `compare.decide` writes decision reports: <FORECOURT_HOME>/reports."""
    return paths.reports_dir()


def _empty(agent: str) -> dict:
    return {
        "agent": agent,
        "name": model_name(agent),
        "exists": False,
        "champion": None,
        "champion_info": None,
        "n_versions": 0,
        "versions": [],
        "decisions": [],
        "history": [],
        "trend": [],
        "error": None,
    }


def _agent(c, agent: str, limit: int, trend_limit: int) -> dict:
    from mlflow.exceptions import MlflowException

    name = model_name(agent)
    out = _empty(agent)
    try:
        rm = c.get_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST":
            return out
        raise
    out["exists"] = True
    aliases = dict(getattr(rm, "aliases", None) or {})
    champion = aliases.get(CHAMPION)
    if champion is None:  # a backend that leaves aliases out of get_registered_model
        try:
            champion = c.get_model_version_by_alias(name, CHAMPION).version
        except MlflowException:
            champion = None
    champion = None if champion is None else str(champion)
    out["champion"] = champion
    out["history"] = list(reversed(_json_list(dict(rm.tags or {}).get(HISTORY_TAG))))[:limit]

    found = c.search_model_versions(f"name = '{name}'")
    rows = sorted((_version(mv, champion) for mv in found), key=_order, reverse=True)
    out["n_versions"] = len(rows)
    out["versions"] = rows[:limit]
    out["champion_info"] = next((r for r in rows if r["version"] == champion), None)
    decided = [r for r in rows if r["decision"]]
    decided.sort(key=lambda r: (r["decision"]["at"] or "", _order(r)), reverse=True)
    out["decisions"] = [
        {"version": r["version"], "status": r["status"], "champion": r["champion"], **r["decision"]}
        for r in decided[:limit]
    ]
    out["trend"] = [
        {
            "version": r["version"],
            "fraction_of_optimum": r["fraction_of_optimum"],
            "total_reward": r["total_reward"],
            "status": r["status"],
            "decision": r["decision"]["outcome"] if r["decision"] else None,
            "champion": r["champion"],
            "created": r["created"],
        }
        for r in reversed(rows[: max(trend_limit, 0)])
    ]
    return out


def _version(mv, champion: str | None) -> dict:
    tags = dict(mv.tags or {})
    version = str(mv.version)
    window = _json_dict(tags.get("forecourt.data_window"))
    row = {
        "version": version,
        "champion": version == champion,
        "created": _iso_ms(mv.creation_timestamp),
        "run_id": mv.run_id,
        "status": tags.get("forecourt.status"),
        **{k: _num(tags.get(f"forecourt.eval.{k}")) for k in EVAL_KEYS},
        "code_version": tags.get("forecourt.code_version"),
        "hyperparameters": _json_dict(tags.get("forecourt.hyperparameters")),
        "data_window": {
            k: window[k] for k in ("first_day", "last_day", "run_id", "trial") if k in window
        },
        "promoted_at": tags.get("forecourt.promoted_at"),
        "decision": _decision(tags),
    }
    return row


def _decision(tags: dict) -> dict | None:
    outcome = tags.get("forecourt.decision")
    if not outcome:
        return None

    def t(key: str) -> str | None:
        return tags.get(f"forecourt.decision.{key}") or None

    report = t("report")
    return {
        "outcome": outcome,
        "reason": t("reason"),
        "applied": (t("applied") or "").lower() == "true",
        "at": t("at"),
        "baseline": t("baseline"),
        "champion_version": t("champion_version"),
        "relative_improvement": _num(t("relative_improvement")),
        "ci_low": _num(t("ci_low")),
        "p_value": _num(t("p_value")),
        "margin": _num(t("margin")),
        "scenarios": t("scenarios"),
        "guardrails": [g for g in _json_list(t("guardrails")) if isinstance(g, dict)],
        "report": report,
        # the report's path under <FORECOURT_HOME>/reports (None: elsewhere, or no report)
        "report_relpath": _under(report, reports_root()),
    }


def _order(row: dict) -> tuple:
    v = row["version"]
    return (int(v), "") if v.isdigit() else (-1, v)


def _num(x) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _json_list(text: str | None) -> list:
    try:
        value = json.loads(text) if text else []
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def _json_dict(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _under(path: str | None, root: Path) -> str | None:
    if not path:
        return None
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (OSError, ValueError):
        return None


def _iso_ms(ms) -> str | None:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, UTC).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _safe_uri(uri: str) -> str:
    """The URI without credentials (user:password@host)."""
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
