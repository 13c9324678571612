"""The pricing data store: one Parquet file per day under a date partition, at any fsspec URI.

    <root>/pricing/date=YYYY-MM-DD/pricing.parquet

`root` is a plain path, a `file://` URI or (on AWS) an `s3://` URI: every function goes
through `fsspec.core.url_to_fs`, so there is one code path for all of them.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from datetime import date, timedelta

import fsspec
import pandas as pd

from rl_core.data.schema import coerce_pricing_frame
from rl_core.errors import DataSchemaError, EmptyDataError

DATASET = "pricing"
FILENAME = "pricing.parquet"
_DAY_FILE = re.compile(r"date=(\d{4}-\d{2}-\d{2})/" + re.escape(FILENAME) + "$")

Root = str | os.PathLike


def _fs(root: Root) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(os.fspath(root))
    return fs, path.rstrip("/")


def _as_date(day: date | str) -> date:
    return pd.Timestamp(day).date()


def day_path(root: Root, day: date | str) -> str:
    """The file that holds `day` (without the URI's protocol)."""
    _, base = _fs(root)
    return f"{base}/{DATASET}/date={_as_date(day):%Y-%m-%d}/{FILENAME}"


def write_day(root: Root, day: date | str, df: pd.DataFrame) -> str:
    """Write one day's rows, replacing that day if it exists; returns the file's path.

    Atomic: the bytes go to a hidden temp file in the same folder, which is then renamed
    over the final name, so readers never see a half-written day (a killed process leaves
    at most a hidden temp file, which `list_days` and `read_day` ignore).
    """
    day = _as_date(day)
    frame = coerce_pricing_frame(df)
    other = frame["date"].dt.date != day
    if other.any():
        raise DataSchemaError(
            f"write_day({day}) got {int(other.sum())} row(s) dated otherwise, e.g. "
            f"{frame.loc[other, 'date'].iloc[0]:%Y-%m-%d}: write each day to its own partition"
        )
    fs, _ = _fs(root)
    return write_parquet_atomic(fs, day_path(root, day), frame)


def write_parquet_atomic(fs: fsspec.AbstractFileSystem, final: str, frame: pd.DataFrame) -> str:
    """Write `frame` as Parquet to `final` on `fs`, atomically; returns `final`.

    The bytes go to a hidden temp file in the same folder, renamed over the final name, so
    readers never see half a file; a killed process leaves at most a hidden
    `.<name>.<id>.tmp`, which every reader of the store skips. Every Parquet file Forecourt
    writes into the store (days, landing files, recommendations) goes through here.
    """
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    folder, name = final.rsplit("/", 1)
    tmp = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
    fs.makedirs(folder, exist_ok=True)
    try:
        fs.pipe_file(tmp, buffer.getvalue())
        fs.mv(tmp, final)
    finally:
        if fs.exists(tmp):
            fs.rm(tmp)
    return final


def read_day(root: Root, day: date | str) -> pd.DataFrame:
    """One day's rows in the pricing schema; EmptyDataError if the day was never written."""
    fs, _ = _fs(root)
    path = day_path(root, day)
    if not fs.exists(path):
        raise EmptyDataError(f"no pricing data for {_as_date(day)} under {root} ({path})")
    with fs.open(path, "rb") as f:
        return coerce_pricing_frame(pd.read_parquet(f))


def list_days(root: Root) -> list[date]:
    """The days present under `root`, oldest first ([] for a missing or empty store)."""
    fs, base = _fs(root)
    found = (_DAY_FILE.search(p) for p in fs.glob(f"{base}/{DATASET}/date=*/{FILENAME}"))
    return sorted(date.fromisoformat(m.group(1)) for m in found if m)


def read_window(root: Root, end_day: date | str, days: int) -> pd.DataFrame:
    """All rows of the `days` days ending at `end_day` (inclusive); missing days are skipped.

    Raises EmptyDataError naming the window and the root when no day of it is present.
    """
    if days < 1:
        raise ValueError(f"days={days}: a window needs at least one day")
    end = _as_date(end_day)
    start = end - timedelta(days=days - 1)
    present = [d for d in list_days(root) if start <= d <= end]
    if not present:
        raise EmptyDataError(
            f"no pricing data in the window {start}..{end} ({days} days) under {root}"
        )
    frame = pd.concat([read_day(root, d) for d in present], ignore_index=True)
    return frame.sort_values(["date", "station_id"], ignore_index=True)
