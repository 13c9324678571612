"""The real data sources a study can run, and how each one goes through the loop.

A source names the shipped mapping (`rl_core/data/mappings/`), what ingestion joins to it,
which validation configuration judges its days, and which calibration its columns allow:
`volume` (the OLS fit of `rl_core.market.calibration`, it needs litres sold) or
`price-only` (`rl_core.market.price_only`: levels inferred from margins under stated
assumptions, for feeds without volumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rl_core.validation import ValidationConfig


@dataclass(frozen=True)
class StudySource:
    name: str
    title: str
    mapping: str
    calibration: str  # "volume" | "price-only"
    fuel: str | None = None
    wholesale: bool = False  # join the Sydney terminal gate price as unit_cost
    competitors_by: str | None = None  # "postcode": the median price of the area's others
    validation: dict = field(default_factory=dict)  # ValidationConfig overrides

    def validation_config(self) -> ValidationConfig:
        return ValidationConfig(**self.validation)


SOURCES: dict[str, StudySource] = {
    s.name: s
    for s in (
        StudySource(
            name="single-station",
            title="One station's daily price, cost, competitors and volume (2023-2024)",
            mapping="single_station",
            calibration="volume",
        ),
        StudySource(
            name="nsw",
            title="NSW FuelCheck U91 prices of every station, Sydney wholesale cost (2026)",
            mapping="nsw_fuelcheck",
            calibration="price-only",
            fuel="U91",
            wholesale=True,
            competitors_by="postcode",
            # no volumes in the feed; the wholesale cost is joined, so it is required. The
            # terminal gate price is a list price that retail follows days later: in the
            # wholesale spikes of 2026-05-01..05 and 08-03, 55-68% of stations sat below it
            # (a unit error puts ~100% there), so the below-cost share may reach 0.75
            validation={
                "require_volume": False,
                "require_unit_cost": True,
                "max_below_cost_share": 0.75,
            },
        ),
    )
}


def source(name: str) -> StudySource:
    from rl_core.errors import ForecourtError

    if name not in SOURCES:
        raise ForecourtError(f"unknown study source {name!r}: choose one of {', '.join(SOURCES)}")
    return SOURCES[name]
