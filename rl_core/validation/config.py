"""What counts as a valid day of pricing data: every threshold of the validation stage.

One frozen dataclass, so a run's configuration can be written into its report and read back
(`to_dict` / `from_dict` / `from_json`). The defaults fit the daily pricing schema in $/L and
litres; `ValidationConfig.price_only()` fits price-only sources such as NSW FuelCheck, which
publish no volumes and no wholesale cost.

Why the drift defaults are what they are (measured on 87 days of real NSW U91 prices, each
against its trailing 28 days): the price distribution of a real market moves a lot from week
to week (the Sydney price cycle moves every station by 20+ cents), so PSI ranged 0.11..5.2
and the two-sample KS statistic 0.09..0.72. Drift is therefore a warning by default (PSI >
0.25 or KS > 0.30, with the figures), and the hard limit is KS > 0.90: the day's values
barely overlap anything of the last weeks, which is what a unit error (cents for dollars,
gallons for litres) or another market's feed looks like. PSI has no hard limit by default
(it saturates at a value that depends on the bins), but one can be set. `unit_cost` is not
drift-checked by default: it is one wholesale price for a region that moves as a whole, so
its distribution is a point mass that jumps; its band is what checks it.

The economic defaults: on synthetic days 3-13% of stations price below cost, and none on
the real single-station file, so "more than half below cost" is a unit or column error, not
a price war. A day's median volume moves by well under 2x from one day to the next (6,100
to 7,000 L on synthetic days); 10x either way is a unit error (kilolitres, millilitres) or
another column, while gallons (3.8x) are left to the volume drift check. Without a window,
a median station day outside 50..100,000 L is implausible (a typical one sells 5-15 kL).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from rl_core.validation.errors import InvalidValidationConfigError

KEY_COLUMNS = ("date", "station_id")
MONEY_COLUMNS = ("price", "unit_cost", "competitor_price")
DRIFTABLE_COLUMNS = ("price", "volume", "unit_cost", "competitor_price")


@dataclass(frozen=True)
class ValidationConfig:
    """Thresholds of the validation stage (money in $/L, volumes in litres)."""

    # plausible bands: a value outside fails the day
    price_min: float = 0.50
    price_max: float = 5.00
    unit_cost_min: float = 0.20
    unit_cost_max: float = 4.00
    competitor_price_min: float = 0.50
    competitor_price_max: float = 5.00
    volume_max: float = 1_000_000.0  # litres a station sells in a day; 0 is allowed

    # station ids: canonical form (trimmed, upper case) of at most this many characters
    station_id_max_length: int = 64

    # economic plausibility of the whole day (see economics.py)
    max_below_cost_share: float = 0.50  # fail when more of the rows have price < unit_cost
    volume_scale_max_ratio: float = 10.0  # day's median volume vs the window's, either way
    volume_median_min: float = 50.0  # litres: the day's median without a window to compare
    volume_median_max: float = 100_000.0  # litres: the same, upper bound

    # which of the optional-in-the-wild columns a day must carry
    require_volume: bool = True
    require_unit_cost: bool = True

    # station count vs the trailing norm
    trailing_days: int = 28
    max_station_shortfall: float = 0.20  # fail when today has < (1 - this) x the norm
    max_missing_listed: int = 50  # station ids listed in the summary (all are in the JSON)

    # drift of today's distribution vs the trailing window
    drift_columns: tuple[str, ...] = ("price", "volume")
    drift_psi_warn: float = 0.25
    drift_ks_warn: float = 0.30
    drift_psi_fail: float | None = None
    drift_ks_fail: float | None = 0.90
    drift_bins: int = 10  # PSI bins: quantiles of the reference
    drift_min_rows: int = 50  # fewer rows today (or in the window): drift is not measured
    drift_sketch_size: int = 2_000  # values kept per reference day (evenly spaced quantiles)

    # how a delivered CSV is read
    encoding: str = "utf-8"
    delimiter: str = ","

    # reports
    example_rows: int = 5  # example rows per failed expectation in the summary
    data_docs: bool = True  # render GX Data Docs HTML next to the report

    def __post_init__(self) -> None:
        problems = []
        for name in ("price", "unit_cost", "competitor_price"):
            lo, hi = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            if not 0 <= lo < hi:
                problems.append(f"{name} band {lo}..{hi} must satisfy 0 <= min < max")
        if self.volume_max <= 0:
            problems.append(f"volume_max={self.volume_max} must be positive")
        if not 1 <= self.station_id_max_length <= 255:
            problems.append(f"station_id_max_length={self.station_id_max_length} must be in 1..255")
        if not 0 < self.max_below_cost_share <= 1:
            problems.append(f"max_below_cost_share={self.max_below_cost_share} must be in (0, 1]")
        if not self.volume_scale_max_ratio > 1:
            problems.append(f"volume_scale_max_ratio={self.volume_scale_max_ratio} must be > 1")
        if not 0 <= self.volume_median_min < self.volume_median_max:
            problems.append(
                f"volume median band {self.volume_median_min}..{self.volume_median_max} "
                "must satisfy 0 <= min < max"
            )
        if self.trailing_days < 1:
            problems.append(f"trailing_days={self.trailing_days} must be >= 1")
        if not 0 <= self.max_station_shortfall < 1:
            problems.append(f"max_station_shortfall={self.max_station_shortfall} must be in [0, 1)")
        unknown = [c for c in self.drift_columns if c not in DRIFTABLE_COLUMNS]
        if unknown:
            problems.append(
                f"drift_columns {unknown} unknown; choose from {', '.join(DRIFTABLE_COLUMNS)}"
            )
        for warn, fail in (
            ("drift_psi_warn", "drift_psi_fail"),
            ("drift_ks_warn", "drift_ks_fail"),
        ):
            w, f = getattr(self, warn), getattr(self, fail)
            if w < 0 or (f is not None and f < w):
                problems.append(f"{warn}={w} and {fail}={f}: need 0 <= warn <= fail")
        if self.drift_ks_fail is not None and self.drift_ks_fail > 1:
            problems.append(f"drift_ks_fail={self.drift_ks_fail}: KS is at most 1")
        if self.drift_bins < 2 or self.drift_min_rows < 1 or self.drift_sketch_size < 10:
            problems.append("drift_bins >= 2, drift_min_rows >= 1, drift_sketch_size >= 10")
        if len(self.delimiter) != 1:
            problems.append(f"delimiter={self.delimiter!r} must be one character")
        try:
            "".encode(self.encoding)
        except LookupError:
            problems.append(f"encoding={self.encoding!r} is not a known codec")
        if problems:
            raise InvalidValidationConfigError("invalid validation config: " + "; ".join(problems))

    @classmethod
    def price_only(cls, **overrides: Any) -> ValidationConfig:
        """For sources without volumes or wholesale cost (e.g. NSW FuelCheck)."""
        base = {"require_volume": False, "require_unit_cost": False}
        return cls(**{**base, **overrides})

    @property
    def required_columns(self) -> tuple[str, ...]:
        cols = [*KEY_COLUMNS, "price"]
        if self.require_volume:
            cols.append("volume")
        if self.require_unit_cost:
            cols.append("unit_cost")
        return tuple(cols)

    def band(self, column: str) -> tuple[float, float]:
        if column == "volume":
            return 0.0, self.volume_max
        return getattr(self, f"{column}_min"), getattr(self, f"{column}_max")

    def replace(self, **changes: Any) -> ValidationConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["drift_columns"] = list(self.drift_columns)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidValidationConfigError(
                f"unknown validation config key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        data = dict(data)
        if "drift_columns" in data:
            data["drift_columns"] = tuple(data["drift_columns"])
        try:
            return cls(**data)
        except TypeError as exc:
            raise InvalidValidationConfigError(f"invalid validation config: {exc}") from None

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> ValidationConfig:
        """Read a JSON object of config keys (unknown keys are an error, not ignored)."""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as exc:
            msg = f"cannot read validation config {path}: {exc}"
            raise InvalidValidationConfigError(msg) from None
        except json.JSONDecodeError as exc:
            msg = f"validation config {path} is not JSON: {exc}"
            raise InvalidValidationConfigError(msg) from None
        if not isinstance(data, dict):
            raise InvalidValidationConfigError(f"validation config {path} must be a JSON object")
        return cls.from_dict(data)
