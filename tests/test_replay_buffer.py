"""The tensor ring buffer and the n-step collector, on hand-built sequences."""

from __future__ import annotations

import torch

from rl_core.agents.replay_buffer import NStepCollector, ReplayBuffer


def _batch(step: int, n_slots: int = 2):
    """Transition `step` of a fake vector env: values encode (step, slot) so rows are traceable."""
    slots = torch.arange(n_slots, dtype=torch.float32)
    obs = torch.stack([torch.full((n_slots,), float(step)), slots, slots * 0], dim=1)
    next_obs = obs.clone()
    next_obs[:, 0] += 1
    actions = torch.arange(n_slots) + step
    rewards = 100.0 * step + slots
    return obs, actions, rewards, next_obs


def test_buffer_stores_a_batch():
    buf = ReplayBuffer(10, 3)
    obs, actions, rewards, next_obs = _batch(0)
    buf.add(obs, actions, rewards, next_obs, done=True)
    assert (buf.size, buf.pos) == (2, 2)
    torch.testing.assert_close(buf.obs[:2], obs)
    torch.testing.assert_close(buf.next_obs[:2], next_obs)
    torch.testing.assert_close(buf.actions[:2], actions)
    torch.testing.assert_close(buf.rewards[:2], rewards)
    torch.testing.assert_close(buf.dones[:2], torch.ones(2))
    assert buf.dones[2:].eq(0).all() and buf.obs[2:].eq(0).all()


def test_ring_buffer_wraps_and_keeps_the_newest():
    buf = ReplayBuffer(5, 3)
    for step in range(4):  # 8 transitions into 5 slots
        buf.add(*_batch(step), done=step == 3)
    assert buf.size == 5
    assert buf.pos == 8 % 5
    # the newest 5 transitions are steps (1, slot 1), (2, 0), (2, 1), (3, 0), (3, 1)
    kept = sorted(buf.rewards.tolist())
    assert kept == [101.0, 200.0, 201.0, 300.0, 301.0]
    # rows stay aligned: each reward sits with its own obs, action and done flag
    for i in range(5):
        step, slot = divmod(int(buf.rewards[i]), 100)
        assert buf.obs[i].tolist() == [float(step), float(slot), 0.0]
        assert buf.next_obs[i, 0] == step + 1
        assert buf.actions[i] == step + slot
        assert buf.dones[i] == float(step == 3)


def test_sample_only_returns_stored_transitions():
    buf = ReplayBuffer(100, 3)
    buf.add(*_batch(0), done=False)
    buf.add(*_batch(1), done=False)
    gen = torch.Generator().manual_seed(0)
    obs, actions, rewards, next_obs, dones = buf.sample(512, generator=gen)
    assert obs.shape == (512, 3) and actions.shape == (512,) and dones.shape == (512,)
    assert set(rewards.tolist()) == {0.0, 1.0, 100.0, 101.0}  # all 4 stored, nothing else
    torch.testing.assert_close(next_obs[:, 0], obs[:, 0] + 1)
    # seeded sampling is reproducible
    again = buf.sample(512, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again[2], rewards)


def test_n_step_1_passes_through():
    buf = ReplayBuffer(20, 3)
    col = NStepCollector(buf, n=1, gamma=0.5)
    batches = [_batch(s) for s in range(3)]
    for s, b in enumerate(batches):
        col.add(*b, done=s == 2)
    assert buf.size == 6 and col.pending == []
    for s, (obs, actions, rewards, next_obs) in enumerate(batches):
        rows = slice(2 * s, 2 * s + 2)
        torch.testing.assert_close(buf.obs[rows], obs)
        torch.testing.assert_close(buf.actions[rows], actions)
        torch.testing.assert_close(buf.rewards[rows], rewards)  # undiscounted, unchanged
        torch.testing.assert_close(buf.next_obs[rows], next_obs)
        assert buf.dones[rows].tolist() == [float(s == 2)] * 2


def _episode_of_5(col: NStepCollector):
    """One slot, rewards 1, 2, 4, 8, 16 on observations s0..s4; done on the 5th step."""
    rewards = [1.0, 2.0, 4.0, 8.0, 16.0]
    for t, r in enumerate(rewards):
        obs = torch.tensor([[float(t), 0.0, 0.0]])
        next_obs = torch.tensor([[float(t + 1), 0.0, 0.0]])
        col.add(obs, torch.tensor([t]), torch.tensor([r]), next_obs, done=t == 4)


def test_n_step_3_discounted_sums_and_next_observations():
    buf = ReplayBuffer(20, 3)
    col = NStepCollector(buf, n=3, gamma=0.5)
    _episode_of_5(col)
    assert buf.size == 5 and col.pending == []
    # hand-computed with gamma = 0.5 (exact in binary floating point, tolerance 0):
    #   s0: 1 + .5*2 + .25*4  = 3      -> s3, not terminal (bootstraps gamma^3 Q(s3))
    #   s1: 2 + .5*4 + .25*8  = 6      -> s4, not terminal
    #   s2: 4 + .5*8 + .25*16 = 12     -> s5, terminal (flushed at the episode end)
    #   s3: 8 + .5*16         = 16     -> s5, terminal, truncated return
    #   s4: 16                         -> s5, terminal, truncated return
    assert buf.obs[:5, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert buf.actions[:5].tolist() == [0, 1, 2, 3, 4]
    assert buf.rewards[:5].tolist() == [3.0, 6.0, 12.0, 16.0, 16.0]
    assert buf.next_obs[:5, 0].tolist() == [3.0, 4.0, 5.0, 5.0, 5.0]
    assert buf.dones[:5].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


def test_n_step_emits_nothing_before_n_steps():
    buf = ReplayBuffer(20, 3)
    col = NStepCollector(buf, n=3, gamma=0.9)
    col.add(*_batch(0), done=False)
    col.add(*_batch(1), done=False)
    assert buf.size == 0 and len(col.pending) == 2
    col.add(*_batch(2), done=False)
    assert buf.size == 2 and len(col.pending) == 2  # one batch of 2 slots out, window slides


def test_n_step_episode_shorter_than_n_flushes_everything():
    buf = ReplayBuffer(20, 3)
    col = NStepCollector(buf, n=5, gamma=0.5)
    col.add(torch.zeros(1, 3), torch.tensor([0]), torch.tensor([4.0]), torch.ones(1, 3), False)
    col.add(torch.ones(1, 3), torch.tensor([1]), torch.tensor([2.0]), torch.full((1, 3), 2.0), True)
    assert col.pending == []
    assert buf.rewards[:2].tolist() == [4.0 + 0.5 * 2.0, 2.0]  # exact in binary
    assert buf.dones[:2].tolist() == [1.0, 1.0]
    assert buf.next_obs[:2, 0].tolist() == [2.0, 2.0]


def test_n_step_next_episode_starts_clean_and_slots_stay_separate():
    buf = ReplayBuffer(50, 3)
    col = NStepCollector(buf, n=3, gamma=0.5)
    _episode_of_5(col)
    _episode_of_5(col)  # nothing of episode 1 leaks into episode 2's returns
    assert buf.size == 10
    assert buf.rewards[5:10].tolist() == [3.0, 6.0, 12.0, 16.0, 16.0]
    # two slots at once: each slot's return uses only its own rewards
    buf2 = ReplayBuffer(50, 3)
    col2 = NStepCollector(buf2, n=2, gamma=0.5)
    for step in range(3):
        col2.add(*_batch(step), done=step == 2)
    # slot 0 rewards 0, 100, 200; slot 1 rewards 1, 101, 201 (gamma 0.5, exact)
    assert buf2.obs[:6, :2].tolist() == [[s, k] for s in (0.0, 1.0, 2.0) for k in (0.0, 1.0)]
    assert buf2.rewards[:6].tolist() == [50.0, 51.5, 200.0, 201.5, 200.0, 201.0]
    assert buf2.dones[:6].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
