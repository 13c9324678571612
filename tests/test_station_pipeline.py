"""The daily run on a station network (issue 12, item 1): one small run, end to end without
Airflow, on a synthetic heterogeneous network of 20 stations; then serving's station lookup.

The run: calibrate (network.json, per-station fit quality) -> one trial over the pool of
station markets (scored on all stations) -> register -> compare over the stations -> promote
-> tomorrow's prices, each station with its own demand level.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from rl_core.evaluation.optimum import solve_batch
from rl_core.market.network import StationNetwork
from rl_core.market.synthetic import synthetic_network
from rl_core.pipeline import steps
from rl_core.registry.compare import Guardrails, network_scenarios
from rl_core.serving import DirectorySource, LoadedModel, create_app, recommend_batch
from rl_core.training.bundle import read_bundle

DAY = date(2026, 3, 10)
STATIONS = 20
ENV_STEPS = 600_000  # the network defaults reach >= 99% of the optimum on 20 stations


def first_day_pairs(agent: np.ndarray, optimal: np.ndarray) -> float:
    """Of the station pairs whose optimal first-day prices differ, the share the agent also
    prices differently (1.0 when no pair differs)."""
    differ = optimal[:, None] != optimal[None, :]
    return float((agent[:, None] != agent[None, :])[differ].mean()) if differ.any() else 1.0


def _seed_store(store) -> None:
    """100 days of the synthetic network's history, up to and including the run's day."""
    from rl_core.data.store import write_day

    history = synthetic_network(STATIONS, seed=0).history(days=100, start=DAY - timedelta(days=99))
    for day, frame in history.groupby("date"):
        write_day(store, day.date(), frame)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One profit run: its plan and every step's record."""
    home = tmp_path_factory.mktemp("forecourt")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORECOURT_HOME", str(home))
        mp.setenv("FORECOURT_METRICS", "off")
        store = home / "store"
        _seed_store(store)
        params = {
            "agents": ["profit"],
            "trials": 1,
            "env_steps": ENV_STEPS,
        }
        plan = steps.plan_run(params, DAY, "manual__stations", store=str(store))
        steps.save(plan.folder, "validation.json", {"valid": True})  # validation: elsewhere
        out = {"plan": plan, "calibration": steps.calibrate(plan)}
        out["trials"] = steps.plan_trials(plan, "profit")
        out["trial"] = steps.train_trial(plan, "profit", 0)
        out["best"] = steps.pick_best(plan, "profit")
        out["registered"] = steps.register_challenger(plan, "profit")
        out["decision"] = steps.evaluate_vs_champion(plan, "profit")
        out["promotion"] = steps.promote_or_keep(plan, "profit")
        out["recommendations"] = steps.write_recommendations(plan)
        out["network"] = StationNetwork.from_dict(steps.load(plan.folder, "network.json"))
        yield out


def test_calibrate_saves_the_network_and_each_stations_fit_quality(run):
    cal = run["calibration"]
    assert cal["network_file"].endswith("network.json")
    assert sum(cal["station_sources"].values()) == STATIONS
    assert len(cal["station_fits"]) == STATIONS
    fit = cal["station_fits"][0]
    assert set(fit) == {"station_id", "n_rows", "intercept_se", "source", "weight"}
    assert fit["n_rows"] >= 80 and fit["source"] == "own"
    assert len(run["network"]) == STATIONS
    # the daily move limit is part of the market trained and decided on: the guardrail's
    assert run["network"].market.max_daily_move == Guardrails().max_daily_move


def test_trials_search_the_network_space_and_score_every_station(run):
    from rl_core.pipeline.search import NETWORK_DEFAULTS

    hp = run["trials"][0]["hyperparameters"]
    assert hp["hidden"] == list(NETWORK_DEFAULTS["hidden"])
    assert hp["learning_rate"] == NETWORK_DEFAULTS["learning_rate"]
    trial = run["trial"]
    assert trial["network"]["stations"] == STATIONS
    assert trial["fraction_of_optimum"] == trial["network"]["fraction_of_optimum"]
    assert trial["fraction_of_optimum"] > 0.98
    bundle = read_bundle(trial["bundle"])
    assert set(bundle.metadata["network"]["stations"]) == set(run["network"].station_ids)
    assert bundle.metadata["hyperparameters"]["scale_per_market"] is True


def test_champion_and_challenger_are_compared_over_the_stations(run):
    decision = run["decision"]
    assert decision["baseline"].startswith("best constant price")  # no champion yet
    full = steps.load(run["plan"].agent_folder("profit"), "decision.json")
    assert full["n_scenarios"] == 64
    assert full["challenger"]["fraction_of_optimum"] > 0.98  # over the stations' scenarios
    assert {g["name"] for g in decision["guardrails"]} >= {"price_band", "max_daily_move"}


def test_a_good_challenger_passes_the_guardrails_and_is_promoted(run):
    """The optimum under the move limit cannot swing by more than the guardrail allows, so
    an agent near it is promoted by the real decision (no champion yet: a good first model)."""
    decision = run["decision"]
    assert all(g["passed"] for g in decision["guardrails"]), decision["guardrails"]
    assert decision["outcome"] == "promoted", decision["summary"]
    assert run["promotion"]["action"] == "promoted"
    assert run["promotion"]["champion_version"] == run["registered"]["version"]


def test_tomorrows_prices_differ_per_station_where_the_optimum_does(run):
    from rl_core.serving.batch import read_recommendations

    rec = run["recommendations"]
    plan, network = run["plan"], run["network"]
    stats = rec["agents"]["profit"]
    assert stats["stations"] == STATIONS and stats["fallback_stations"] == []
    assert stats["station_sources"] == {"network": STATIONS}
    assert stats["min"] < stats["max"]
    frame = read_recommendations(plan.store, plan.tomorrow).set_index("station_id")
    optimal = solve_batch(network.markets(), "profit").actions[:, 0]
    optimal_price = network.market.prices[optimal]
    agent = frame.loc[network.station_ids, "price"].to_numpy()
    assert len(np.unique(optimal_price)) > 1  # the network's optimum differs per station
    assert first_day_pairs(agent, optimal_price) >= 0.7
    # and each station's price moves at most the limit from today's (on the grid)
    today = np.array([m.prices[m.initial_index] for m in network.markets()])
    assert np.abs(agent - today).max() <= network.market.max_daily_move + 1e-9


def test_a_station_the_champion_does_not_know_gets_the_network_level(run):
    model = LoadedModel.load(read_bundle(run["trial"]["bundle"]), "1")
    known = run["network"].station_ids[0]
    today = pd.DataFrame(
        {
            "station_id": [known, "NEW01"],
            "price": [1.9, 1.9],
            "unit_cost": [1.6, 1.6],
        }
    )
    frame = recommend_batch(model, today)
    assert frame["station_source"].tolist() == ["network", "fallback"]
    assert frame["demand_level"].iloc[1] == pytest.approx(model.bundle.fallback_level)
    assert steps._station_sources(frame)["fallback_stations"] == ["NEW01"]


def test_network_scenarios_cycle_through_the_stations(run):
    network = run["network"]
    scen = network_scenarios(network, n=2 * STATIONS, seed=3)
    bases = [m.demand.base_demand for m in scen]
    assert sorted(bases[:STATIONS]) == sorted(s.base_demand for s in network.stations)
    again = network_scenarios(network, n=2 * STATIONS, seed=3)
    assert [m.to_dict() for m in scen] == [m.to_dict() for m in again]


# ---- serving: the station's demand level by request, network lookup or fallback ----------


@pytest.fixture
def served(run, tmp_path):
    """A DirectorySource root: profit v1 (the run's bundle, with its network) is champion,
    and v0, the same policy without a network (a bundle from before this change)."""
    root = tmp_path / "models"
    bundle = run["trial"]["bundle"]
    shutil.copytree(bundle, root / "profit" / "v1")
    shutil.copytree(bundle, root / "profit" / "v0")
    meta_file = root / "profit" / "v0" / "bundle.json"
    meta = json.loads(meta_file.read_text())
    del meta["network"]
    meta_file.write_text(json.dumps(meta))
    (root / "profit" / "CHAMPION").write_text("v1\n")
    return root


def _ask(root, records):
    app = create_app(DirectorySource(root), agents=("profit",), refresh_interval=None)
    with TestClient(app) as client:
        r = client.post("/invocations", json=records)
        assert r.status_code == 200, r.text
        return r.json()


def test_serving_looks_the_station_up_or_falls_back(run, served):
    network = run["network"]
    bundle = read_bundle(served / "profit" / "v1")
    model = LoadedModel.load(bundle, "v1")
    levels = network.levels()
    low, high = int(np.argmin(levels)), int(np.argmax(levels))
    base = {"agent": "profit", "yesterday_price": 1.95, "unit_cost": 1.6}
    ids = [network.station_ids[low], network.station_ids[high], "NEW01", "NEW02"]
    records = [{**base, "station_id": sid} for sid in ids[:3]]
    records.append({**base, "station_id": ids[3], "demand_level": float(levels[high])})
    out = _ask(served, records)
    assert [o["station_source"] for o in out] == ["network", "network", "fallback", "request"]
    expect = model.predict(
        np.zeros(4),
        np.full(4, 1.95),
        np.full(4, 1.6),
        [levels[low], levels[high], bundle.fallback_level, levels[high]],
    )
    np.testing.assert_allclose([o["price"] for o in out], expect.price)
    np.testing.assert_allclose([o["expected_volume"] for o in out], expect.expected_volume)
    assert out[1]["price"] == out[3]["price"]  # the request's level is the station's own


def test_a_bundle_without_a_network_still_serves_at_the_fallback(served):
    (served / "profit" / "CHAMPION").write_text("v0\n")
    out = _ask(
        served,
        [{"agent": "profit", "station_id": "S000", "yesterday_price": 1.9, "unit_cost": 1.6}],
    )
    assert out[0]["station_source"] == "fallback" and out[0]["model_version"] == "v0"
