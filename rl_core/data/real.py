"""Read real (public or a user's own) pricing files and map them into the pricing schema.

The mapping itself (what each JSON key means) is `rl_core.data.mapping`. Two ways to apply
one: `map_columns` (strict: the full pricing schema, one row per station and day, as
calibration needs) and `apply_mapping` (lenient, for ingestion: the columns the source has,
values kept as delivered, because judging values - duplicates, outliers, nulls - is the
validation stage's job). Both raise `MappingError` naming what is wrong with the mapping
or which source columns are missing.

The shared files live in $FORECOURT_REAL_DATA_DIR, else `<repo>/../shared/data/real`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rl_core.data.mapping import (
    SCHEMA_COLUMNS,
    as_list,
    check_source_columns,
    load_mapping,
    resolve_fuel,
    source_columns,
)
from rl_core.data.schema import coerce_pricing_frame as _coerce_pricing_frame
from rl_core.errors import DataSchemaError, EmptyDataError, ForecourtError

ENV_VAR = "FORECOURT_REAL_DATA_DIR"
MONEY_COLUMNS = ("price", "unit_cost", "competitor_price")


class RealDataNotFoundError(ForecourtError, FileNotFoundError):
    """A real data file that is not where the configuration says it is."""


def real_data_dir() -> Path:
    """$FORECOURT_REAL_DATA_DIR, else the shared folder beside the repository."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "real"


# ---- reading and mapping -----------------------------------------------------------------------


def read_source(path: str | os.PathLike, mapping: Mapping[str, Any]) -> pd.DataFrame:
    """Read the columns a mapping needs from a CSV (optionally compressed) or Parquet file.

    `path` is a plain path or any fsspec URI. Structural problems (missing file, missing
    columns, empty file, undecodable or corrupt bytes) raise one-line Forecourt errors.
    """
    text = os.fspath(path)
    fs, fs_path = fsspec.core.url_to_fs(text)
    if not fs.isfile(fs_path):
        raise RealDataNotFoundError(
            f"source file {text} not found (shared real data lives in {real_data_dir()}; "
            f"set {ENV_VAR} to move it)"
        )
    fmt = mapping.get("format") or _infer_format(text)
    needed = source_columns(mapping)
    station_src = mapping.get("columns", {}).get("station_id")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with fs.open(fs_path, "rb") as f:
                names = pq.ParquetFile(f).schema_arrow.names
            check_source_columns(names, mapping, source=text)
            return pd.read_parquet(text, columns=needed)
        options = dict(mapping.get("csv", {}))
        header = pd.read_csv(text, nrows=0, **options).columns
        check_source_columns(header, mapping, source=text)
        # station ids as text: keeps leading zeros and never turns 1294 into 1294.0
        dtype = {station_src: str} if isinstance(station_src, str) else None
        return pd.read_csv(text, usecols=needed, dtype=dtype, **options)
    except pd.errors.EmptyDataError as exc:
        raise EmptyDataError(f"source file {text} is empty (no header, no rows)") from exc
    except UnicodeDecodeError as exc:
        enc = mapping.get("csv", {}).get("encoding", "utf-8")
        raise DataSchemaError(
            f"cannot decode {text} as {enc} ({exc.reason} at byte {exc.start}): "
            "set 'csv': {\"encoding\": ...} in the mapping"
        ) from exc
    except pd.errors.ParserError as exc:
        raise DataSchemaError(f"cannot parse {text} as CSV: {exc}".splitlines()[0]) from exc
    except (OSError, ValueError) as exc:
        if isinstance(exc, ForecourtError):
            raise
        raise DataSchemaError(f"cannot read {text} as {fmt}: {exc}".splitlines()[0]) from exc


def apply_mapping(
    raw: pd.DataFrame,
    mapping: str | os.PathLike | Mapping[str, Any],
    *,
    fuel: str | None = None,
    price_scale: float | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Apply a mapping to a raw frame: filter (fuel, filters), rename, scale, type.

    Lenient (default): the result has the schema columns the mapping provides, in schema
    order, typed (date midnight timestamps, station_id str, numbers float64 in $/L and
    litres); duplicates, nulls in station_id and odd values are kept for validation to
    judge. Dates that do not parse and numbers that are not numbers raise, because a row
    that cannot be placed in a day or read as a number cannot land anywhere.

    Strict: the result goes through `coerce_pricing_frame` (full schema, unique keys).
    `price_scale` overrides the mapping's own.
    """
    m = load_mapping(mapping)
    name = m.get("name", "?")
    check_source_columns(raw.columns, m)
    chosen = resolve_fuel(m, fuel)

    keep = pd.Series(True, index=raw.index)
    for col, values in m.get("filters", {}).items():
        keep &= raw[col].isin(as_list(values))
    if chosen is not None:
        fuel_col = m["fuel"]["column"]
        codes = raw[fuel_col].astype(str).str.strip()
        keep &= codes == chosen
        if len(raw) and not (codes == chosen).any():
            found = ", ".join(sorted(codes.dropna().unique())[:20])
            raise EmptyDataError(
                f"no rows with {fuel_col} == {chosen!r} (mapping '{name}'); the data has {found}"
            )
    sub = raw.loc[keep]
    if len(raw) and sub.empty:
        raise EmptyDataError(
            f"no rows left after the filters {m.get('filters')} of mapping '{name}'"
        )

    out = pd.DataFrame(index=sub.index)
    for target, src in m.get("columns", {}).items():
        if target == "date":
            out[target] = _parse_dates(sub[src], m.get("date_format"), src)
        elif target == "station_id":
            out[target] = _station_ids(sub[src], src)
        elif isinstance(src, list):
            parts = [_to_float(sub[s], s, m.get("csv")) for s in src]
            out[target] = pd.concat(parts, axis=1).mean(axis=1)
        else:
            out[target] = _to_float(sub[src], src, m.get("csv"))
    for target, value in m.get("constants", {}).items():
        if target == "date":
            out[target] = _parse_dates(
                pd.Series(value, index=sub.index), m.get("date_format"), "constants.date"
            )
        elif target == "station_id":
            out[target] = pd.Series(str(value), index=sub.index, dtype=str)
        else:
            out[target] = _to_float(pd.Series(value, index=sub.index), f"constants.{target}")

    scale = m.get("price_scale", 1.0) if price_scale is None else price_scale
    # rounding to 1e-10 only drops the float noise of the scaling (0.9 * 0.01 = 0.009000...01)
    for column in MONEY_COLUMNS:
        if column in out and scale != 1.0:
            out[column] = (out[column] * scale).round(10)
    if "volume" in out and m.get("volume_scale", 1.0) != 1.0:
        out["volume"] = (out["volume"] * m["volume_scale"]).round(10)

    if strict:
        return _coerce_pricing_frame(out)
    ordered = [c for c in SCHEMA_COLUMNS if c in out.columns]
    return out[ordered].reset_index(drop=True)


def map_columns(raw: pd.DataFrame, mapping: dict[str, Any], price_scale: float) -> pd.DataFrame:
    """Apply a mapping config to a raw frame and return it in the (full, strict) pricing schema."""
    return apply_mapping(raw, mapping, price_scale=price_scale, strict=True)


def load_mapped(
    path: str | os.PathLike, mapping: dict[str, Any], *, price_scale: float | None = None
) -> pd.DataFrame:
    """Read a CSV (optionally compressed) or Parquet file and map it with `mapping` (strict).

    `price_scale` overrides the mapping's own (default 1.0).
    """
    m = load_mapping(mapping)
    path = Path(path)
    if not path.is_file():
        raise RealDataNotFoundError(
            f"real data file {path} not found; set {ENV_VAR} to the folder that holds it"
        )
    raw = read_source(path, m)
    scale = m.get("price_scale", 1.0) if price_scale is None else price_scale
    return map_columns(raw, m, scale)


def load_single_station(
    *, price_scale: float | None = None, data_dir: str | os.PathLike | None = None
) -> pd.DataFrame:
    """The single-station file in the pricing schema ($/L unless `price_scale` says else)."""
    folder = Path(data_dir) if data_dir is not None else real_data_dir()
    return load_mapped(folder / SINGLE_STATION["file"], SINGLE_STATION, price_scale=price_scale)


# ---- helpers ------------------------------------------------------------------------------------


def _infer_format(path: str) -> str:
    name = path.lower()
    return "parquet" if name.endswith((".parquet", ".pq", ".parq")) else "csv"


def _parse_dates(col: pd.Series, fmt: str | None, src: str) -> pd.Series:
    if col.isna().any():
        raise DataSchemaError(
            f"date column {src!r} has {int(col.isna().sum())} empty value(s): every row needs "
            "a day to land in"
        )
    if ptypes.is_datetime64_any_dtype(col):
        parsed = col
    elif ptypes.is_string_dtype(col):
        parsed = pd.to_datetime(col.str.strip(), format=fmt or "ISO8601", errors="coerce")
    else:  # date objects (Parquet date32), integers...
        parsed = pd.to_datetime(col, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in col[bad].astype(str).unique()[:3])
        raise DataSchemaError(
            f"date column {src!r}: {int(bad.sum())} value(s) do not match the date format "
            f"{fmt or 'ISO 8601'}, e.g. {examples} (set 'date_format' in the mapping)"
        )
    if getattr(parsed.dt, "tz", None) is not None:  # keep the station's wall date
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize().astype("datetime64[ns]")


def _station_ids(col: pd.Series, src: str) -> pd.Series:
    if ptypes.is_float_dtype(col):
        whole = col.dropna()
        if (whole == np.floor(whole)).all():  # 1294.0 (a number column with gaps) -> "1294"
            col = col.astype("Int64")
    elif not (ptypes.is_string_dtype(col) or ptypes.is_integer_dtype(col)):
        raise DataSchemaError(f"station column {src!r}: expected text or integers, got {col.dtype}")
    ids = col.astype(str)
    return ids.str.strip().where(col.notna())


def _to_float(col: pd.Series, src: str, csv: Mapping[str, Any] | None = None) -> pd.Series:
    if ptypes.is_bool_dtype(col):
        raise DataSchemaError(f"column {src!r}: expected numbers, got booleans")
    if ptypes.is_numeric_dtype(col):
        return col.astype("float64")
    # text: one bad cell makes the CSV reader leave the whole column as text, so apply the
    # mapping's thousands and decimal marks here before judging which cells are not numbers
    text = col.astype(str).str.strip()
    csv = csv or {}
    if csv.get("thousands"):
        text = text.str.replace(str(csv["thousands"]), "", regex=False)
    if csv.get("decimal") and csv["decimal"] != ".":
        text = text.str.replace(str(csv["decimal"]), ".", regex=False)
    numbers = pd.to_numeric(text.where(col.notna()), errors="coerce")
    bad = numbers.isna() & col.notna()
    if bad.any():
        examples = ", ".join(repr(v) for v in col[bad].astype(str).unique()[:3])
        raise DataSchemaError(
            f"column {src!r}: {int(bad.sum())} value(s) are not numbers, e.g. {examples} "
            "(set 'csv' options such as decimal, thousands or na_values in the mapping)"
        )
    return numbers.astype("float64")


# One station by day, 2023-01-01..2024-12-30 (see shared/data/README.md), from
# mappings/single_station.json. Its prices (~96.5, cost ~86.5) read as cents per litre,
# hence the mapping's price_scale of 0.01 to $/L.
SINGLE_STATION: dict[str, Any] = load_mapping("single_station")
