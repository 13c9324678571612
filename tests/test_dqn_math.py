"""The DQN arithmetic on hand-computed tensors: the (Double-)DQN Bellman target and the
Polyak (soft) target update, and that DQNAgent.update uses both."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rl_core.agents.dqn import (
    DQNAgent,
    DQNConfig,
    double_dqn_target,
    dqn_target,
    polyak_update,
)

# two next states x three price levels
Q_NEXT_ONLINE = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])  # argmax: level 1, level 0
Q_NEXT_TARGET = torch.tensor([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])  # max: 30, 60
REWARDS = torch.tensor([1.0, 2.0])


def test_double_dqn_target_online_net_picks_target_net_values():
    not_done = torch.zeros(2)
    got = double_dqn_target(Q_NEXT_ONLINE, Q_NEXT_TARGET, REWARDS, not_done, 0.9)
    # state 0: online picks level 1, target values it 20 -> 1 + 0.9 * 20 = 19
    # state 1: online picks level 0, target values it 40 -> 2 + 0.9 * 40 = 38
    torch.testing.assert_close(got, torch.tensor([19.0, 38.0]))
    # plain DQN takes the target net's own max instead: 1 + 0.9 * 30, 2 + 0.9 * 60
    plain = dqn_target(Q_NEXT_TARGET, REWARDS, not_done, 0.9)
    torch.testing.assert_close(plain, torch.tensor([28.0, 56.0]))


def test_done_flags_zero_the_bootstrap():
    dones = torch.tensor([0.0, 1.0])  # state 1 was an episode's last day
    got = double_dqn_target(Q_NEXT_ONLINE, Q_NEXT_TARGET, REWARDS, dones, 0.9)
    torch.testing.assert_close(got, torch.tensor([19.0, 2.0]))  # state 1: its reward only
    plain = dqn_target(Q_NEXT_TARGET, REWARDS, dones, 0.9)
    torch.testing.assert_close(plain, torch.tensor([28.0, 2.0]))
    every = double_dqn_target(Q_NEXT_ONLINE, Q_NEXT_TARGET, REWARDS, torch.ones(2), 0.9)
    torch.testing.assert_close(every, REWARDS)


@pytest.mark.parametrize(("discount", "want"), [(0.0, [1.0, 2.0]), (0.25, [6.0, 12.0])])
def test_the_discount_scales_the_bootstrap(discount, want):
    # 0.25 = gamma ** n_step with gamma 0.5, n_step 2: 1 + 0.25 * 20, 2 + 0.25 * 40
    got = double_dqn_target(Q_NEXT_ONLINE, Q_NEXT_TARGET, REWARDS, torch.zeros(2), discount)
    torch.testing.assert_close(got, torch.tensor(want))


def test_a_masked_level_is_never_picked():
    masked = Q_NEXT_ONLINE.clone()
    masked[0, 1] = -torch.inf  # the move limit rules level 1 out after state 0's price
    got = double_dqn_target(masked, Q_NEXT_TARGET, REWARDS, torch.zeros(2), 0.9)
    torch.testing.assert_close(got, torch.tensor([1.0 + 0.9 * 30.0, 38.0]))  # level 2 now


def _linear(weight: list[float], bias: float) -> nn.Linear:
    layer = nn.Linear(len(weight), 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([weight]))
        layer.bias.copy_(torch.tensor([bias]))
    return layer


def test_polyak_update_moves_the_target_a_tau_fraction_of_the_way():
    target, online = _linear([0.0, 10.0], 1.0), _linear([10.0, 0.0], 2.0)
    polyak_update(target.parameters(), online.parameters(), 0.1)
    # target + 0.1 * (online - target): 0 + 1, 10 - 1, 1 + 0.1
    torch.testing.assert_close(target.weight, torch.tensor([[1.0, 9.0]]))
    torch.testing.assert_close(target.bias, torch.tensor([1.1]))
    torch.testing.assert_close(online.weight, torch.tensor([[10.0, 0.0]]))  # untouched


def test_polyak_update_with_tau_1_is_a_hard_copy():
    target, online = _linear([0.3, -7.1], 0.7), _linear([1.9, 2.2], -4.4)
    polyak_update(target.parameters(), online.parameters(), 1.0)
    assert torch.equal(target.weight, online.weight) and torch.equal(target.bias, online.bias)


def _agent(**config) -> DQNAgent:
    torch.manual_seed(0)
    return DQNAgent(4, 3, DQNConfig(hidden=(8,), **config))


def _batch():
    g = torch.Generator().manual_seed(1)
    obs = torch.rand(5, 4, generator=g)
    obs[:, 1] = torch.tensor([0.0, 0.5, 1.0, 0.5, 0.0])  # yesterday's level / (n - 1)
    next_obs = torch.rand(5, 4, generator=g)
    next_obs[:, 1] = torch.tensor([1.0, 0.0, 0.5, 0.5, 1.0])
    actions = torch.tensor([0, 2, 1, 1, 0])
    rewards = torch.rand(5, generator=g)
    dones = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0])
    return obs, actions, rewards, next_obs, dones


@pytest.mark.parametrize("double_dqn", [True, False])
def test_agent_update_is_huber_to_the_target_then_a_polyak_step(double_dqn):
    agent = _agent(gamma=0.5, n_step=2, tau=0.1, double_dqn=double_dqn)
    obs, actions, rewards, next_obs, dones = batch = _batch()
    with torch.no_grad():
        q_taken = agent.q(obs).gather(1, actions[:, None]).squeeze(1)
        if double_dqn:
            q_next_online, q_next_target = agent.q(next_obs), agent.target(next_obs)
            target = double_dqn_target(q_next_online, q_next_target, rewards, dones, 0.25)
        else:
            target = dqn_target(agent.target(next_obs), rewards, dones, 0.25)
        want = F.huber_loss(q_taken, target, delta=1.0)
        before = [p.clone() for p in agent.target.parameters()]
    loss = agent.update(*batch)
    torch.testing.assert_close(loss, want)
    for old, new, online in zip(
        before, agent.target.parameters(), agent.q.parameters(), strict=True
    ):
        torch.testing.assert_close(new, old + 0.1 * (online - old))


def test_soft_update_uses_the_configured_tau():
    agent = _agent(tau=0.1)
    with torch.no_grad():
        for p in agent.target.parameters():
            p.zero_()
        for p in agent.q.parameters():
            p.fill_(1.0)
    agent.soft_update()
    for p in agent.target.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 0.1))
