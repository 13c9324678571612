"""Run a real data source through the daily loop: ingest -> validate -> calibrate -> train.

    result = run_study("nsw", out="var/studies/nsw")
    result.report        # report.md: fit quality, fallbacks, per-station prices, plots

The same library calls as the daily run, on a whole real history at once:
ingestion maps the source into one landing file per day (`rl_core.data.ingest`), the
validation stage accepts each day into the study's own store or quarantines it
(`rl_core.validation.validate_backfill`), calibration fits the accepted window (by volume,
or from margins under stated assumptions for a price-only feed), `StationNetwork` gives
every station its demand level with the documented fallbacks, one agent per objective is
trained over the pool of station markets and scored against every station's exact
optimum, and tomorrow's price is recommended per station. Nothing is registered or
deployed: a study is evidence, not a release.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.market.model import MAX_DAILY_MOVE
from rl_core.pipeline.params import RunParams
from rl_core.study.sources import StudySource, source

log = logging.getLogger("forecourt.study")

DEFAULT_AGENTS = ("profit", "demand")
DEFAULT_ENV_STEPS = RunParams.env_steps  # the daily run's training budget per trial
NEW_STATION_ID = "NEW-STATION"  # the never-seen station the report prices as an example


@dataclass
class StudyResult:
    source: str
    folder: Path
    record: dict  # study.json
    frames: dict = field(default_factory=dict)  # in-memory inputs of the plots

    @property
    def report(self) -> Path:
        return self.folder / "report.md"


def run_study(
    name: str,
    out: str | Path | None = None,
    *,
    agents: tuple[str, ...] = DEFAULT_AGENTS,
    env_steps: int = DEFAULT_ENV_STEPS,
    seed: int = 0,
    window_days: int | None = None,
    volume: float | None = None,
    source_path: str | Path | None = None,
) -> StudyResult:
    """Run source `name` (`rl_core.study.sources.SOURCES`) through the loop into `out`.

    window_days: calibrate on the last N accepted days (default: all of them).
    volume: the assumed litres/day of a typical station (price-only sources only).
    source_path: the file to read instead of the shared real-data file (same columns).
    """
    src = source(name)
    if volume is not None and src.calibration != "price-only":
        raise ForecourtError(f"{name} has volumes: --volume applies to price-only sources")
    folder = Path(out) if out is not None else paths.home() / "studies" / name
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "store"
    record: dict = {"source": name, "title": src.title, "folder": str(folder)}
    timings: dict[str, float] = {}

    with _stage("ingest", timings):
        frames = _ingest(src, source_path, store)
        record["ingest"] = {
            "days": len(frames),
            "rows": int(sum(len(f) for f in frames.values())),
            "stations": int(pd.concat(frames.values())["station_id"].nunique()),
            "first_day": str(min(frames)),
            "last_day": str(max(frames)),
        }
    with _stage("validate", timings):
        record["validation"] = _validate(src, store)
    accepted = record["validation"]["accepted"]
    if not accepted:
        raise ForecourtError(
            f"every day of {name} failed validation: nothing to calibrate (reports under "
            f"{store}/quarantine)"
        )
    with _stage("calibrate", timings):
        data = _window(store, accepted, window_days)
        cal = _calibrate(src, data, volume).with_move_limit(MAX_DAILY_MOVE)
        network = _network(cal)
        record["calibration"] = _calibration_record(cal, network)
        (folder / "calibration.json").write_text(_json(cal.to_dict()))
        (folder / "network.json").write_text(_json(network.to_dict()))
    log.info("%s", cal.summary())

    trained = {}
    for agent in agents:
        with _stage(f"train {agent}", timings):
            trained[agent] = _train(network, agent, env_steps, seed)
        ev = trained[agent].evaluation
        log.info(
            "%s agent: %.2f%% of the summed exact optima over %d stations (worst %.2f%%)",
            agent,
            100 * ev.fraction_of_optimum,
            len(network),
            100 * float(ev.station_fractions.min()),
        )
    prices = _recommendations(network, trained)
    prices.to_csv(folder / "recommendations.csv", index=False)
    record["training"] = {a: _training_record(t) for a, t in trained.items()}
    record["prices"] = _price_record(prices, agents, network.market)
    record["new_station"] = _new_station(network, trained)
    record["timings_s"] = timings

    result = StudyResult(
        name, folder, record, {"data": data, "calibration": cal, "network": network}
    )
    result.frames.update(prices=prices, trained=trained)
    from rl_core.study.plots import write_plots
    from rl_core.study.report import write_report

    record["plots"] = [str(p.relative_to(folder)) for p in write_plots(result)]
    (folder / "study.json").write_text(_json(record))
    write_report(result)
    return result


# ---- stages ------------------------------------------------------------------------------------


class _stage:
    """Log a stage's start and its duration (progress on a run of several minutes)."""

    def __init__(self, name: str, timings: dict[str, float]):
        self.name, self.timings = name, timings

    def __enter__(self):
        log.info("%s ...", self.name)
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.t0, 2)
        if exc[0] is None:
            log.info("%s done in %.1f s", self.name, self.timings[self.name])


def _ingest(src: StudySource, source_path, store: Path) -> dict:
    from rl_core.data.ingest import ingest, write_landing
    from rl_core.data.mapping import load_mapping
    from rl_core.data.real import real_data_dir

    path = source_path or real_data_dir() / load_mapping(src.mapping)["file"]
    frames = ingest(
        path,
        src.mapping,
        fuel=src.fuel,
        wholesale=src.wholesale,
        competitors_by=src.competitors_by,
    )
    write_landing(store, frames, name=src.name)
    return frames


def _validate(src: StudySource, store: Path) -> dict:
    from rl_core.data.ingest import list_landing
    from rl_core.validation import validate_backfill

    landing = {day: files[-1] for day, files in list_landing(store).items()}
    result = validate_backfill(landing, store, src.validation_config())
    log.info("%s", result.summary())
    return {
        "accepted": [str(d) for d in result.accepted],
        "quarantined": [
            {"day": str(r.day), "failed": r.failure_names(), "headline": r.headline()}
            for r in result.failed
        ],
        "warned_days": sum(1 for r in result.results if r.success and r.warnings),
        "wall_s": round(result.wall_s, 2),
    }


def _window(store: Path, accepted: list[str], window_days: int | None) -> pd.DataFrame:
    from datetime import date

    from rl_core.data.store import read_window

    last, first = date.fromisoformat(accepted[-1]), date.fromisoformat(accepted[0])
    days = window_days or (last - first).days + 1
    return read_window(store, last, days)


def _calibrate(src: StudySource, data: pd.DataFrame, volume: float | None):
    if src.calibration == "price-only":
        from rl_core.market.price_only import ASSUMED_VOLUME, calibrate_price_only

        return calibrate_price_only(data, volume=volume or ASSUMED_VOLUME)
    from rl_core.market.calibration import calibrate

    return calibrate(data)


def _network(cal):
    from rl_core.market.network import StationNetwork

    return StationNetwork.from_calibration(cal)


def _train(network, agent: str, env_steps: int, seed: int):
    from rl_core.training.network import network_config, train_network

    config = network_config(seed=seed, total_env_steps=env_steps, buffer_size=env_steps)
    return train_network(network, agent, config)


def _recommendations(network, trained: dict) -> pd.DataFrame:
    """One row per station: its features, where its level came from, tomorrow's prices."""
    from rl_core.evaluation.network import recommend_prices

    rows = pd.DataFrame([s.to_dict() for s in network.stations])
    rows = rows[["station_id", "source", "n_rows", "intercept_se", "base_demand"]]
    rows.insert(1, "demand_level", network.levels())
    rows["last_price"] = [m.initial_price for m in network.markets()]
    for agent, t in trained.items():
        ev = t.evaluation
        rows[f"{agent}_price"] = rows["station_id"].map(
            recommend_prices(t.train.agent.greedy, network)
        )
        prices = np.stack([m.prices for m in network.markets()])
        rows[f"{agent}_optimal_price"] = prices[np.arange(len(prices)), ev.optimal_actions[:, 0]]
        rows[f"{agent}_fraction"] = ev.station_fractions
    return rows


def _new_station(network, trained: dict) -> dict:
    """What a never-seen station gets: the network's level and the agent's price for it."""
    from rl_core.evaluation.network import recommend_prices
    from rl_core.market.network import StationNetwork

    features = network.new_station(NEW_STATION_ID)
    alone = StationNetwork(network.market, (features,))
    return {
        "station_id": NEW_STATION_ID,
        "source": features.source,
        "base_demand": features.base_demand,
        "demand_level": float(alone.levels()[0]),
        "prices": {
            a: recommend_prices(t.train.agent.greedy, alone)[NEW_STATION_ID]
            for a, t in trained.items()
        },
    }


# ---- records -----------------------------------------------------------------------------------


def _calibration_record(cal, network) -> dict:
    sources = list(network.sources().values())
    return {
        "method": cal.method,
        "window": [str(cal.window_start), str(cal.window_end)],
        "rows": cal.n_rows,
        "stations": cal.n_stations,
        "summary": cal.summary(),
        "notes": list(cal.notes),
        "station_sources": {s: sources.count(s) for s in dict.fromkeys(sources)},
        "diagnostics": cal.to_dict()["diagnostics"],
        "r_squared": cal.to_dict()["r_squared"],
        "coefficients": {k: c.to_dict() for k, c in cal.coefficients.items()},
    }


def _training_record(t) -> dict:
    ev = t.evaluation
    return {
        "fraction_of_optimum": round(ev.fraction_of_optimum, 5),
        "worst_station": round(float(ev.station_fractions.min()), 5),
        "stations_below_90pct": int((ev.station_fractions < 0.9).sum()),
        "first_day_agreement": round(ev.first_day_agreement(), 4),
        "env_steps": t.train.env_steps,
        "train_s": round(t.train.train_s, 1),
        "curve": [{"env_steps": r["env_steps"], "fraction": r["fraction"]} for r in t.train.curve],
    }


def _price_record(prices: pd.DataFrame, agents, market) -> dict:
    out = {}
    for agent in agents:
        col, best = prices[f"{agent}_price"], prices[f"{agent}_optimal_price"]
        out[agent] = {
            # the optimum pinned to an edge of the observed price range: the data cannot
            # say whether the best price lies beyond it
            "optimum_at_ceiling": int(np.isclose(best, market.price_max).sum()),
            "optimum_at_floor": int(np.isclose(best, market.price_min).sum()),
            "min": round(float(col.min()), 4),
            "median": round(float(col.median()), 4),
            "max": round(float(col.max()), 4),
            "distinct": int(col.round(6).nunique()),
            "matches_optimum": round(
                float(np.isclose(col, prices[f"{agent}_optimal_price"]).mean()), 4
            ),
        }
    return out


def _json(obj) -> str:
    """Strict JSON: a figure a method does not produce (NaN) is written as null."""
    import json
    import math

    def clean(o):
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(obj), indent=2, default=str, allow_nan=False)
