"""Serving: the SageMaker contract, 4xx for every bad request, hot swap, batch files."""

import json
import math
import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient

from rl_core.agents.dqn import DQNConfig
from rl_core.envs.gas_station import observe
from rl_core.errors import DataSchemaError
from rl_core.market.model import Market
from rl_core.serving import (
    DirectorySource,
    InvalidInputError,
    LoadedModel,
    RegistrySource,
    create_app,
    read_recommendations,
    recommend_batch,
    write_recommendations,
)
from rl_core.serving.sources import ModelSource, ModelSourceError
from rl_core.training.bundle import read_bundle, write_bundle
from rl_core.training.train import train


@pytest.fixture(scope="module")
def results():
    cfg = DQNConfig(total_env_steps=20_000)
    return {a: train(Market(), a, cfg) for a in ("profit", "demand")}


@pytest.fixture
def models(tmp_path, results):
    """A DirectorySource root: profit v1 + v2 (v1 champion), demand v1 (champion)."""
    root = tmp_path / "models"
    for agent, versions in (("profit", ("v1", "v2")), ("demand", ("v1",))):
        for v in versions:
            write_bundle(results[agent], Market(), root / agent / v)
        (root / agent / "CHAMPION").write_text("v1\n")
    return root


def _client(root, **kwargs):
    kwargs.setdefault("refresh_interval", None)
    return TestClient(create_app(DirectorySource(root), **kwargs))


REQ = {"agent": "profit", "station_id": "s1", "yesterday_price": 1.9, "unit_cost": 1.6}


def test_invocation_matches_the_policy_and_the_demand_model(models):
    market = Market()
    bundle = read_bundle(models / "profit" / "v1")
    policy = bundle.load_policy()
    with _client(models) as client:
        assert client.get("/ping").status_code == 200
        for day, yp, cost in [(0, 1.9, 1.6), (7, 1.41, 1.2), (29, 2.4, 2.0), (3, 1.87, 1.75)]:
            r = client.post(
                "/invocations",
                json={**REQ, "day": day, "yesterday_price": yp, "unit_cost": cost},
            )
            assert r.status_code == 200, r.text
            out = r.json()
            prev = int(np.abs(market.prices - yp).argmin())
            obs = observe(market.replace(unit_cost=cost), day, prev)
            level = int(policy(torch.from_numpy(obs[None])).argmax(1))
            price = market.prices[level]
            volume = market.demand.demand(price, market.prices[prev])
            assert out["price"] == pytest.approx(price)
            assert out["expected_volume"] == pytest.approx(volume)
            assert out["expected_profit"] == pytest.approx((price - cost) * volume)
            assert out["model_version"] == "v1"
            assert (out["agent"], out["station_id"]) == ("profit", "s1")


def test_batch_request_prices_many_records_in_order(models):
    body = [
        {**REQ, "station_id": f"s{i}", "agent": "profit" if i % 2 else "demand", "day": i}
        for i in range(10)
    ]
    with _client(models) as client:
        batch = client.post("/invocations", json=body)
        assert batch.status_code == 200
        singles = [client.post("/invocations", json=b).json() for b in body]
    assert batch.json() == singles
    assert [o["station_id"] for o in batch.json()] == [f"s{i}" for i in range(10)]


BAD_REQUESTS = [
    ("unknown agent", {**REQ, "agent": "volume"}),
    ("missing station", {k: v for k, v in REQ.items() if k != "station_id"}),
    ("missing price", {k: v for k, v in REQ.items() if k != "yesterday_price"}),
    ("missing cost", {k: v for k, v in REQ.items() if k != "unit_cost"}),
    ("negative price", {**REQ, "yesterday_price": -1.9}),
    ("negative cost", {**REQ, "unit_cost": -0.1}),
    ("negative day", {**REQ, "day": -1}),
    ("day past horizon", {**REQ, "day": 30}),
    ("huge day", {**REQ, "day": 10**30}),
    ("price as string", {**REQ, "yesterday_price": "1.9"}),
    ("price as bool", {**REQ, "yesterday_price": True}),
    ("price as list", {**REQ, "yesterday_price": [1.9]}),
    ("price null", {**REQ, "yesterday_price": None}),
    ("day as float", {**REQ, "day": 1.5}),
    ("station as int", {**REQ, "station_id": 12}),
    ("empty station", {**REQ, "station_id": ""}),
    ("price far above grid", {**REQ, "yesterday_price": 19.0}),
    ("price far below grid", {**REQ, "yesterday_price": 0.5}),
    ("extra field", {**REQ, "unit_cst": 1.6}),
    ("empty object", {}),
    ("empty batch", []),
    ("batch with one bad record", [REQ, {**REQ, "unit_cost": -3}]),
    ("batch with bad grid record", [REQ, {**REQ, "yesterday_price": 7.0}]),
    ("number body", 5),
    ("string body", "price please"),
    ("null body", None),
    ("nested lists", [[REQ]]),
    ("batch too large", [REQ] * 10_001),
]

RAW_BAD = [
    ("NaN price", b'{"agent":"profit","station_id":"s","yesterday_price":NaN,"unit_cost":1.6}'),
    ("inf cost", b'{"agent":"profit","station_id":"s","yesterday_price":1.9,"unit_cost":Infinity}'),
    (
        "-inf price",
        b'{"agent":"profit","station_id":"s","yesterday_price":-Infinity,"unit_cost":1}',
    ),
    ("truncated JSON", b'{"agent":"profit","station_id":"s","yester'),
    ("not JSON", b"agent=profit&station_id=s"),
    ("empty body", b""),
    ("bad UTF-8", b'{"agent":"\xff\xfe"}'),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
    ("huge integer", b'{"agent":"profit","day":' + b"9" * 5000 + b"}"),
    ("oversized body", b"[" + b" " * (9 * 1024 * 1024) + b"]"),
]


def test_every_bad_request_gets_a_4xx_with_a_message(models):
    with _client(models) as client:
        for name, body in BAD_REQUESTS:
            r = client.post("/invocations", json=body)
            assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
            assert r.json()["error"], name
        for name, raw in RAW_BAD:
            r = client.post(
                "/invocations", content=raw, headers={"content-type": "application/json"}
            )
            assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
            assert r.json()["error"], name
        for ctype in ("text/csv", "text/plain", "application/x-www-form-urlencoded", ""):
            r = client.post(
                "/invocations", content=json.dumps(REQ), headers={"content-type": ctype}
            )
            assert r.status_code == 415, (ctype, r.text)
        assert client.get("/invocations").status_code == 405
        assert client.post("/nowhere", json=REQ).status_code == 404
        # a charset parameter is still JSON
        r = client.post(
            "/invocations",
            content=json.dumps(REQ),
            headers={"content-type": "application/json; charset=utf-8"},
        )
        assert r.status_code == 200
    far = client_error(models, {**REQ, "yesterday_price": 19.0})
    assert "outside this model's price grid" in far


def client_error(root, body) -> str:
    with _client(root) as client:
        return client.post("/invocations", json=body).json()["error"]


def test_ping_is_503_until_every_agent_has_a_champion(models):
    (models / "demand" / "CHAMPION").unlink()
    with _client(models) as client:
        r = client.get("/ping")
        assert r.status_code == 503 and "demand" in r.json()["problems"]
        assert client.post("/invocations", json={**REQ, "agent": "demand"}).status_code == 503
        assert client.post("/invocations", json=REQ).status_code == 200  # profit is served
        (models / "demand" / "CHAMPION").write_text("v1")
        assert client.post("/refresh").json()["versions"] == {"demand": "v1", "profit": "v1"}
        assert client.get("/ping").status_code == 200
    with _client(models, agents=["profit"]) as client:
        assert client.get("/ping").status_code == 200
        r = client.post("/invocations", json={**REQ, "agent": "demand"})
        assert r.status_code == 422 and "not served here" in r.json()["error"]


def test_a_broken_champion_keeps_the_old_one_in_service(models):
    (models / "profit" / "v3").mkdir()  # not a bundle
    with _client(models) as client:
        (models / "profit" / "CHAMPION").write_text("v3")
        client.post("/refresh")
        assert client.get("/ping").status_code == 200
        assert client.post("/invocations", json=REQ).json()["model_version"] == "v1"
        assert "failed to load" in client.app.state.holder._errors["profit"]
        (models / "profit" / "CHAMPION").write_text("../../etc")
        client.post("/refresh")
        assert client.post("/invocations", json=REQ).json()["model_version"] == "v1"


def test_hot_swap_under_load_drops_nothing(models):
    source = DirectorySource(models)
    errors, versions, stop = [], [], threading.Event()
    with _client(models, refresh_interval=0.05) as client:

        def hammer():
            while not stop.is_set():
                try:
                    r = client.post("/invocations", json=REQ)
                    if r.status_code != 200:
                        errors.append(r.text)
                    else:
                        versions.append(r.json()["model_version"])
                except Exception as exc:  # noqa: BLE001 - any failure is the test failing
                    errors.append(repr(exc))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for v in ("v2", "v1", "v2"):
                time.sleep(0.4)
                source.promote("profit", v)
            deadline = time.monotonic() + 5
            while client.app.state.holder.versions()["profit"] != "v2":
                assert time.monotonic() < deadline, "the new champion was never picked up"
                time.sleep(0.02)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert errors == []
    assert "v1" in versions and "v2" in versions
    assert versions[-1] == "v2"
    assert client.app.state.holder.swaps >= 3


def test_directory_source_contract(models, tmp_path):
    source = DirectorySource(models)
    assert isinstance(source, ModelSource) and isinstance(RegistrySource(), ModelSource)
    assert source.version("profit") == "v1"
    bundle, version = source.load("profit")
    assert version == "v1" and bundle.agent == "profit"
    source.promote("profit", "v2")
    assert source.version("profit") == "v2"
    with pytest.raises(Exception, match="not a policy bundle"):
        source.promote("profit", "v9")
    assert source.version("profit") == "v2"
    (models / "profit" / "CHAMPION").unlink()
    assert source.version("profit") is None and source.load("profit") is None
    with pytest.raises(ModelSourceError, match="does not exist"):
        DirectorySource(tmp_path / "missing")


def test_registry_source_calls_the_registry(monkeypatch, models):
    import sys
    import types

    fake = types.ModuleType("rl_core.registry")
    fake.champion_version = lambda agent: f"{agent}-7"
    fake.champion_bundle = lambda agent: (read_bundle(models / agent / "v1"), f"{agent}-7")
    monkeypatch.setitem(sys.modules, "rl_core.registry", fake)
    import rl_core

    monkeypatch.setattr(rl_core, "registry", fake, raising=False)
    with TestClient(create_app(RegistrySource(), refresh_interval=None)) as client:
        assert client.get("/ping").json()["versions"] == {
            "demand": "demand-7",
            "profit": "profit-7",
        }
        assert client.post("/invocations", json=REQ).json()["model_version"] == "profit-7"


def test_recommend_batch_is_one_vectorised_pass_matching_the_api(models, tmp_path):
    bundle = read_bundle(models / "profit" / "v1")
    rng = np.random.default_rng(0)
    n = 500
    stations = pd.DataFrame(
        {
            "station_id": [f"st{i:04d}" for i in range(n)],
            "price": rng.uniform(1.4, 2.4, n),
            "unit_cost": rng.uniform(1.2, 2.0, n),
        }
    )
    frame = recommend_batch(bundle, stations, day=2, model_version="v1")
    assert len(frame) == n and list(frame["station_id"]) == list(stations["station_id"])
    with _client(models) as client:
        for i in (0, 17, 499):
            row = stations.iloc[i]
            out = client.post(
                "/invocations",
                json={
                    **REQ,
                    "yesterday_price": float(row["price"]),
                    "unit_cost": float(row["unit_cost"]),
                    "day": 2,
                },
            ).json()
            assert frame["price"].iloc[i] == pytest.approx(out["price"])
            assert frame["expected_profit"].iloc[i] == pytest.approx(out["expected_profit"])
    assert set(frame["price"]) <= set(np.round(Market().prices, 9)) | set(Market().prices)
    assert (frame["model_version"] == "v1").all() and (frame["agent"] == "profit").all()

    path = write_recommendations(tmp_path / "store", "2026-11-25", frame)
    assert path.endswith("recommendations/date=2026-11-25/recommendations.parquet")
    pd.testing.assert_frame_equal(read_recommendations(tmp_path / "store", "2026-11-25"), frame)
    write_recommendations(f"file://{tmp_path / 'store'}", "2026-11-25", frame.head(3))
    assert len(read_recommendations(tmp_path / "store", "2026-11-25")) == 3
    folder = tmp_path / "store" / "recommendations" / "date=2026-11-25"
    assert [p.name for p in folder.iterdir()] == ["recommendations.parquet"]  # no temp left

    loaded = LoadedModel.load(bundle, "v1")
    assert recommend_batch(loaded, stations.rename(columns={"price": "yesterday_price"})).equals(
        recommend_batch(bundle, stations, model_version="v1")
    )


def test_recommend_batch_names_what_it_cannot_price(models):
    bundle = read_bundle(models / "profit" / "v1")
    good = {"station_id": "a", "price": 1.9, "unit_cost": 1.6}
    bad = pd.DataFrame([good, {**good, "station_id": "b", "price": math.nan}])
    with pytest.raises(InvalidInputError, match="1 of 2 station.*'b'"):
        recommend_batch(bundle, bad)
    with pytest.raises(InvalidInputError, match="outside"):
        recommend_batch(bundle, pd.DataFrame([{**good, "price": 9.0}]))
    with pytest.raises(DataSchemaError, match="unit_cost"):
        recommend_batch(bundle, pd.DataFrame([{"station_id": "a", "price": 1.9}]))


def test_serve_command_parses_and_builds_the_app(models, tmp_path):
    import argparse

    from rl_core.serving.cli import add_serve_parser, build_app, main

    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers())
    args = parser.parse_args(["serve", "--source", str(models), "--agents", "profit"])
    assert (args.host, args.port, args.refresh_interval) == ("127.0.0.1", 8080, 5.0)
    with TestClient(build_app(args)) as client:
        assert client.get("/ping").json()["versions"] == {"profit": "v1"}
    assert main(["--source", str(tmp_path / "nowhere")]) == 2


def test_serve_command_takes_the_containers_environment(models, monkeypatch):
    """FORECOURT_SERVING_SOURCE / FORECOURT_AGENT (what Terraform and the deploy step set)
    are the defaults; flags still win."""
    import argparse

    from rl_core.serving.cli import add_serve_parser, build_app

    def parse(*argv):
        parser = argparse.ArgumentParser()
        add_serve_parser(parser.add_subparsers())
        return parser.parse_args(["serve", *argv])

    monkeypatch.delenv("FORECOURT_SERVING_SOURCE", raising=False)
    monkeypatch.delenv("FORECOURT_AGENT", raising=False)
    assert (parse().source, parse().agents) == ("registry", "demand,profit")
    monkeypatch.setenv("FORECOURT_SERVING_SOURCE", str(models))
    monkeypatch.setenv("FORECOURT_AGENT", "profit")
    args = parse()
    assert (args.source, args.agents) == (str(models), "profit")
    with TestClient(build_app(args)) as client:
        r = client.get("/ping")
        assert r.status_code == 200 and r.json()["versions"] == {"profit": "v1"}
    assert parse("--agents", "demand,profit").agents == "demand,profit"
