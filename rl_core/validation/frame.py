"""Turn a delivered table into the frame the expectation suite runs on.

Only representation changes happen here, never value fixes: the `date` column becomes
midnight timestamps (values that do not parse become NaT, which the suite's "date present
and parseable" expectation then counts), and pandas' string columns become `object` columns,
because GX 1.24's type expectations do not recognise pandas 3's `str` dtype (they then check
each value's Python type instead). A price delivered as text stays text, for the suite to fail.

The one value change is deliberate: station ids take their canonical form (ids.py: trimmed,
upper case), so uniqueness, station counts and the store all see the same ids, and `" s1"`
and `"S1"` on one day are a duplicate. Reports still show the ids as delivered.
"""

from __future__ import annotations

import pandas as pd
from pandas.api import types as ptypes

from rl_core.validation.ids import canonical_station_ids

DATE_DTYPE = "datetime64[ns]"


def parse_dates(column: pd.Series) -> pd.Series:
    """Midnight timestamps of a date column (NaT where a value is not an ISO date).

    Time-zone aware values keep their wall date (a station trades in local days).
    """
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_localize(None)
    elif not ptypes.is_datetime64_dtype(column):
        try:
            column = pd.to_datetime(column, format="ISO8601", errors="coerce")
        except (ValueError, TypeError):  # mixed time zones: the wall date is the first 10 chars
            text = column.astype("object").where(column.notna(), None).astype(str).str[:10]
            column = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_localize(None)
    return column.dt.normalize().astype(DATE_DTYPE)


def prepare_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """The frame GX validates: same rows and columns as `raw` (index reset), canonical
    station ids; see the module doc."""
    frame = raw.reset_index(drop=True).copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    for name in frame.columns:
        col = frame[name]
        if name == "date":
            frame[name] = parse_dates(col)
        elif isinstance(col.dtype, pd.StringDtype):
            frame[name] = col.astype("object").where(col.notna(), None)
    if "station_id" in frame.columns:
        frame["station_id"] = canonical_station_ids(frame["station_id"])
    return frame
