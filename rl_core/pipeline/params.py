"""The run's parameters (the Airflow trigger form), checked once at the start of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from rl_core.errors import ForecourtError
from rl_core.market.model import OBJECTIVES

MAX_CONCURRENT_TRIALS = 4  # the DAG's hard cap (max_active_tis_per_dagrun), as in seed 003
MIN_ENV_STEPS = 10_000  # below this DQN barely starts learning (learning_starts = 5,000)


class ParamsError(ForecourtError, ValueError):
    """A trigger-form value that cannot run (named, with what would)."""


@dataclass(frozen=True)
class RunParams:
    agents: tuple[str, ...] = OBJECTIVES
    trials: int = 8  # hyperparameter trials per agent
    max_concurrent_trials: int = MAX_CONCURRENT_TRIALS
    env_steps: int = 600_000  # training budget per trial (environment transitions)
    dry_run: bool = False  # evaluate and report, promote nothing, publish no prices
    force_promotion: bool = False  # promote the best trial even if it did not win
    force_reason: str = ""  # required with force_promotion; recorded on the version
    calibration_days: int = 90
    seed: int = 0
    day: str | None = None  # the pricing day to process; None: the run's data interval

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> RunParams:
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParamsError(f"unknown parameter(s) {unknown}; known: {sorted(known)}")
        if "agents" in values:
            agents = values["agents"]
            if isinstance(agents, str):
                agents = [a.strip() for a in agents.split(",") if a.strip()]
            values["agents"] = tuple(agents)
        if values.get("force_reason") is None:
            values["force_reason"] = ""
        try:
            params = cls(**values)
        except TypeError as exc:
            raise ParamsError(str(exc)) from exc
        params.check()
        return params

    def check(self) -> None:
        problems = []
        bad = [a for a in self.agents if a not in OBJECTIVES]
        if bad or not self.agents:
            problems.append(f"agents {list(self.agents)}: choose one or more of {OBJECTIVES}")
        if len(set(self.agents)) != len(self.agents):
            problems.append(f"agents {list(self.agents)} names an agent twice")
        for name, low, high in (
            ("trials", 1, 64),
            ("max_concurrent_trials", 1, MAX_CONCURRENT_TRIALS),
            ("env_steps", MIN_ENV_STEPS, 20_000_000),
            ("calibration_days", 14, 730),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                problems.append(f"{name}={value!r} must be an integer in [{low}, {high}]")
        if self.force_promotion and not self.force_reason.strip():
            problems.append("force_promotion needs a force_reason (it is recorded on the model)")
        if self.force_promotion and self.dry_run:
            problems.append("force_promotion and dry_run contradict each other: choose one")
        if self.day is not None:
            try:
                date.fromisoformat(self.day)
            except (TypeError, ValueError):
                problems.append(f"day={self.day!r} is not a date (YYYY-MM-DD)")
        if problems:
            raise ParamsError("invalid run parameters: " + "; ".join(problems))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["agents"] = list(self.agents)
        return d


def resolve_day(
    explicit: str | None,
    interval_start: datetime | None,
    logical_date: datetime | None,
    run_after: datetime | None,
) -> date:
    """Which pricing day a run processes.

    The schedule has daily data intervals, so a scheduled run (or backfill) for interval
    [D, D+1) processes day D. A manual trigger may carry no logical date (Airflow 3): it
    processes the `day` parameter if given, else the day before it was triggered.
    """
    if explicit:
        return date.fromisoformat(explicit)
    for moment in (interval_start, logical_date):
        if moment is not None:
            return moment.date()
    if run_after is not None:
        return run_after.date() - timedelta(days=1)
    raise ParamsError("cannot tell which day to process: pass the `day` parameter")
