"""Policy bundles: complete, self-describing, immutable, and never half-written."""

import json

import numpy as np
import pytest
import torch

from rl_core.agents.dqn import DQNConfig
from rl_core.envs.gas_station import observe
from rl_core.market.model import Market
from rl_core.training.bundle import BundleError, read_bundle, write_bundle
from rl_core.training.train import train


@pytest.fixture(scope="module")
def result():
    return train(Market(), "profit", DQNConfig(total_env_steps=20_000))


def test_round_trip_answers_like_the_agent(tmp_path, result):
    market = Market()
    bundle = read_bundle(write_bundle(result, market, tmp_path / "v1").path)
    assert bundle.agent == "profit" and bundle.market == market
    obs = torch.from_numpy(np.stack([observe(market, 3, j) for j in range(market.n_prices)]))
    assert torch.equal(bundle.load_policy()(obs).argmax(1), result.agent.greedy(obs))
    assert bundle.metadata["evaluation"]["fraction_of_optimum"] == pytest.approx(
        result.evaluation.fraction_of_optimum
    )


def test_bundles_are_immutable_and_failures_leave_nothing(tmp_path, result, monkeypatch):
    write_bundle(result, Market(), tmp_path / "v1")
    with pytest.raises(BundleError, match="already exists"):
        write_bundle(result, Market(), tmp_path / "v1")

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-export")

    monkeypatch.setattr("rl_core.training.bundle.export_policy", boom)
    with pytest.raises(RuntimeError):
        write_bundle(result, Market(), tmp_path / "v2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1"]  # no v2, no temp folder


def test_incomplete_or_foreign_folders_are_rejected(tmp_path, result):
    bundle = write_bundle(result, Market(), tmp_path / "v1")
    (bundle.path / "policy.pt2").unlink()
    with pytest.raises(BundleError, match="missing policy.pt2"):
        read_bundle(bundle.path)
    other = write_bundle(result, Market(), tmp_path / "v2").path
    meta = json.loads((other / "bundle.json").read_text())
    (other / "bundle.json").write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(BundleError, match="format 99"):
        read_bundle(other)
