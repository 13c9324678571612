"""Column mappings: how a real CSV or Parquet file maps onto the pricing schema.

A mapping is configuration, not code: one JSON file per source. Forecourt ships
`single_station.json` and `nsw_fuelcheck.json` in `rl_core/data/mappings/`; a user passes
the path of their own file for their own CSV or Parquet. The keys:

| key           | meaning                                                                 |
| ------------- | ----------------------------------------------------------------------- |
| `columns`     | schema column -> source column, or (numbers only) a list of source      |
|               | columns to average, e.g. three competitors                              |
| `constants`   | schema column -> a value for every row (e.g. one station's id)           |
| `price_scale` | factor taking money columns (price, unit_cost, competitor_price) to $/L |
|               | (0.01 for cents per litre; default 1)                                    |
| `volume_scale`| factor taking volume to litres (default 1)                               |
| `date_format` | strptime format of the date column (default ISO 8601)                    |
| `filters`     | source column -> a value or a list of values: keep only matching rows    |
| `fuel`        | `{"column", "default", "values", "wholesale"}`: the source has several  |
|               | fuels in one column; one is chosen per ingest (`wholesale`: the fuels   |
|               | for which the Sydney unleaded wholesale price is a fair unit cost)      |
| `format`      | `csv` or `parquet` (default: from the file name)                         |
| `csv`         | pandas read_csv options: sep, encoding, decimal, thousands, na_values,   |
|               | skiprows, comment                                                        |
| `file`        | the source's file name in the real-data folder (shipped mappings)        |
| `stations`    | `{"file", "key"}`: a companion station table (postcode, suburb...)       |
| `name`, `description`, `source`, `licence`: free text                                     |

`date`, `station_id` and `price` must be mapped (a column or a constant); `volume`,
`unit_cost` and `competitor_price` may be absent (NSW FuelCheck has prices only).
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from rl_core.data.schema import KEY_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from rl_core.errors import DataSchemaError

SCHEMA_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
MAPPED_REQUIRED = ("date", "station_id", "price")
MAPPINGS_PACKAGE = "rl_core.data.mappings"

MAPPING_KEYS = (
    "name",
    "description",
    "source",
    "licence",
    "file",
    "format",
    "csv",
    "date_format",
    "columns",
    "constants",
    "price_scale",
    "volume_scale",
    "filters",
    "fuel",
    "stations",
)
CSV_OPTION_KEYS = ("sep", "encoding", "decimal", "thousands", "na_values", "skiprows", "comment")
FUEL_KEYS = ("column", "default", "values", "wholesale")
STATIONS_KEYS = ("file", "key")
FORMATS = ("csv", "parquet")
_TEXT_KEYS = ("name", "description", "source", "licence", "file", "date_format")
_SCALAR = (str, int, float, bool)


class MappingError(DataSchemaError):
    """A column mapping that is malformed, or that does not fit the file it is applied to."""


# ---- loading and checking mappings ----------------------------------------------------


def available_mappings() -> list[str]:
    """Names of the mappings shipped with Forecourt (usable as `--mapping NAME`)."""
    folder = resources.files(MAPPINGS_PACKAGE)
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def load_mapping(mapping: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """A validated mapping from a shipped name, the path of a JSON file, or a dict.

    A string that names an existing file or ends in `.json` is a path; otherwise it is the
    name of a shipped mapping (see `available_mappings`).
    """
    if isinstance(mapping, Mapping):
        return validate_mapping(mapping)
    text = os.fspath(mapping)
    path = Path(text)
    if path.suffix.lower() == ".json" or path.is_file() or os.sep in text:
        if not path.is_file():
            raise MappingError(f"mapping file {path} not found")
        origin = str(path)
        raw_text = path.read_text(encoding="utf-8")
        default_name = path.stem
    else:
        resource = resources.files(MAPPINGS_PACKAGE).joinpath(f"{text}.json")
        if not resource.is_file():
            raise MappingError(
                f"unknown mapping '{text}': shipped mappings are "
                f"{', '.join(available_mappings())}; or pass the path of a .json mapping file"
            )
        origin = f"mapping '{text}'"
        raw_text = resource.read_text(encoding="utf-8")
        default_name = text
    try:
        data = json.loads(raw_text)
    except json.JSONDecodeError as exc:
        raise MappingError(
            f"{origin} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if isinstance(data, dict):
        data.setdefault("name", default_name)
    return validate_mapping(data, origin=origin)


def validate_mapping(mapping: Any, *, origin: str | None = None) -> dict[str, Any]:
    """Check a mapping's structure; return a deep copy. Raises MappingError listing every
    problem at once (unknown keys with a suggestion, unknown schema columns, bad types)."""
    if not isinstance(mapping, Mapping):
        raise MappingError(f"{origin or 'mapping'}: expected a JSON object, got {_kind(mapping)}")
    m = copy.deepcopy(dict(mapping))
    origin = origin or f"mapping '{m.get('name', '?')}'"
    problems: list[str] = []

    unknown = [k for k in m if k not in MAPPING_KEYS]
    if unknown:
        problems.append(_unknown("key", unknown, MAPPING_KEYS))

    for key in _TEXT_KEYS:
        if key in m and not isinstance(m[key], str):
            problems.append(f"'{key}' must be a string, got {_kind(m[key])}")

    columns = m.get("columns", {})
    constants = m.get("constants", {})
    if not isinstance(columns, Mapping):
        problems.append(f"'columns' must be an object (column -> source), got {_kind(columns)}")
        columns = {}
    if not isinstance(constants, Mapping):
        problems.append(f"'constants' must be an object (column -> value), got {_kind(constants)}")
        constants = {}
    for where, targets in (("columns", columns), ("constants", constants)):
        bad = [t for t in targets if t not in SCHEMA_COLUMNS]
        if bad:
            problems.append(f"'{where}': " + _unknown("schema column", bad, SCHEMA_COLUMNS))
    for target, src in columns.items():
        if isinstance(src, str) and src:
            continue
        if isinstance(src, list) and src and all(isinstance(s, str) and s for s in src):
            if target in KEY_COLUMNS:
                problems.append(f"'columns.{target}' must name one source column, not a list")
            continue
        problems.append(
            f"'columns.{target}' must be a source column name or a non-empty list of them, "
            f"got {src!r}"
        )
    for target, value in constants.items():
        if not isinstance(value, _SCALAR) or value is None:
            problems.append(f"'constants.{target}' must be a string or a number, got {value!r}")
    both = sorted(set(columns) & set(constants))
    if both:
        problems.append(f"{', '.join(both)} given both in 'columns' and in 'constants'")
    absent = [c for c in MAPPED_REQUIRED if c not in columns and c not in constants]
    if absent:
        problems.append(
            f"no source for required schema column(s) {', '.join(absent)}: "
            "map each in 'columns' (or give it in 'constants')"
        )

    for key in ("price_scale", "volume_scale"):
        if key in m:
            v = m[key]
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or v <= 0:
                problems.append(f"'{key}' must be a positive number, got {v!r}")

    if "format" in m and m["format"] not in FORMATS:
        problems.append(f"'format' must be one of {', '.join(FORMATS)}, got {m['format']!r}")

    if "csv" in m:
        if not isinstance(m["csv"], Mapping):
            problems.append(f"'csv' must be an object of read options, got {_kind(m['csv'])}")
        else:
            bad = [k for k in m["csv"] if k not in CSV_OPTION_KEYS]
            if bad:
                problems.append("'csv': " + _unknown("option", bad, CSV_OPTION_KEYS))

    if "filters" in m:
        filters = m["filters"]
        if not isinstance(filters, Mapping):
            problems.append(f"'filters' must be an object (column -> values), got {_kind(filters)}")
        else:
            for col, values in filters.items():
                vals = values if isinstance(values, list) else [values]
                if not vals or not all(isinstance(v, _SCALAR) for v in vals):
                    problems.append(
                        f"'filters.{col}' must be a value or a non-empty list of values, "
                        f"got {values!r}"
                    )

    if "fuel" in m:
        fuel = m["fuel"]
        if not isinstance(fuel, Mapping):
            problems.append(f"'fuel' must be an object, got {_kind(fuel)}")
        else:
            bad = [k for k in fuel if k not in FUEL_KEYS]
            if bad:
                problems.append("'fuel': " + _unknown("key", bad, FUEL_KEYS))
            if not isinstance(fuel.get("column"), str) or not fuel.get("column"):
                problems.append("'fuel.column' must name the source column holding the fuel code")
            if "default" in fuel and not isinstance(fuel["default"], str):
                problems.append(f"'fuel.default' must be a string, got {fuel['default']!r}")
            for key in ("values", "wholesale"):
                if key in fuel and not (
                    isinstance(fuel[key], list) and all(isinstance(v, str) for v in fuel[key])
                ):
                    problems.append(f"'fuel.{key}' must be a list of fuel codes, got {fuel[key]!r}")
            values = fuel.get("values")
            default = fuel.get("default")
            if isinstance(values, list) and isinstance(default, str) and default not in values:
                problems.append(f"'fuel.default' {default!r} is not one of 'fuel.values'")

    if "stations" in m:
        st = m["stations"]
        if not isinstance(st, Mapping):
            problems.append(f"'stations' must be an object, got {_kind(st)}")
        else:
            bad = [k for k in st if k not in STATIONS_KEYS]
            if bad:
                problems.append("'stations': " + _unknown("key", bad, STATIONS_KEYS))
            for key in STATIONS_KEYS:
                if not isinstance(st.get(key), str) or not st.get(key):
                    problems.append(f"'stations.{key}' must be a non-empty string")

    if problems:
        raise MappingError(f"{origin} is not a valid mapping: " + "; ".join(problems))
    return m


def source_columns(mapping: Mapping[str, Any]) -> list[str]:
    """The source columns a mapping reads (mapped columns, fuel column, filter columns)."""
    wanted: list[str] = []
    for src in mapping.get("columns", {}).values():
        wanted.extend(as_list(src))
    if "fuel" in mapping:
        wanted.append(mapping["fuel"]["column"])
    wanted.extend(mapping.get("filters", {}))
    return list(dict.fromkeys(wanted))


def check_source_columns(
    available: list[str] | pd.Index, mapping: Mapping[str, Any], *, source: str = "source data"
) -> None:
    """MappingError naming every source column the mapping needs and the file lacks."""
    have = [str(c) for c in available]
    missing = [c for c in source_columns(mapping) if c not in have]
    if not missing:
        return
    hint = ""
    if len(have) == 1 and any(sep in have[0] for sep in (";", "\t", "|")):
        hint = " (one column only: wrong delimiter? set 'csv': {\"sep\": ...} in the mapping)"
    raise MappingError(
        f"{source} lacks column(s) {', '.join(repr(c) for c in missing)} named by mapping "
        f"'{mapping.get('name', '?')}'; it has {', '.join(repr(c) for c in have) or 'no columns'}"
        + hint
    )


def resolve_fuel(mapping: Mapping[str, Any], fuel: str | None) -> str | None:
    """The fuel to keep: `fuel`, else the mapping's default; None for single-fuel sources."""
    spec = mapping.get("fuel")
    if spec is None:
        if fuel is not None:
            raise MappingError(
                f"mapping '{mapping.get('name', '?')}' has no fuel column, so fuel={fuel!r} "
                "cannot be applied: drop it, or add a 'fuel' section to the mapping"
            )
        return None
    chosen = fuel if fuel is not None else spec.get("default")
    if chosen is None:
        raise MappingError(
            f"mapping '{mapping.get('name', '?')}' holds several fuels in column "
            f"'{spec['column']}' and has no 'fuel.default': choose one"
        )
    values = spec.get("values")
    if values is not None and chosen not in values:
        raise MappingError(
            f"fuel {chosen!r} is not one of {', '.join(values)} "
            f"(mapping '{mapping.get('name', '?')}', column '{spec['column']}')"
        )
    return chosen


def _unknown(what: str, bad: list[str], allowed: tuple[str, ...]) -> str:
    parts = []
    for b in bad:
        close = difflib.get_close_matches(str(b), allowed, n=1)
        parts.append(f"{b!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"unknown {what}(s) {', '.join(parts)}; allowed: {', '.join(allowed)}"


def _kind(value: Any) -> str:
    return type(value).__name__


def as_list(src: Any) -> list[Any]:
    return src if isinstance(src, list) else [src]
