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


def test_a_policy_prices_a_recalibrated_grid_through_its_own(tmp_path):
    """Identity on its own grid; on a wider, finer grid, the very prices it charges on its own."""
    import numpy as np
    import torch

    from rl_core.registry.compare import bundle_policy
    from rl_core.training.export import all_states

    market = Market()
    result = train(market, "profit", DQNConfig(total_env_steps=20_000))
    bundle = write_bundle(result, market, tmp_path / "b")
    own_actions = bundle.load_policy()(all_states([market])).argmax(1)
    assert torch.equal(bundle_policy(bundle, market)(all_states([market])), own_actions)

    # a wider, finer grid holding every price of the policy's own: the same $/L prices
    wider = market.replace(price_min=1.20, price_max=2.60, n_prices=29)
    assert np.isin(np.round(market.prices, 6), np.round(wider.prices, 6)).all()
    actions = bundle_policy(bundle, wider)(all_states([wider]))
    charged = wider.prices[actions.numpy()].reshape(market.horizon, wider.n_prices)
    own = market.prices[own_actions.numpy()].reshape(market.horizon, market.n_prices)
    for j, p in enumerate(market.prices):  # yesterday's price p is level j of the own grid
        k = int(np.abs(wider.prices - p).argmin())
        assert np.allclose(charged[:, k], own[:, j])


def test_yesterdays_champion_faces_the_challenger_on_todays_grid(home):
    first = register(home, 40_000, "first")
    assert decide("profit", first, Market(), n_scenarios=16, report=False).outcome == "promoted"
    today = Market().replace(price_min=1.42, price_max=2.43)  # today's calibration moved
    second = register(home, 40_000, "second")
    decision = decide("profit", second, today, n_scenarios=16, report=False, apply=False)
    assert decision.baseline == f"champion v{first}"  # not the flat-price fallback
    assert "champion_incompatible" not in decision.evidence
