"""The validation stage: read a delivered day, check it, then accept it or quarantine it.

    validate_frame(df, day, config, reference)      in memory: checks only, no side effects
    validate_day(source, day, store_root, config)   the stage the DAG runs for each day

`validate_day` reads the file (CSV, gzipped CSV or Parquet; path or fsspec URI), runs the GX
suite, the station-count check and the drift checks against the trailing window in the store,
and then either
- writes the day into the store (`rl_core.data.store.write_day`, atomic) with its report,
  summary and GX Data Docs in `_validation/` beside it, and returns the result; or
- moves the delivered file into `<store>/quarantine/date=.../` with the same report beside
  it, leaves whatever the store held for that day untouched, and raises
  `ValidationFailedError` naming the failed checks and their counts.
Re-delivering a corrected file simply runs the stage again: it replaces the day.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import pandas as pd

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.validation import publish
from rl_core.validation.config import ValidationConfig
from rl_core.validation.drift import drift_checks
from rl_core.validation.economics import economic_checks
from rl_core.validation.errors import DataReadError, ValidationFailedError
from rl_core.validation.frame import prepare_frame
from rl_core.validation.reader import Delivery, infer_day, open_delivery, read_delivery
from rl_core.validation.reference import TrailingWindow, station_ids
from rl_core.validation.result import FAILED, CheckResult, ValidationResult
from rl_core.validation.stations import station_check
from rl_core.validation.suite import GXRun, check_results, runner_for


def validate_frame(
    df: pd.DataFrame,
    day: date | str,
    config: ValidationConfig | None = None,
    reference: pd.DataFrame | TrailingWindow | None = None,
    *,
    source: str | None = None,
) -> ValidationResult:
    """Check `df` as the data for `day` (no store, no files). `reference` is the trailing
    window: rows of earlier days in the pricing schema, or a TrailingWindow; None skips the
    station and drift checks."""
    config = config or ValidationConfig()
    day = as_date(day)
    if isinstance(reference, pd.DataFrame):
        reference = TrailingWindow.from_frame(reference, config)
    result, _ = evaluate(df, day, config, reference, source=source, data_docs=False)
    return result


def evaluate(
    raw: pd.DataFrame,
    day: date,
    config: ValidationConfig,
    window: TrailingWindow | None,
    *,
    source: str | None = None,
    data_docs: bool = False,
) -> tuple[ValidationResult, GXRun]:
    """Run every check on one day's table; the GX run comes back for its Data Docs."""
    started = utc_now()
    t0 = time.perf_counter()
    raw = raw.reset_index(drop=True)
    frame = prepare_frame(raw)
    run = runner_for(config, frame.columns).run(frame, day, data_docs=data_docs)
    checks = check_results(run, raw, config) + window_checks(frame, window, config)
    result = ValidationResult(
        day=day,
        source=source,
        rows=len(frame),
        columns=[str(c) for c in raw.columns],
        checks=checks,
        config=config,
        started_utc=started,
        duration_s=time.perf_counter() - t0,
        reference_days=len(window) if window is not None else 0,
        gx_result=run.result,
    )
    return result, run


def window_checks(
    frame: pd.DataFrame, window: TrailingWindow | None, config: ValidationConfig
) -> list[CheckResult]:
    """The whole-day checks: station count, drift per column, then economic plausibility
    (the trailing window is their reference; without one most are skipped)."""
    return [
        station_check(station_ids(frame), window, config),
        *drift_checks(frame, window, config),
        *economic_checks(frame, window, config),
    ]


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def validate_day(
    source: str | os.PathLike,
    day: date | str | None = None,
    store_root: str | os.PathLike | None = None,
    config: ValidationConfig | None = None,
) -> ValidationResult:
    """Validate one delivered file for `day` and accept it into the store or quarantine it.

    `day` defaults to the day in the file's path (`date=YYYY-MM-DD` or a date in its name),
    else its `date` column. Raises DeliveryNotFoundError when there is no file (nothing to
    quarantine) and ValidationFailedError when the data failed (quarantined).
    """
    config = config or ValidationConfig()
    store_root = os.fspath(store_root) if store_root is not None else paths.store_uri()
    day = as_date(day) if day is not None else None
    delivery = open_delivery(source)
    t0 = time.perf_counter()
    try:
        read_delivery(delivery, encoding=config.encoding, delimiter=config.delimiter)
    except DataReadError as exc:
        day = day or infer_day(delivery.uri)
        result = unreadable(delivery, day, config, str(exc), t0)
        return reject(delivery, result, store_root, None)
    day = day or infer_day(delivery.uri, delivery.frame)
    if day is None:
        msg = (
            f"cannot tell which day {delivery.name} is for: no date in its path and no "
            "parseable date column; pass the day (--day YYYY-MM-DD)"
        )
        return reject(delivery, unreadable(delivery, None, config, msg, t0), store_root, None)

    window = TrailingWindow.from_store(store_root, day, config)
    result, run = evaluate(
        delivery.frame, day, config, window, source=delivery.uri, data_docs=config.data_docs
    )
    result.duration_s = time.perf_counter() - t0  # reading included
    if not result.success:
        return reject(delivery, result, store_root, run)
    return accept(delivery, result, run, store_root)


def accept(
    delivery: Delivery,
    result: ValidationResult,
    run: GXRun | None,
    store_root: str,
    *,
    frame: pd.DataFrame | None = None,
) -> ValidationResult:
    """Write the day into the store (atomic) and its reports beside it.

    `frame` is the delivery already prepared (prepare_frame), to save doing it again.
    """
    from rl_core.data.store import write_day

    frame = for_store(delivery.frame if frame is None else frame)
    missing = [c for c in ("volume", "unit_cost") if c not in delivery.frame.columns]
    if missing:
        result.notes.append(
            f"stored without {', '.join(missing)} (not in the delivery, not required): "
            "those columns are empty for this day"
        )
    fs, _ = publish.store_fs(store_root)
    result.stored_uri = publish.display_uri(fs, write_day(store_root, result.day, frame))
    write(store_root, publish.accepted_report_dir(store_root, result.day), result, run)
    return result


def for_store(raw: pd.DataFrame) -> pd.DataFrame:
    """The validated table as write_day wants it (absent optional columns as NaN; station
    ids as text, which GX checked are text or integers and never missing)."""
    frame = prepare_frame(raw)
    frame["station_id"] = frame["station_id"].astype(str)
    for column in ("volume", "unit_cost"):
        if column not in frame.columns:
            frame[column] = float("nan")
    return frame


def reject(
    delivery: Delivery, result: ValidationResult, store_root: str, run: GXRun | None
) -> ValidationResult:
    """Quarantine the delivery with its reports, then raise ValidationFailedError."""
    quarantine(delivery, result, store_root, run)
    raise ValidationFailedError(
        f"{result.headline()}; quarantined to {result.quarantine_uri} "
        f"(summary: {result.summary_uri})",
        result,
    )


def quarantine(
    delivery: Delivery, result: ValidationResult, store_root: str, run: GXRun | None
) -> ValidationResult:
    """Move the delivered file to the quarantine prefix and write its reports beside it."""
    from rl_core.data.store import day_path

    fs, _ = publish.store_fs(store_root)
    own_day_file = (
        result.day is not None
        and type(fs) is type(delivery.fs)
        and delivery.path == day_path(store_root, result.day)
    )
    target = publish.quarantine_delivery(delivery, store_root, result.day, keep_source=own_day_file)
    result.quarantine_uri = publish.display_uri(fs, target)
    if own_day_file:
        result.notes.append("the file is the store's accepted copy of the day: copied, not moved")
    write(store_root, f"{target}.validation", result, run)
    return result


def write(store_root: str, folder: str, result: ValidationResult, run: GXRun | None) -> None:
    gx_json = run.result.to_json_dict() if run is not None else None
    docs_dir = run.docs_dir if run is not None else None
    docs_files = run.docs_files if run is not None else []
    publish.write_reports(store_root, folder, result, gx_json, docs_dir, docs_files)


def unreadable(
    delivery: Delivery, day: date | None, config: ValidationConfig, message: str, t0: float
) -> ValidationResult:
    check = CheckResult(
        name="readable",
        description="the file reads as a CSV or Parquet table with rows",
        kind="read",
        status=FAILED,
        message=message,
    )
    return ValidationResult(
        day=day,
        source=delivery.uri,
        rows=0,
        columns=[],
        checks=[check],
        config=config,
        started_utc=utc_now(),
        duration_s=time.perf_counter() - t0,
    )


def as_date(day: date | str) -> date:
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    try:
        return date.fromisoformat(str(day))
    except ValueError:
        raise ForecourtError(f"day {day!r} is not a YYYY-MM-DD date") from None
