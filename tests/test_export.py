"""torch.export of the deployed Q-network, its parity guard, and DQNConfig validation."""

from __future__ import annotations

import math

import pytest
import torch

from rl_core.agents.dqn import DQNAgent, DQNConfig
from rl_core.envs.observation import OBS_DIM
from rl_core.market.costs import sydney_markets
from rl_core.market.model import Market
from rl_core.training.export import ExportParityError, all_states, export_policy, load_policy

MARKETS = [Market(), *sydney_markets(n=2, seed=4)]


def _agent(greedy_on_target: bool = True) -> DQNAgent:
    torch.manual_seed(0)
    agent = DQNAgent(OBS_DIM, 21, DQNConfig(hidden=(32, 32), greedy_on_target=greedy_on_target))
    # make the online and target networks differ, so exporting the wrong one is caught
    with torch.no_grad():
        for p in agent.q.parameters():
            p.add_(0.5 * torch.randn_like(p))
    return agent


def test_all_states_covers_every_day_level_and_market():
    states = all_states(MARKETS)
    assert states.shape == (3 * 30 * 21, OBS_DIM)
    assert states[:, 0].min() == 0 and states[:, 0].max() == pytest.approx(29 / 30)
    assert states[:, 1].unique().numel() == 21


@pytest.mark.parametrize("greedy_on_target", [True, False])
def test_exported_program_equals_eager_network(tmp_path, greedy_on_target):
    agent = _agent(greedy_on_target)
    path = tmp_path / "models" / "policy.pt2"
    report = export_policy(agent, path, MARKETS)
    assert path.is_file() and report.path == path
    assert not list(path.parent.glob("*.tmp.pt2"))  # the temporary file was renamed away
    assert report.states_checked == 3 * 30 * 21 and report.same_actions

    loaded = load_policy(path)
    states = all_states(MARKETS)
    deployed = agent.target if greedy_on_target else agent.q
    other = agent.q if greedy_on_target else agent.target
    with torch.no_grad():
        eager, exported = deployed(states), loaded(states)
        # tolerance: the same float32 kernels on the same inputs; 1e-5 as export_policy's
        # default parity check (observed difference: 0)
        torch.testing.assert_close(exported, eager, rtol=0, atol=1e-5)
        assert torch.equal(exported.argmax(1), eager.argmax(1))
        # the export is of the deployed network, not the other one
        assert (exported - other(states)).abs().max() > 1e-2
        # dynamic batch dimension: one state and an odd-sized batch work too
        torch.testing.assert_close(loaded(states[:1]), eager[:1], rtol=0, atol=1e-5)
        torch.testing.assert_close(loaded(states[:37]), eager[:37], rtol=0, atol=1e-5)
    assert report.max_abs_diff <= 1e-5


def test_parity_guard_raises_and_writes_nothing(tmp_path):
    agent = _agent()
    path = tmp_path / "out" / "policy.pt2"
    with pytest.raises(ExportParityError, match="tolerance"):
        export_policy(agent, path, MARKETS, atol=-1.0)  # |diff| >= 0 > -1: cannot pass
    assert not path.exists()
    assert not any(tmp_path.rglob("*.pt2"))  # neither the file nor its temporary


def test_export_replaces_an_existing_file(tmp_path):
    path = tmp_path / "policy.pt2"
    export_policy(_agent(), path, MARKETS[:1])
    second = _agent()
    with torch.no_grad():
        for p in second.target.parameters():
            p.mul_(-1.0)
    export_policy(second, path, MARKETS[:1])
    states = all_states(MARKETS[:1])
    with torch.no_grad():
        torch.testing.assert_close(
            load_policy(path)(states), second.target(states), atol=1e-5, rtol=0
        )


# ---- DQNConfig validation ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gamma": 1.01}, "gamma"),
        ({"gamma": -0.1}, "gamma"),
        ({"gamma": math.nan}, "gamma"),
        ({"tau": 0.0}, "tau"),
        ({"tau": 1.5}, "tau"),
        ({"tau": -0.01}, "tau"),
        ({"total_env_steps": -1}, "total_env_steps"),
        ({"num_envs": 0}, "num_envs"),
        ({"num_envs": -4}, "num_envs"),
        ({"buffer_size": -100}, "buffer_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -32}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"eval_interval": 0}, "eval_interval"),
        ({"updates_per_step": -1}, "updates_per_step"),
        ({"n_step": 0}, "n_step"),
    ],
)
def test_dqn_config_rejects_bad_values_by_name(changes, field):
    with pytest.raises(ValueError, match=rf"\b{field}="):
        DQNConfig(**changes)


def test_dqn_config_names_every_bad_field_at_once():
    with pytest.raises(ValueError) as info:
        DQNConfig(gamma=2.0, tau=0.0, batch_size=-1)
    message = str(info.value)
    assert "gamma=2.0" in message and "tau=0.0" in message and "batch_size=-1" in message


def test_dqn_config_accepts_boundaries():
    cfg = DQNConfig(gamma=1.0, tau=1.0, hidden=[16])
    assert cfg.gamma == 1.0 and cfg.hidden == (16,)
    assert DQNConfig(gamma=0.0).gamma == 0.0


# ---- validation gaps found while writing these tests (fixed; kept as regressions) ---------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # Linear(23, -1) -> "Trying to create tensor with negative dimension" in DQNAgent
        ({"hidden": (64, -1)}, "hidden"),
        # a zero-width layer gives a Q-network whose output ignores the state
        ({"hidden": (0,)}, "hidden"),
        # lr * (1 - frac * (1 - f)) turns negative after frac = 1 / (1 - f): Adam then
        # climbs the loss (gradient ascent) for the rest of training, without an error
        ({"final_lr_fraction": -1.0}, "final_lr_fraction"),
        # a negative scale turns the reward into a cost: the agent minimises profit
        ({"reward_scale": -1.0}, "reward_scale"),
    ],
)
def test_dqn_config_rejects_bad_network_and_schedule_values(changes, field):
    with pytest.raises(ValueError, match=field):
        DQNConfig(**changes)


def test_learning_starts_zero_with_n_step_is_rejected_or_runs():
    from rl_core.training.train import train

    try:
        cfg = DQNConfig(
            total_env_steps=8, num_envs=4, learning_starts=0, n_step=3, batch_size=4, hidden=(8,)
        )
    except ValueError as exc:  # a fix in the config is fine: it must name the field
        assert "learning_starts" in str(exc)
        return
    # two vector steps on a 3-day market: updates wait until the buffer holds a batch
    result = train(Market(horizon=3, n_prices=3), "profit", cfg)
    assert result.env_steps == 8 and len(result.curve) >= 1
