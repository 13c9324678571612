"""What a validation found: one `CheckResult` per check, gathered in a `ValidationResult`.

A check is an expectation of the GX suite, the station count against the trailing norm, the
drift of one column, an economic whole-day check, or reading the file. Its status is passed,
failed, warning (drift above the warn threshold) or skipped (nothing to compare against).
The day is valid when no check failed. `summary()` is the text a person reads; `to_dict()`
is the JSON report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from rl_core.validation.config import ValidationConfig

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"


@dataclass
class CheckResult:
    name: str  # short id, e.g. "price_in_band"
    description: str  # what must hold, for a person
    kind: str  # "expectation" | "stations" | "drift" | "economics" | "read"
    status: str
    column: str | None = None
    expectation: str | None = None  # GX expectation type
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: Any = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None  # why it failed/warned/was skipped, in words
    brief: str | None = None  # a short form of `message` for one-line headlines
    error: str | None = None  # the expectation could not be evaluated (e.g. column missing)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def count_text(self) -> str:
        if self.error:
            return "not evaluated"
        if self.unexpected_count is not None and self.element_count:
            pct = 100 * self.unexpected_count / self.element_count
            pct_text = f"{pct:.2f}".rstrip("0").rstrip(".")
            return f"{self.unexpected_count:,} of {self.element_count:,} rows ({pct_text}%)"
        if self.unexpected_count is not None:
            return f"{self.unexpected_count:,} rows"
        return self.brief or self.message or self.status

    def line(self) -> str:
        text = f"{self.name}: {self.description}"
        if self.status in (FAILED, WARNING):
            parts = [self.count_text()] if self.unexpected_count is not None else []
            if self.message:
                parts.append(self.message)
            text += f" -- {': '.join(parts) or self.status}"
        elif self.status == SKIPPED and self.message:
            text += f" (skipped: {self.message})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return jsonable({k: v for k, v in self.__dict__.items()})


@dataclass
class ValidationResult:
    day: date | None
    source: str | None
    rows: int
    columns: list[str]
    checks: list[CheckResult]
    config: ValidationConfig
    started_utc: str = ""
    duration_s: float = 0.0
    reference_days: int = 0
    stored_uri: str | None = None  # where the accepted day landed in the store
    quarantine_uri: str | None = None  # where the delivered file was moved
    report_uri: str | None = None
    summary_uri: str | None = None
    data_docs_uri: str | None = None  # index.html of the Data Docs site
    notes: list[str] = field(default_factory=list)
    gx_result: Any = field(default=None, repr=False, compare=False)

    @property
    def success(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.failed]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == WARNING]

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; have {', '.join(c.name for c in self.checks)}")

    @property
    def not_evaluated(self) -> list[CheckResult]:
        """Failed because a check they depend on failed (e.g. the column is missing)."""
        return [c for c in self.failures if c.error]

    def failure_names(self) -> list[str]:
        """The checks that were evaluated and failed (see `not_evaluated` for the rest)."""
        return [c.name for c in self.failures if not c.error]

    def headline(self) -> str:
        what = f"{self.source or 'data'} for {self.day or 'an unknown day'}"
        if self.success:
            warn = f", {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"{what}: valid ({self.rows:,} rows, {len(self.checks)} checks{warn})"
        evaluated = [c for c in self.failures if not c.error]
        parts = [f"{c.name} ({c.count_text()})" for c in evaluated]
        skipped = len(self.failures) - len(evaluated)
        if skipped:
            parts.append(f"{skipped} more not evaluated")
        return f"{what} failed validation: " + ", ".join(parts)

    def summary(self) -> str:
        """The report a person reads: what failed, how many rows, example rows."""
        ok = "VALID" if self.success else "FAILED"
        lines = [
            f"Validation of {self.source or 'in-memory data'} for {self.day or 'unknown day'}: "
            f"{ok}",
            f"  rows {self.rows:,}; columns {', '.join(self.columns) or '-'}; "
            f"{len(self.checks)} check(s): {len(self.failures)} failed, "
            f"{len(self.warnings)} warning(s); trailing window {self.reference_days} day(s)",
        ]
        failed = [c for c in self.failures if not c.error]
        not_evaluated = [c for c in self.failures if c.error]
        if failed:
            lines.append("Failed:")
            for c in failed:
                lines.append(f"  FAIL {c.line()}")
                lines += [
                    f"       {_example_text(e)}" for e in c.examples[: self.config.example_rows]
                ]
        if not_evaluated:
            lines.append("Not evaluated (they depend on a failed check above):")
            lines += [f"  FAIL {c.name}: {c.description} -- {c.error}" for c in not_evaluated]
        if self.warnings:
            lines.append("Warnings:")
            lines += [f"  WARN {c.line()}" for c in self.warnings]
        drift = [c for c in self.checks if c.kind == "drift" and c.status != SKIPPED]
        if drift:
            lines.append("Drift vs the trailing window:")
            lines += [f"  {c.column}: {c.message}" for c in drift]
        skipped = [c for c in self.checks if c.status == SKIPPED]
        if skipped:
            lines.append("Skipped:")
            lines += [f"  SKIP {c.line()}" for c in skipped]
        passed = [c.name for c in self.checks if c.status == PASSED]
        if passed:
            lines.append(f"Passed ({len(passed)}): {', '.join(passed)}")
        lines += [f"Note: {n}" for n in self.notes]
        for label, uri in (
            ("Stored", self.stored_uri),
            ("Quarantined", self.quarantine_uri),
            ("Report", self.report_uri),
            ("Data Docs", self.data_docs_uri),
        ):
            if uri:
                lines.append(f"{label}: {uri}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "valid": self.success,
                "day": self.day,
                "source": self.source,
                "rows": self.rows,
                "columns": self.columns,
                "failed": self.failure_names(),
                "not_evaluated": [c.name for c in self.not_evaluated],
                "warnings": [c.name for c in self.warnings],
                "headline": self.headline(),
                "started_utc": self.started_utc,
                "duration_s": round(self.duration_s, 4),
                "reference_days": self.reference_days,
                "stored_uri": self.stored_uri,
                "quarantine_uri": self.quarantine_uri,
                "report_uri": self.report_uri,
                "summary_uri": self.summary_uri,
                "data_docs_uri": self.data_docs_uri,
                "notes": self.notes,
                "checks": [c.to_dict() for c in self.checks],
                "config": self.config.to_dict(),
            }
        )


def _example_text(example: dict[str, Any]) -> str:
    row = example.get("row")
    values = ", ".join(f"{k}={_short(v)}" for k, v in example.items() if k != "row")
    return f"e.g. row {row}: {values}" if row is not None else f"e.g. {values}"


def _short(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    text = "NaN" if value is None else str(value)
    if not text.isprintable():  # a NUL or newline in a delivered id: show it escaped
        text = repr(text)[1:-1]
    return text if len(text) <= 40 else text[:37] + "..."


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: dates as ISO text, numpy to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, ValidationConfig):
        return value.to_dict()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
