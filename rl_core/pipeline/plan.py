"""The run's plan: the one hand-off every step of a daily run receives.

Written once by `plan_run` as plan.json in the run's folder; every later step is given the
plan's URI only (`forecourt pipeline step NAME --plan URI`), loads it, and finds the
records of the steps before it beside it in the same folder.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.pipeline import runfolder
from rl_core.pipeline.params import RunParams

PLAN_FILE = "plan.json"


def run_folder(day: date | str, run_id: str, runs: str | None = None) -> str:
    """<runs root>/<day>/<run id, made file-safe>; runs root: $FORECOURT_RUNS or <home>/runs."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_") or "run"
    return runfolder.join(runs or paths.runs_uri(), str(day), safe)


@dataclass(frozen=True)
class Plan:
    """What a run processes (day, store, parameters) and where it keeps its records."""

    run_id: str
    day: str  # the pricing day processed, YYYY-MM-DD
    tomorrow: str  # the day the published prices are for
    store: str  # the data store's URI (pricing days, landing files, recommendations)
    folder: str  # the run's folder URI (plan, step records, checkpoints, report)
    params: RunParams = field(default_factory=RunParams)
    planned_at: float = 0.0  # epoch seconds

    @classmethod
    def new(
        cls,
        params: RunParams,
        day: date,
        run_id: str,
        store: str | None = None,
        runs: str | None = None,
    ) -> Plan:
        return cls(
            run_id=run_id,
            day=day.isoformat(),
            tomorrow=(day + timedelta(days=1)).isoformat(),
            store=store or paths.store_uri(),
            folder=run_folder(day, run_id, runs),
            params=params,
            planned_at=time.time(),
        )

    @property
    def uri(self) -> str:
        """Where this plan is saved: what every later step is given."""
        return runfolder.join(self.folder, PLAN_FILE)

    def agent_folder(self, agent: str) -> str:
        return runfolder.join(self.folder, agent)

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "day": self.day,
            "tomorrow": self.tomorrow,
            "store": self.store,
            "folder": self.folder,
            "params": self.params.to_dict(),
            "planned_at": self.planned_at,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        missing = [k for k in ("run_id", "day", "tomorrow", "store", "folder") if k not in d]
        if missing:
            raise ForecourtError(f"not a run plan: missing {', '.join(missing)}")
        return cls(
            run_id=d["run_id"],
            day=d["day"],
            tomorrow=d["tomorrow"],
            store=d["store"],
            folder=d["folder"],
            params=RunParams.from_mapping(d.get("params") or {}),
            planned_at=float(d.get("planned_at") or 0.0),
        )

    def save(self) -> str:
        return runfolder.save(self.folder, PLAN_FILE, self.to_dict())

    @classmethod
    def load(cls, uri: str) -> Plan:
        """The plan at `uri` (plan.json, or the run folder that holds it)."""
        uri = str(uri)
        folder, name = uri.rsplit("/", 1) if uri.endswith(".json") else (uri, PLAN_FILE)
        try:
            d = runfolder.load(folder, name)
        except Exception as exc:  # noqa: BLE001 - an unreachable store, named as such
            raise ForecourtError(f"cannot read the run plan at {uri}: {exc}") from exc
        if d is None:
            raise ForecourtError(f"no run plan at {uri}: was plan_run run for this run?")
        return cls.from_dict(d)
