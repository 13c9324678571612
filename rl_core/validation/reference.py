"""The trailing window a day is compared with: per day, its stations and a value sketch.

A `DayProfile` keeps what the station, drift and volume-scale checks need from one accepted
day: the set of (canonical) station ids, the median volume and, per drift column, a sorted
sketch of its values (all of them, or `drift_sketch_size` evenly spaced quantiles when
there are more). The sketch makes a day's profile cheap to hold and to pool, and it does
not depend on row order, so a day profiled from its delivered file (backfill) and from the
store (one day) gives the same figures. Reference rows that did not come through
`prepare_frame` (a caller's frame, a day stored before ids were canonical) get canonical
ids first, so the station count compares like with like.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from rl_core.validation.config import ValidationConfig
from rl_core.validation.ids import canonical_station_ids


@dataclass(frozen=True)
class DayProfile:
    day: date
    rows: int
    stations: frozenset[str]
    sketches: dict[str, np.ndarray]  # column -> sorted finite values (or their quantiles)
    volume_median: float | None = None  # the day's median volume (None: no volumes)


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """The finite values of a numeric column, sorted; None if absent or not numeric."""
    if column not in frame.columns:
        return None
    col = frame[column]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.sort(values[np.isfinite(values)])


def sketch(sorted_values: np.ndarray, size: int) -> np.ndarray:
    if len(sorted_values) <= size:
        return sorted_values
    picks = np.round(np.linspace(0, len(sorted_values) - 1, size)).astype(np.int64)
    return sorted_values[picks]


def station_ids(frame: pd.DataFrame) -> frozenset[str]:
    """The ids of a prepared frame (canonical: see `with_canonical_ids` for other frames)."""
    if "station_id" not in frame.columns:
        return frozenset()
    return frozenset(frame["station_id"].dropna().astype(str).unique().tolist())


def with_canonical_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with canonical station ids: for reference rows that did not come through
    validation (given by a caller, or stored before ids were canonicalised)."""
    if "station_id" not in frame.columns:
        return frame
    return frame.assign(station_id=canonical_station_ids(frame["station_id"].astype(object)))


def read_reference_day(root: str | os.PathLike, day: date) -> pd.DataFrame:
    """An accepted day from the store, as a reference for the days after it."""
    from rl_core.data.store import read_day

    return with_canonical_ids(read_day(root, day))


def median_volume(frame: pd.DataFrame) -> float | None:
    """The median of the finite volumes; None when there are none."""
    values = numeric_values(frame, "volume")
    return float(np.median(values)) if values is not None and len(values) else None


def profile_day(day: date, frame: pd.DataFrame, config: ValidationConfig) -> DayProfile:
    sketches = {}
    for column in config.drift_columns:
        values = numeric_values(frame, column)
        if values is not None and len(values):
            sketches[column] = sketch(values, config.drift_sketch_size)
    return DayProfile(
        day=day,
        rows=len(frame),
        stations=station_ids(frame),
        sketches=sketches,
        volume_median=median_volume(frame),
    )


class TrailingWindow:
    """The accepted days before the day under validation (oldest first)."""

    def __init__(self, profiles: Iterable[DayProfile] = ()) -> None:
        self.profiles = sorted(profiles, key=lambda p: p.day)

    def __len__(self) -> int:
        return len(self.profiles)

    @property
    def days(self) -> list[date]:
        return [p.day for p in self.profiles]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, config: ValidationConfig) -> TrailingWindow:
        """From rows of several days in the pricing schema (a `date` column)."""
        if frame is None or len(frame) == 0 or "date" not in frame.columns:
            return cls()
        dates = pd.to_datetime(frame["date"]).dt.date
        frame = with_canonical_ids(frame)
        return cls(profile_day(d, rows, config) for d, rows in frame.groupby(dates, sort=True))

    @classmethod
    def from_store(
        cls, root: str | os.PathLike, day: date, config: ValidationConfig
    ) -> TrailingWindow:
        """The `config.trailing_days` days before `day` that the store holds."""
        from rl_core.data.store import list_days

        start = day - timedelta(days=config.trailing_days)
        present = [d for d in list_days(root) if start <= d < day]
        return cls(profile_day(d, read_reference_day(root, d), config) for d in present)

    def pooled(self, column: str) -> np.ndarray:
        parts = [p.sketches[column] for p in self.profiles if column in p.sketches]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0)

    def station_counts(self) -> list[int]:
        return [len(p.stations) for p in self.profiles]

    def volume_medians(self) -> list[float]:
        return [p.volume_median for p in self.profiles if p.volume_median is not None]
