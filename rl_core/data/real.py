"""Map real (public) pricing files into the pricing schema with a column-mapping config.

A mapping is data, not code: for each schema column, the source column it comes from, a
list of source columns to average (e.g. several competitors), or a constant. Money columns
(`price`, `unit_cost`, `competitor_price`) are multiplied by `price_scale` to reach $/L.

The shared files live in $FORECOURT_REAL_DATA_DIR, else `<repo>/../shared/data/real`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from rl_core.data.schema import coerce_pricing_frame
from rl_core.errors import DataSchemaError, ForecourtError

ENV_VAR = "FORECOURT_REAL_DATA_DIR"
MONEY_COLUMNS = ("price", "unit_cost", "competitor_price")

# One station by day, 2023-01-01..2024-12-30 (see shared/data/README.md). Its prices
# (~96.5, cost ~86.5) read as cents per litre, hence the default scale of 0.01 to $/L.
SINGLE_STATION: dict[str, Any] = {
    "file": "single_station_price_volume_2023_2024.csv",
    "columns": {
        "date": "date",
        "price": "price",
        "volume": "volume",
        "unit_cost": "cost",
        "competitor_price": ["comp1_price", "comp2_price", "comp3_price"],
    },
    "constants": {"station_id": "single-station"},
    "price_scale": 0.01,
}


class RealDataNotFoundError(ForecourtError, FileNotFoundError):
    """A real data file that is not where the configuration says it is."""


def real_data_dir() -> Path:
    """$FORECOURT_REAL_DATA_DIR, else the shared folder beside the repository."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "real"


def map_columns(raw: pd.DataFrame, mapping: dict[str, Any], price_scale: float) -> pd.DataFrame:
    """Apply a mapping config to a raw frame and return it in the pricing schema."""
    wanted = [c for src in mapping["columns"].values() for c in _as_list(src)]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise DataSchemaError(
            f"source data lacks column(s) {', '.join(missing)} named by the mapping; "
            f"it has {', '.join(map(str, raw.columns))}"
        )
    out = pd.DataFrame(index=raw.index)
    for target, src in mapping["columns"].items():
        out[target] = raw[src].mean(axis=1) if isinstance(src, list) else raw[src]
    for target, value in mapping.get("constants", {}).items():
        out[target] = value
    for column in MONEY_COLUMNS:
        if column in out:
            out[column] = out[column] * price_scale
    return coerce_pricing_frame(out)


def load_mapped(
    path: str | os.PathLike, mapping: dict[str, Any], *, price_scale: float | None = None
) -> pd.DataFrame:
    """Read a CSV (optionally compressed) or Parquet file and map it with `mapping`.

    `price_scale` overrides the mapping's own (default 1.0).
    """
    path = Path(path)
    if not path.is_file():
        raise RealDataNotFoundError(
            f"real data file {path} not found; set {ENV_VAR} to the folder that holds it"
        )
    raw = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    scale = mapping.get("price_scale", 1.0) if price_scale is None else price_scale
    return map_columns(raw, mapping, scale)


def load_single_station(
    *, price_scale: float | None = None, data_dir: str | os.PathLike | None = None
) -> pd.DataFrame:
    """The single-station file in the pricing schema ($/L unless `price_scale` says else)."""
    folder = Path(data_dir) if data_dir is not None else real_data_dir()
    return load_mapped(folder / SINGLE_STATION["file"], SINGLE_STATION, price_scale=price_scale)


def _as_list(src: str | list[str]) -> list[str]:
    return src if isinstance(src, list) else [src]
