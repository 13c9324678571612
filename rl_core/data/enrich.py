"""Enrich mapped pricing data: a wholesale unit cost, and competitor prices from neighbours.

Real price-only sources (NSW FuelCheck) lack the unit cost and competitor price the market
model can use; these add them from public companions: the Sydney terminal gate price as
unit cost, and the median price of other stations in the same postcode as competitor price.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import fsspec
import numpy as np
import pandas as pd

from rl_core.data.mapping import SCHEMA_COLUMNS, MappingError, load_mapping
from rl_core.data.real import RealDataNotFoundError, real_data_dir
from rl_core.data.wholesale import sydney_wholesale

# Weekends and public holidays carry the last published wholesale price forward; a longer
# gap (the series ends before the prices do) leaves unit_cost missing rather than stale.
WHOLESALE_MAX_CARRY_DAYS = 4


def add_wholesale_cost(
    frame: pd.DataFrame,
    wholesale: pd.Series | None = None,
    *,
    max_carry_days: int = WHOLESALE_MAX_CARRY_DAYS,
) -> pd.DataFrame:
    """`frame` with `unit_cost` = the day's wholesale price in $/L (a copy).

    `wholesale` is a $/L series indexed by day, default the Sydney unleaded terminal gate
    price (`rl_core.data.wholesale.sydney_wholesale`). A day without a published price
    takes the last one up to `max_carry_days` earlier (weekends, holidays); beyond that
    (e.g. after the series ends) unit_cost stays missing, for validation to report.
    """
    if wholesale is None:
        wholesale = sydney_wholesale()
    series = wholesale.copy()
    series.index = pd.to_datetime(series.index).normalize()
    series = series[~series.index.duplicated(keep="last")].sort_index()
    days = pd.DatetimeIndex(frame["date"].unique())
    full = series.asfreq("D") if len(series) else series
    span = full.index.union(days)
    daily = full.reindex(span).ffill(limit=max_carry_days) if len(full) else full.reindex(span)
    out = frame.copy()
    out["unit_cost"] = frame["date"].map(daily).astype("float64")
    return out[[c for c in SCHEMA_COLUMNS if c in out.columns]]


def load_stations(path: str | os.PathLike, key: str = "station_code") -> pd.DataFrame:
    """A station table (e.g. nsw_fuelcheck_stations.csv.gz) with its key renamed to
    `station_id` (str) and every other column as text (postcodes keep leading zeros)."""
    text = os.fspath(path)
    fs, fs_path = fsspec.core.url_to_fs(text)
    if not fs.isfile(fs_path):
        raise RealDataNotFoundError(f"station table {text} not found")
    table = pd.read_csv(text, dtype=str)
    if key not in table.columns:
        raise MappingError(
            f"station table {text} lacks the key column {key!r}; it has {', '.join(table.columns)}"
        )
    table = table.rename(columns={key: "station_id"})
    table["station_id"] = table["station_id"].str.strip()
    return table


def mapping_stations(mapping: str | os.PathLike | Mapping[str, Any]) -> pd.DataFrame:
    """The station table a mapping names in its 'stations' section (real-data folder)."""
    m = load_mapping(mapping)
    if "stations" not in m:
        raise MappingError(
            f"mapping '{m.get('name', '?')}' names no station table ('stations' section): "
            "pass one explicitly"
        )
    return load_stations(real_data_dir() / m["stations"]["file"], m["stations"]["key"])


def add_competitor_price(
    frame: pd.DataFrame, stations: pd.DataFrame, *, by: str = "postcode"
) -> pd.DataFrame:
    """`frame` with `competitor_price` = the median price that day of the *other* stations
    sharing the station's `by` value (postcode or suburb) in `stations` (a copy).

    Kept simple on purpose: no distance, no brand weighting. The median resists the odd
    dirty price (a 0.9-cent entry does not drag a neighbour's competitor price). A station
    alone in its area that day, one missing from `stations`, or one with no `by` value gets
    NaN. Missing prices are not counted as competitors.
    """
    if by not in stations.columns:
        raise MappingError(
            f"station table has no column {by!r} to group competitors by; it has "
            f"{', '.join(stations.columns)}"
        )
    lookup = stations.drop_duplicates("station_id").set_index("station_id")[by]
    area = frame["station_id"].astype(str).map(lookup)
    groups = pd.DataFrame({"date": frame["date"].to_numpy(), "area": area.to_numpy()})
    codes = groups.groupby(["date", "area"], sort=False, dropna=True).ngroup()
    codes = codes.fillna(-1).astype("int64").to_numpy()  # no area: no group
    out = frame.copy()
    out["competitor_price"] = leave_one_out_median(frame["price"].to_numpy(float), codes)
    return out[[c for c in SCHEMA_COLUMNS if c in out.columns]]


def leave_one_out_median(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each element, the median of the other non-NaN values of its group (vectorised).

    `groups` are integer codes, negative for "no group" (result NaN). An element whose own
    value is NaN gets the median of its whole group. NaN where there is no other value.
    """
    values = np.asarray(values, dtype=float)
    groups = np.asarray(groups)
    out = np.full(len(values), np.nan)
    has_group = groups >= 0
    valid = has_group & ~np.isnan(values)
    idx = np.flatnonzero(valid)
    if idx.size:
        order = idx[np.lexsort((values[idx], groups[idx]))]
        g_sorted = groups[order]
        v_sorted = values[order]
        starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
        sizes = np.diff(np.r_[starts, len(order)])
        start_of = np.repeat(starts, sizes)
        n = np.repeat(sizes, sizes)
        rank = np.arange(len(order)) - start_of
        m = n - 1  # others
        k1, k2 = (m - 1) // 2, m // 2
        ok = m > 0
        p1 = np.where(ok, start_of + k1 + (k1 >= rank), 0)
        p2 = np.where(ok, start_of + k2 + (k2 >= rank), 0)
        out[order] = np.where(ok, (v_sorted[p1] + v_sorted[p2]) / 2, np.nan)
        # elements without a value of their own: the median of their whole group
        lonely = np.flatnonzero(has_group & np.isnan(values))
        if lonely.size:
            uniq = g_sorted[starts]
            pos = np.searchsorted(uniq, groups[lonely])
            found = (pos < len(uniq)) & (uniq[np.minimum(pos, len(uniq) - 1)] == groups[lonely])
            s, size = starts[np.minimum(pos, len(uniq) - 1)], sizes[np.minimum(pos, len(uniq) - 1)]
            med = (v_sorted[s + (size - 1) // 2] + v_sorted[s + size // 2]) / 2
            out[lonely] = np.where(found, med, np.nan)
    return out
