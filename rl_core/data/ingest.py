"""Ingest real files: source -> pricing frames, one per day -> landing files -> (validation).

    frames = ingest("nsw_fuelcheck_daily_prices.csv.gz", "nsw_fuelcheck", fuel="U91")
    paths = write_landing(store, frames, name="nsw_fuelcheck-u91")
    stats = price_process_stats(frames)

Landing files sit under the store root, one per source and day:

    <root>/landing/date=YYYY-MM-DD/<name>.parquet

They hold what the source delivered, mapped into the pricing schema's names, units and
types but not judged: the daily DAG validates each landing file into the store
(`<root>/pricing/...`) or quarantines it. A price-only source (NSW FuelCheck) lands
without `volume` and `unit_cost` columns unless the wholesale cost is joined.

`price_process_stats` describes the real dirt of a span of days: station counts, price
quantiles, prices outside a plausible band, days missing, stations appearing and
disappearing, and day-to-day moves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import fsspec
import numpy as np
import pandas as pd

from rl_core.data.enrich import add_competitor_price, add_wholesale_cost, mapping_stations
from rl_core.data.mapping import MappingError, load_mapping, resolve_fuel
from rl_core.data.real import apply_mapping, read_source
from rl_core.data.store import write_parquet_atomic
from rl_core.errors import DataSchemaError, EmptyDataError, ForecourtError

LANDING = "landing"
# A pump price outside 0.50..5.00 $/L is not plausible (NSW spans 1.27..3.75 $/L across its
# fuels once its two 0.9-cent entries are set aside); the same default band as the
# validation stage's ValidationConfig, and configurable everywhere.
PLAUSIBLE_BAND = (0.50, 5.00)
SUB_CENTS = 0.10  # a price below 10 c/L is a data-entry error, whatever the band
RELATIVE_OUTLIER = 2.0  # a price under half or over twice the day's median
BIG_MOVE = 0.50  # $/L in one day at one station
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LANDING_FILE = re.compile(r"date=(\d{4}-\d{2}-\d{2})/([^/]+)\.parquet$")

Frames = dict[date, pd.DataFrame]


class IngestError(ForecourtError, ValueError):
    """An ingestion request that cannot be met (bad landing name, day count, band)."""


_QUANTILES = {
    "min": 0.0,
    "p0_1": 0.001,
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
    "p99_9": 0.999,
    "max": 1.0,
}


# ---- source -> frames ----------------------------------------------------------------------


def ingest(
    source_path: str | os.PathLike,
    mapping: str | os.PathLike | Mapping[str, Any],
    *,
    fuel: str | None = None,
    days: int | Iterable[date | str] | None = None,
    wholesale: bool = False,
    competitors_by: str | None = None,
    stations: pd.DataFrame | None = None,
) -> Frames:
    """Read `source_path` (CSV, CSV.gz or Parquet; a path or fsspec URI) with `mapping`
    (a shipped name, a JSON file or a dict) and split it into one frame per day.

    fuel: for multi-fuel sources, the fuel to keep (default: the mapping's default).
    days: an int keeps the last N days present; a collection of dates keeps those days.
    wholesale: join the Sydney unleaded wholesale price as `unit_cost` ($/L).
    competitors_by: 'postcode' or 'suburb': add `competitor_price`, the median price of
        the other stations in the same area that day (`stations`, default the mapping's
        station table). See `rl_core.data.enrich.add_competitor_price`.
    """
    m = load_mapping(mapping)
    raw = read_source(source_path, m)
    if raw.empty:
        raise EmptyDataError(f"source file {os.fspath(source_path)} has a header but no rows")
    return ingest_frame(
        raw,
        m,
        fuel=fuel,
        days=days,
        wholesale=wholesale,
        competitors_by=competitors_by,
        stations=stations,
    )


def ingest_frame(
    raw: pd.DataFrame,
    mapping: str | os.PathLike | Mapping[str, Any],
    *,
    fuel: str | None = None,
    days: int | Iterable[date | str] | None = None,
    wholesale: bool = False,
    competitors_by: str | None = None,
    stations: pd.DataFrame | None = None,
) -> Frames:
    """`ingest` for a frame already read (e.g. by `rl_core.data.real.read_source`)."""
    m = load_mapping(mapping)
    chosen = resolve_fuel(m, fuel)
    frame = apply_mapping(raw, m, fuel=chosen)
    if frame.empty:
        raise EmptyDataError(f"mapping '{m.get('name', '?')}' left no rows to ingest")
    frame = select_days(frame, days)
    if wholesale:
        if "unit_cost" in frame.columns:
            raise MappingError(
                f"mapping '{m.get('name', '?')}' already maps unit_cost: drop the wholesale join"
            )
        allowed = m.get("fuel", {}).get("wholesale")
        if chosen is not None and allowed is not None and chosen not in allowed:
            raise MappingError(
                f"the Sydney wholesale price is an unleaded price: mapping '{m.get('name')}' "
                f"allows it for {', '.join(allowed) or 'no fuel'}, not {chosen}"
            )
        frame = add_wholesale_cost(frame)
    if competitors_by is not None:
        table = stations if stations is not None else mapping_stations(m)
        frame = add_competitor_price(frame, table, by=competitors_by)
    return split_days(frame)


def select_days(frame: pd.DataFrame, days: int | Iterable[date | str] | None) -> pd.DataFrame:
    """Rows of the last `days` days present (int), or of the given days (a collection)."""
    if days is None:
        return frame
    present = frame["date"].drop_duplicates().sort_values()
    if isinstance(days, int) and not isinstance(days, bool):
        if days < 1:
            raise IngestError(f"days={days}: ingest at least one day")
        keep = set(present.iloc[-days:])
    else:
        keep = {pd.Timestamp(d).normalize() for d in days}
        absent = sorted(keep - set(present))
        if len(absent) == len(keep):
            raise EmptyDataError(
                "none of the requested day(s) "
                + ", ".join(f"{d:%Y-%m-%d}" for d in absent[:5])
                + f" is in the source ({present.iloc[0]:%Y-%m-%d}..{present.iloc[-1]:%Y-%m-%d})"
            )
    return frame.loc[frame["date"].isin(keep)].reset_index(drop=True)


def split_days(frame: pd.DataFrame) -> Frames:
    """One frame per day (keys `datetime.date`, oldest first), rows sorted by station_id."""
    frames: Frames = {}
    for day, rows in frame.groupby("date", sort=True):
        rows = rows.sort_values("station_id", kind="stable", na_position="last")
        frames[pd.Timestamp(day).date()] = rows.reset_index(drop=True)
    return frames


# ---- frames -> landing files -----------------------------------------------------------------


def landing_path(root: str | os.PathLike, day: date | str, name: str = "pricing") -> str:
    """Where `day`'s landing file from source `name` goes (a plain path or a URI)."""
    _check_name(name)
    fs, base = fsspec.core.url_to_fs(os.fspath(root))
    path = f"{base.rstrip('/')}/{LANDING}/date={pd.Timestamp(day):%Y-%m-%d}/{name}.parquet"
    return _display(fs, path)


def write_landing(
    root: str | os.PathLike, frames: Mapping[date, pd.DataFrame], *, name: str = "pricing"
) -> list[str]:
    """Write each day's frame to `<root>/landing/date=YYYY-MM-DD/<name>.parquet`.

    Atomic per file: the bytes go to a hidden temp file in the same folder, renamed over
    the final name, so the DAG never validates half a file (a killed process leaves at
    most a hidden `.<name>.parquet.*.tmp`). Re-ingesting a day replaces its file. Returns
    the written paths, oldest day first.
    """
    _check_name(name)
    fs, base = fsspec.core.url_to_fs(os.fspath(root))
    base = base.rstrip("/")
    written = []
    for day in sorted(frames):
        frame = frames[day]
        key = pd.Timestamp(day).date()
        if len(frame):
            other = frame["date"].dt.date != key
            if other.any():
                raise DataSchemaError(
                    f"the frame for {key} has {int(other.sum())} row(s) dated otherwise, e.g. "
                    f"{frame.loc[other, 'date'].iloc[0]:%Y-%m-%d}: one day per landing file"
                )
        final = f"{base}/{LANDING}/date={key:%Y-%m-%d}/{name}.parquet"
        written.append(_display(fs, write_parquet_atomic(fs, final, frame)))
    return written


def list_landing(root: str | os.PathLike) -> dict[date, list[str]]:
    """Landing files under `root` by day (oldest first); hidden temp files are ignored."""
    fs, base = fsspec.core.url_to_fs(os.fspath(root))
    found: dict[date, list[str]] = {}
    for path in sorted(fs.glob(f"{base.rstrip('/')}/{LANDING}/date=*/*.parquet")):
        match = _LANDING_FILE.search(path)
        if match and not match.group(2).startswith("."):
            found.setdefault(date.fromisoformat(match.group(1)), []).append(_display(fs, path))
    return dict(sorted(found.items()))


# ---- the price process and its dirt ------------------------------------------------------------


def price_process_stats(
    frames: Mapping[date, pd.DataFrame],
    *,
    band: tuple[float, float] = PLAUSIBLE_BAND,
    relative: float = RELATIVE_OUTLIER,
    big_move: float = BIG_MOVE,
    examples: int = 5,
) -> dict[str, Any]:
    """Describe a span of daily pricing frames: what a person needs to trust (or not) it.

    Returns a JSON-ready dict:
      days, first, last, missing_days (calendar days in the span with no rows), rows,
      stations; stations_per_day {min, median, max}, low_station_days (under 90% of the
      median); price quantiles ($/L); outside_band / below_band / above_band / sub_10_cents /
      non_positive / null_price / far_from_day_median, each {count, share, examples};
      duplicate_keys, null_station_id; stations appearing and disappearing between
      consecutive present days, stations present every day, first seen after the first
      day, last seen before the last day; day-to-day moves per station (consecutive
      calendar days) {p50, p99, max, over_big_move}; coverage of optional columns;
      per_day [{date, rows, stations, min, p05, median, p95, max, outside_band,
      appeared, disappeared}].
    """
    lo, hi = band
    if not lo < hi:
        raise IngestError(f"band={band}: the low end must be below the high end")
    present = {pd.Timestamp(d).date(): f for d, f in frames.items() if len(f)}
    if not present:
        raise EmptyDataError("no rows to describe: every day is empty")
    frame = pd.concat([present[d] for d in sorted(present)], ignore_index=True)
    day_list = sorted(present)
    span = pd.date_range(day_list[0], day_list[-1], freq="D").date
    price = frame["price"]
    n = len(frame)

    def flagged(mask: pd.Series) -> dict[str, Any]:
        rows = frame.loc[mask.fillna(False), ["date", "station_id", "price"]]
        return {
            "count": int(len(rows)),
            "share": round(len(rows) / n, 8),
            "examples": [
                {"date": f"{r.date:%Y-%m-%d}", "station_id": r.station_id, "price": r.price}
                for r in rows.head(examples).itertuples(index=False)
            ],
        }

    day_median = frame.groupby("date")["price"].transform("median")
    ratio = price / day_median

    keys = frame[["date", "station_id"]].dropna().drop_duplicates()
    presence = pd.crosstab(keys["date"], keys["station_id"]).gt(0).to_numpy()
    per_day_stations = presence.sum(axis=1)
    appeared = np.r_[0, (presence[1:] & ~presence[:-1]).sum(axis=1)]
    disappeared = np.r_[0, (presence[:-1] & ~presence[1:]).sum(axis=1)]
    seen_days = presence.sum(axis=0)
    first_seen = presence.argmax(axis=0)
    last_seen = len(presence) - 1 - presence[::-1].argmax(axis=0)
    median_stations = float(np.median(per_day_stations))

    by_day = frame.groupby("date")["price"]
    q = by_day.quantile([0.05, 0.5, 0.95]).unstack()
    outside = (price < lo) | (price > hi)
    per_day = []
    for i, (day, rows) in enumerate(frame.groupby("date", sort=True)):
        p = rows["price"]
        per_day.append(
            {
                "date": f"{day:%Y-%m-%d}",
                "rows": int(len(rows)),
                "stations": int(per_day_stations[i]),
                "min": _num(p.min()),
                "p05": _num(q.loc[day, 0.05]),
                "median": _num(q.loc[day, 0.5]),
                "p95": _num(q.loc[day, 0.95]),
                "max": _num(p.max()),
                "outside_band": int(outside.loc[rows.index].sum()),
                "appeared": int(appeared[i]),
                "disappeared": int(disappeared[i]),
            }
        )

    moves = _daily_moves(frame, big_move)
    coverage = {
        c: round(float(frame[c].notna().mean()), 6)
        for c in ("volume", "unit_cost", "competitor_price")
        if c in frame.columns
    }
    quantiles = price.quantile(list(_QUANTILES.values()))
    return {
        "days": len(day_list),
        "first": day_list[0].isoformat(),
        "last": day_list[-1].isoformat(),
        "span_days": len(span),
        "missing_days": [d.isoformat() for d in span if d not in present],
        "rows": n,
        "stations": int(frame["station_id"].nunique()),
        "stations_per_day": {
            "min": int(per_day_stations.min()),
            "median": median_stations,
            "max": int(per_day_stations.max()),
        },
        "low_station_days": [
            row["date"] for row in per_day if row["stations"] < 0.9 * median_stations
        ],
        "stations_present_every_day": int((seen_days == len(day_list)).sum()),
        "stations_first_seen_after_start": int((first_seen > 0).sum()),
        "stations_last_seen_before_end": int((last_seen < len(day_list) - 1).sum()),
        "stations_appeared": int(appeared.sum()),
        "stations_disappeared": int(disappeared.sum()),
        "max_appeared_in_a_day": int(appeared.max()),
        "max_disappeared_in_a_day": int(disappeared.max()),
        "price_quantiles": {k: _num(v) for k, v in zip(_QUANTILES, quantiles, strict=True)},
        "band": [lo, hi],
        "outside_band": flagged(outside),
        "below_band": flagged(price < lo),
        "above_band": flagged(price > hi),
        "sub_10_cents": flagged(price < SUB_CENTS),
        "non_positive": flagged(price <= 0),
        "null_price": int(price.isna().sum()),
        "far_from_day_median": flagged((ratio < 1 / relative) | (ratio > relative)),
        "duplicate_keys": int(frame.duplicated(["date", "station_id"]).sum()),
        "null_station_id": int(frame["station_id"].isna().sum()),
        "daily_moves": moves,
        "coverage": coverage,
        "per_day": per_day,
    }


def stats_summary(stats: Mapping[str, Any]) -> str:
    """A few lines a person reads: span, gaps, stations, and the dirt found."""
    spd = stats["stations_per_day"]
    missing = stats["missing_days"]
    lo, hi = stats["band"]
    q = stats["price_quantiles"]
    lines = [
        f"{stats['days']} days {stats['first']}..{stats['last']}"
        + (f", {len(missing)} missing ({', '.join(missing[:5])})" if missing else ", none missing")
        + f"; {stats['rows']:,} rows; {stats['stations']:,} stations "
        f"(per day {spd['min']:,}..{spd['max']:,}, median {spd['median']:,.0f})",
        f"  price $/L: min {q['min']:.3f}, p01 {q['p01']:.3f}, median {q['p50']:.3f}, "
        f"p99 {q['p99']:.3f}, max {q['max']:.3f}",
        f"  dirt: {stats['sub_10_cents']['count']} price(s) under 10 c/L, "
        f"{stats['outside_band']['count']} outside {lo:.2f}..{hi:.2f} $/L, "
        f"{stats['far_from_day_median']['count']} under half or over twice the day's median, "
        f"{stats['null_price']} missing, {stats['duplicate_keys']} duplicate key(s)",
        f"  stations: {stats['stations_present_every_day']:,} on every day, "
        f"{stats['stations_appeared']:,} appearances and {stats['stations_disappeared']:,} "
        f"disappearances between consecutive days"
        + (
            f"; low-count days {', '.join(stats['low_station_days'][:5])}"
            if stats["low_station_days"]
            else ""
        ),
    ]
    for ex in stats["sub_10_cents"]["examples"][:3]:
        lines.append(f"    e.g. {ex['date']} station {ex['station_id']}: {ex['price']:.4f} $/L")
    return "\n".join(lines)


# ---- helpers -----------------------------------------------------------------------------------


def _daily_moves(frame: pd.DataFrame, big_move: float) -> dict[str, Any]:
    f = frame.dropna(subset=["station_id", "price"]).drop_duplicates(["date", "station_id"])
    f = f.sort_values(["station_id", "date"])
    same = f["station_id"].eq(f["station_id"].shift())
    next_day = f["date"].diff().eq(pd.Timedelta(days=1))
    moves = f["price"].diff().abs()[same & next_day]
    if moves.empty:
        return {}
    values = moves.to_numpy()
    return {
        "pairs": int(len(values)),
        "p50": _num(np.quantile(values, 0.5)),
        "p99": _num(np.quantile(values, 0.99)),
        "max": _num(values.max()),
        "big_move": big_move,
        "over_big_move": int((values > big_move).sum()),
    }


def _num(x: Any) -> float | None:
    x = float(x)
    return None if np.isnan(x) else round(x, 6)


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name.endswith(".parquet"):
        raise IngestError(
            f"landing name {name!r}: use letters, digits, '_', '-' or '.', without '.parquet'"
        )


def _display(fs: fsspec.AbstractFileSystem, path: str) -> str:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if protocol in ("file", "local") else fs.unstrip_protocol(path)
