"""Batch recommendations: tomorrow's price for every station, one file per day in the store.

    <store>/recommendations/date=YYYY-MM-DD/recommendations.parquet

`recommend_batch` prices all stations in one forward pass of the champion's policy, each
with its own demand level (a `demand_level` column, else the champion's network by station
id, else the network's level; `station_source` says which);
`write_recommendations` writes the day's file atomically (temp file + rename, through
fsspec, so `file://` and `s3://` stores share one code path).
"""

from __future__ import annotations

import os
from datetime import date

import fsspec
import numpy as np
import pandas as pd

from rl_core.data.store import write_parquet_atomic
from rl_core.errors import DataSchemaError
from rl_core.serving.predictor import InvalidInputError, LoadedModel
from rl_core.training.bundle import PolicyBundle

DATASET = "recommendations"
FILENAME = "recommendations.parquet"
OUTPUT_COLUMNS = (
    "station_id",
    "yesterday_price",
    "unit_cost",
    "day",
    "price",
    "expected_volume",
    "expected_profit",
    "demand_level",
    "station_source",
    "agent",
    "model_version",
)


def _as_model(model: PolicyBundle | LoadedModel, version: str | None) -> LoadedModel:
    if isinstance(model, LoadedModel):
        return model
    name = version or model.path.name
    return LoadedModel(model, name, model.load_policy())


def recommend_batch(
    bundle: PolicyBundle | LoadedModel,
    stations: pd.DataFrame,
    day: int = 0,
    *,
    model_version: str | None = None,
) -> pd.DataFrame:
    """One row per station: the policy's price for `day` of its horizon (0 = tomorrow, the
    first day of the plan), with expected volume and profit.

    `stations` needs `station_id`, `unit_cost` and yesterday's price as `yesterday_price` or
    `price` (a day of the pricing schema works as is). A `day` column, if present, overrides
    `day` per station; a `demand_level` column (NaN: look the station up) overrides the
    champion's network. Raises InvalidInputError naming the first station it cannot price.
    """
    model = _as_model(bundle, model_version)
    price_col = "yesterday_price" if "yesterday_price" in stations.columns else "price"
    missing = [c for c in ("station_id", price_col, "unit_cost") if c not in stations.columns]
    if missing:
        raise DataSchemaError(
            f"stations frame lacks {', '.join(missing)}: need station_id, unit_cost and "
            f"yesterday_price (or price); got {', '.join(map(str, stations.columns))}"
        )
    n = len(stations)
    yp = pd.to_numeric(stations[price_col], errors="coerce").to_numpy(np.float64)
    uc = pd.to_numeric(stations["unit_cost"], errors="coerce").to_numpy(np.float64)
    days = (
        pd.to_numeric(stations["day"], errors="coerce").fillna(-1).to_numpy(np.int64)
        if "day" in stations.columns
        else np.full(n, day, np.int64)
    )
    problems = model.check(days, yp, uc)
    if problems:
        bad = [i for i in range(n) if model.check(days[i : i + 1], yp[i : i + 1], uc[i : i + 1])]
        first = stations["station_id"].iloc[bad[0]]
        raise InvalidInputError(
            f"cannot price {len(bad)} of {n} station(s), first {first!r}: {'; '.join(problems)}"
        )
    levels, sources = model.resolve_levels(stations["station_id"], _requested_levels(stations))
    pred = model.predict(days, yp, uc, levels)
    return pd.DataFrame(
        {
            "station_id": stations["station_id"].astype(str).to_numpy(),
            "yesterday_price": yp,
            "unit_cost": uc,
            "day": days,
            "price": pred.price,
            "expected_volume": pred.expected_volume,
            "expected_profit": pred.expected_profit,
            "demand_level": levels,
            "station_source": sources,
            "agent": model.agent,
            "model_version": model.version,
        },
        columns=list(OUTPUT_COLUMNS),
    )


def _requested_levels(stations: pd.DataFrame) -> list[float | None] | None:
    """The frame's `demand_level` column (missing values: None, look the station up)."""
    if "demand_level" not in stations.columns:
        return None
    values = pd.to_numeric(stations["demand_level"], errors="coerce").to_numpy(np.float64)
    return [float(v) if np.isfinite(v) else None for v in values]


def recommendations_path(store_root: str | os.PathLike, day: date | str) -> str:
    _, base = fsspec.core.url_to_fs(os.fspath(store_root))
    return f"{base.rstrip('/')}/{DATASET}/date={pd.Timestamp(day):%Y-%m-%d}/{FILENAME}"


def write_recommendations(
    store_root: str | os.PathLike, day: date | str, frame: pd.DataFrame
) -> str:
    """Write (or replace) the day's recommendations atomically; returns where (a local path,
    or a URI with its protocol, e.g. s3://...)."""
    fs, _ = fsspec.core.url_to_fs(os.fspath(store_root))
    path = write_parquet_atomic(fs, recommendations_path(store_root, day), frame)
    return path if "://" not in os.fspath(store_root) else fs.unstrip_protocol(path)


def read_recommendations(store_root: str | os.PathLike, day: date | str) -> pd.DataFrame:
    fs, _ = fsspec.core.url_to_fs(os.fspath(store_root))
    with fs.open(recommendations_path(store_root, day), "rb") as f:
        return pd.read_parquet(f)
