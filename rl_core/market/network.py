"""A network of stations: one shared market, per-station demand level, cost and start price.

Calibration (`rl_core.market.calibration`) fits one price slope and yesterday-price effect
for all stations but an intercept per station (its demand level, the competitor effect
folded in). `Calibration.market` keeps only the intercepts' mean, so every station would
get the same price; a `StationNetwork` keeps what differs per station:

    base_demand        its demand level (litres/day at price 0, no move), see below
    unit_cost_offset   its mean cost above the network's daily mean cost ($/L), added to
                       the shared cost path
    initial_price      its price on the window's last day (yesterday on day 0), clipped to
                       the shared grid; the network's start price if it did not report

`markets()` gives one `Market` per station on ONE shared price grid and horizon (what
`VectorGasStation` and the batched optimum need).

Which demand level a station gets (`StationFeatures.source`):
    own      its own intercept: at least `min_rows` rows and a standard error of at most
             `max_level_se_steps` price-grid steps once turned into a choke price
             (se / price_slope): an error that small cannot move its optimal price level
    shrunk   empirical-Bayes shrinkage of its own intercept toward its cluster's level,
             weight tau^2 / (tau^2 + se^2) on its own estimate (tau^2: the spread of true
             levels within the cluster, from the reliable stations, method of moments)
    cluster  no own estimate (fewer than 2 rows): its cluster's level; the cluster is the
             one stated for it (`clusters=`) or, without one, the network's level is used
    network  no own estimate and no stated cluster: the network's level (the calibrated
             market's base_demand, the mean intercept)
Clusters group stations by demand level: quantile groups of the reliable stations' own
intercepts (`n_clusters`, fewer when there are too few reliable stations to fill them with
`MIN_CLUSTER_SIZE` each). A station with an unreliable estimate and no stated cluster
joins the cluster whose level is nearest its own estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rl_core.market.calibration import Calibration
from rl_core.market.model import Market, demand_level_feature

MIN_ROWS = 20  # fewer rows and a station's own intercept is shrunk, whatever its SE
MAX_LEVEL_SE_STEPS = 0.5  # max intercept SE, in price-grid steps of choke price, to trust
N_CLUSTERS = 3  # demand-level groups the shrinkage pulls toward
MIN_CLUSTER_SIZE = 3  # reliable stations per cluster needed to estimate its level and spread
MIN_BASE_FRACTION = 0.05  # a level is never set below this fraction of the network's
SOURCES = ("own", "shrunk", "cluster", "network")


@dataclass(frozen=True)
class StationFeatures:
    """One station's part of the network, and where its demand level came from."""

    station_id: str
    base_demand: float  # litres/day used in its market
    unit_cost_offset: float = 0.0  # $/L above the network's cost path
    initial_price: float | None = None  # yesterday's price on day 0; None: the network's
    source: str = "own"  # one of SOURCES (module docstring)
    cluster: int | None = None  # index into StationNetwork.cluster_levels
    n_rows: int = 0  # rows of its own in the calibration
    intercept: float = math.nan  # its own estimate (litres/day), NaN if none
    intercept_se: float = math.nan
    weight: float = 1.0  # weight of its own estimate in base_demand (1 own, 0 prior only)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        for k in ("intercept", "intercept_se"):
            d[k] = None if math.isnan(d[k]) else d[k]
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> StationFeatures:
        d = dict(d)
        for k in ("intercept", "intercept_se"):
            d[k] = math.nan if d.get(k) is None else d[k]
        return cls(**d)


@dataclass(frozen=True)
class StationNetwork:
    """The shared market plus each station's features; see the module docstring."""

    market: Market  # shared demand slope, move effects, noise, grid, horizon, cost path
    stations: tuple[StationFeatures, ...]
    cluster_levels: tuple[float, ...] = ()  # base_demand of each cluster, ascending
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        ids = [s.station_id for s in self.stations]
        if len(set(ids)) != len(ids):
            raise ValueError("station ids in a network must be unique")
        bad = [s.station_id for s in self.stations if s.source not in SOURCES]
        if bad:
            raise ValueError(f"unknown source for stations {bad[:5]}: use one of {SOURCES}")

    # ---- per-station markets -----------------------------------------------------------
    @property
    def station_ids(self) -> list[str]:
        return [s.station_id for s in self.stations]

    def __len__(self) -> int:
        return len(self.stations)

    def station(self, station_id: str) -> StationFeatures:
        for s in self.stations:
            if s.station_id == station_id:
                return s
        raise KeyError(f"station {station_id!r} is not in the network")

    def market_of(self, station: StationFeatures) -> Market:
        """The station's market: the shared one with its level, cost and start price."""
        m = self.market
        start = m.initial_price if station.initial_price is None else station.initial_price
        if start is not None:
            start = min(max(start, m.price_min), m.price_max)
        off = station.unit_cost_offset
        return m.replace(
            demand=m.demand.replace(base_demand=station.base_demand),
            unit_cost=max(m.unit_cost + off, 0.0),
            unit_costs=tuple(max(c + off, 0.0) for c in m.unit_costs),
            initial_price=start,
        )

    def markets(self) -> list[Market]:
        """One market per station (in `stations` order), all on the shared grid and horizon."""
        return [self.market_of(s) for s in self.stations]

    def levels(self) -> np.ndarray:
        """Each station's demand-level observation feature (`rl_core.envs.observation`)."""
        return np.array([demand_level_feature(m) for m in self.markets()])

    def new_station(
        self,
        station_id: str,
        cluster: int | None = None,
        unit_cost_offset: float = 0.0,
        initial_price: float | None = None,
    ) -> StationFeatures:
        """Features of a never-seen station: its stated cluster's level, else the network's."""
        if cluster is not None and not 0 <= cluster < len(self.cluster_levels):
            raise ValueError(f"cluster {cluster} is not one of 0..{len(self.cluster_levels) - 1}")
        known = cluster is not None
        return StationFeatures(
            station_id=station_id,
            base_demand=self.cluster_levels[cluster] if known else self.market.demand.base_demand,
            unit_cost_offset=unit_cost_offset,
            initial_price=initial_price,
            source="cluster" if known else "network",
            cluster=cluster,
            weight=0.0,
        )

    def sources(self) -> dict[str, str]:
        """Which demand level each station got (`SOURCES`)."""
        return {s.station_id: s.source for s in self.stations}

    def to_dict(self) -> dict:
        return {
            "market": self.market.to_dict(),
            "stations": [s.to_dict() for s in self.stations],
            "cluster_levels": list(self.cluster_levels),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> StationNetwork:
        return cls(
            market=Market.from_dict(d["market"]),
            stations=tuple(StationFeatures.from_dict(s) for s in d["stations"]),
            cluster_levels=tuple(d.get("cluster_levels", ())),
            notes=tuple(d.get("notes", ())),
        )

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def from_levels(
        cls,
        market: Market,
        base_demands: Mapping[str, float],
        unit_cost_offsets: Mapping[str, float] | None = None,
    ) -> StationNetwork:
        """A network of known levels (a synthetic truth, or levels decided elsewhere)."""
        offsets = unit_cost_offsets or {}
        return cls(
            market=market,
            stations=tuple(
                StationFeatures(sid, float(b), float(offsets.get(sid, 0.0)))
                for sid, b in base_demands.items()
            ),
        )

    @classmethod
    def from_calibration(
        cls,
        calibration: Calibration,
        *,
        clusters: Mapping[str, int] | None = None,
        min_rows: int = MIN_ROWS,
        max_level_se_steps: float = MAX_LEVEL_SE_STEPS,
        n_clusters: int = N_CLUSTERS,
    ) -> StationNetwork:
        """Per-station features from a calibration, with the fallbacks of the module docstring.

        `clusters` optionally states a station's demand-level cluster (0 lowest); it is used
        only for stations without an own estimate.
        """
        if not calibration.station_fits:
            raise ValueError("the calibration holds no per-station fits (calibrate() again)")
        market = calibration.market
        ids = list(calibration.station_fits)
        fits = [calibration.station_fits[s] for s in ids]
        est = np.array([f.intercept for f in fits])
        se = np.array([f.intercept_se for f in fits])
        rows = np.array([f.n_rows for f in fits])
        has_own = np.isfinite(est) & np.isfinite(se)
        step = (market.price_max - market.price_min) / (market.n_prices - 1)
        level_se = se / market.demand.price_slope  # $/L of choke price
        reliable = has_own & (rows >= min_rows) & (level_se <= max_level_se_steps * step)
        network_level = market.demand.base_demand
        edges, levels, tau2 = _clusters(est[reliable], se[reliable], n_clusters)
        notes = []
        if len(levels) < n_clusters:
            notes.append(
                f"{int(reliable.sum())} reliable station(s): {len(levels)} cluster(s) "
                f"instead of {n_clusters}"
            )

        stations = []
        for i, sid in enumerate(ids):
            f = fits[i]
            stated = None if clusters is None else clusters.get(sid)
            if stated is not None and not 0 <= stated < max(len(levels), 1):
                raise ValueError(
                    f"station {sid}: cluster {stated} is not one of 0..{len(levels) - 1}"
                )
            if reliable[i]:
                cluster, source, weight, base = _bin(edges, est[i]), "own", 1.0, est[i]
            elif has_own[i] and levels:
                cluster = stated if stated is not None else _nearest(levels, est[i])
                t2 = tau2[cluster]
                weight = t2 / (t2 + se[i] ** 2) if t2 + se[i] ** 2 > 0 else 0.0
                base = weight * est[i] + (1 - weight) * levels[cluster]
                source = "shrunk"
            elif stated is not None and levels:
                cluster, source, weight, base = stated, "cluster", 0.0, levels[stated]
            else:
                cluster, source, weight, base = None, "network", 0.0, network_level
            stations.append(
                StationFeatures(
                    station_id=sid,
                    base_demand=float(max(base, MIN_BASE_FRACTION * network_level)),
                    unit_cost_offset=f.unit_cost_offset,
                    initial_price=f.last_price,
                    source=source,
                    cluster=cluster,
                    n_rows=f.n_rows,
                    intercept=f.intercept,
                    intercept_se=f.intercept_se,
                    weight=float(weight),
                )
            )
        return cls(market, tuple(stations), tuple(float(x) for x in levels), tuple(notes))


def _clusters(
    est: np.ndarray, se: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, list[float], list[float]]:
    """(inner quantile edges, level per cluster, tau^2 per cluster) from reliable estimates."""
    if len(est) == 0:
        return np.array([]), [], []
    k = max(1, min(n_clusters, len(est) // MIN_CLUSTER_SIZE))
    edges = np.quantile(est, np.linspace(0, 1, k + 1)[1:-1]) if k > 1 else np.array([])
    member = np.searchsorted(edges, est, side="right")
    levels, spreads = [], []
    for c in range(k):
        e, s = est[member == c], se[member == c]
        levels.append(float(e.mean()))
        # method of moments: observed spread = true spread + estimation noise
        spreads.append(float(max(e.var(ddof=1) - np.mean(s**2), 0.0)) if len(e) > 1 else 0.0)
    return edges, levels, spreads


def _bin(edges: np.ndarray, x: float) -> int:
    return int(np.searchsorted(edges, x, side="right"))


def _nearest(levels: Sequence[float], x: float) -> int:
    return int(np.argmin(np.abs(np.asarray(levels) - x)))
