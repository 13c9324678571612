"""Registry and serving joined: what `decide` promotes is what /invocations answers with.

Real MLflow (SQLite in a temporary FORECOURT_HOME), real training, the real FastAPI app
reading the champion alias through RegistrySource; then a better challenger is promoted and
the running app swaps to it on refresh.
"""

import pytest
from fastapi.testclient import TestClient

from rl_core.agents.dqn import DQNConfig
from rl_core.market.model import Market
from rl_core.registry import champion_version, decide, register_challenger
from rl_core.serving.app import create_app
from rl_core.serving.sources import RegistrySource
from rl_core.training.bundle import write_bundle
from rl_core.training.train import train

WINDOW = {"store": "synthetic", "first_day": "2026-01-01", "last_day": "2026-03-31"}
REQUEST = {"agent": "profit", "station_id": "S001", "yesterday_price": 2.10, "unit_cost": 1.60}


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECOURT_HOME", str(tmp_path))
    monkeypatch.delenv("FORECOURT_MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def register(home, steps: int, name: str) -> str:
    market = Market()
    result = train(market, "profit", DQNConfig(total_env_steps=steps, seed=1))
    bundle = write_bundle(result, market, home / "bundles" / name)
    return register_challenger(result, bundle, data_window=WINDOW, market=market).version


def test_the_promoted_champion_is_what_serving_answers_with(home):
    first = register(home, 40_000, "first")
    decision = decide("profit", first, Market(), n_scenarios=16, report=False)
    assert decision.outcome == "promoted", decision.reason
    assert champion_version("profit") == str(first)

    app = create_app(RegistrySource(), agents=("profit",), refresh_interval=None)
    with TestClient(app) as client:
        assert client.get("/ping").status_code == 200
        answer = client.post("/invocations", json=REQUEST).json()
        assert answer["model_version"] == str(first)
        assert Market().price_min <= answer["price"] <= Market().price_max

        better = register(home, 160_000, "better")
        outcome = decide("profit", better, Market(), n_scenarios=16, report=False).outcome
        client.post("/refresh")
        served = client.post("/invocations", json=REQUEST).json()["model_version"]
        # the app serves whatever the alias says, promoted or kept
        assert served == champion_version("profit")
        assert (served == str(better)) == (outcome == "promoted")
