"""The daily pricing schema: one row per station and day.

| column             | type            | meaning                                   |
| ------------------ | --------------- | ----------------------------------------- |
| `date`             | datetime64 day  | the trading day                           |
| `station_id`       | str             | the station                               |
| `price`            | float, $/L      | the pump price charged that day           |
| `volume`           | float, litres   | litres sold that day                      |
| `unit_cost`        | float, $/L      | wholesale cost of a litre that day        |
| `competitor_price` | float, $/L      | optional: a nearby competitor's price     |

`coerce_pricing_frame` is a schema check (names, types, the (date, station_id) key), not a
data-quality check: value ranges and outliers belong to the validation stage.
"""

from __future__ import annotations

import pandas as pd
from pandas.api import types as ptypes

from rl_core.errors import DataSchemaError

KEY_COLUMNS = ("date", "station_id")
FLOAT_COLUMNS = ("price", "volume", "unit_cost")
REQUIRED_COLUMNS = (*KEY_COLUMNS, *FLOAT_COLUMNS)
OPTIONAL_COLUMNS = ("competitor_price",)
DATE_DTYPE = "datetime64[ns]"


def coerce_pricing_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return `df` reduced to the schema's columns, in order, with the schema's dtypes.

    Numbers of any numeric dtype become float64, dates (datetime64, `date` objects or ISO
    strings) become midnight timestamps, station ids become strings. Extra columns are
    dropped. Raises DataSchemaError naming every missing or badly typed column at once, so
    one run shows the whole fix.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataSchemaError(
            f"pricing data is missing required column(s) {', '.join(missing)}; "
            f"expected {', '.join(REQUIRED_COLUMNS)} (+ optional {', '.join(OPTIONAL_COLUMNS)}),"
            f" got {', '.join(map(str, df.columns)) or 'no columns'}"
        )
    columns = [*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in df.columns)]
    out: dict[str, pd.Series] = {}
    problems: list[str] = []

    try:
        dates = pd.to_datetime(df["date"], format="ISO8601")
        if dates.dt.tz is not None:  # a station trades in local days: keep the wall date
            dates = dates.dt.tz_localize(None)
        out["date"] = dates.dt.normalize().astype(DATE_DTYPE)
        if out["date"].isna().any():
            problems.append("date: has missing values")
    except (ValueError, TypeError) as exc:
        problems.append(f"date: not parseable as dates ({exc})")

    ids = df["station_id"]
    if ids.isna().any():
        problems.append("station_id: has missing values")
    elif not (ptypes.is_string_dtype(ids) or ptypes.is_integer_dtype(ids)):
        problems.append(f"station_id: expected strings, got {ids.dtype}")
    else:
        out["station_id"] = ids.astype(str)

    for name in (c for c in columns if c not in KEY_COLUMNS):
        col = df[name]
        # bool is numeric to pandas but never a price or a volume
        if ptypes.is_numeric_dtype(col) and not ptypes.is_bool_dtype(col):
            out[name] = col.astype("float64")
        elif col.isna().all() and name in OPTIONAL_COLUMNS:
            out[name] = pd.Series(float("nan"), index=df.index)
        else:
            problems.append(f"{name}: expected numbers, got {col.dtype}")

    if problems:
        raise DataSchemaError("pricing data has bad column(s): " + "; ".join(problems))

    frame = pd.DataFrame(out, columns=columns).reset_index(drop=True)
    dupes = frame.duplicated(list(KEY_COLUMNS))
    if dupes.any():
        first = frame.loc[dupes].iloc[0]
        raise DataSchemaError(
            f"pricing data has {int(dupes.sum())} duplicate (date, station_id) row(s), e.g. "
            f"{first['date']:%Y-%m-%d} / {first['station_id']}: one row per station and day"
        )
    return frame
