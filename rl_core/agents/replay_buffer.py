"""A preallocated ring buffer of transitions, stored as tensors (no Python objects)."""

from __future__ import annotations

import torch


class ReplayBuffer:
    def __init__(self, capacity: int, obs_dim: int, device: torch.device | str = "cpu"):
        self.capacity = capacity
        self.device = torch.device(device)
        self.obs = torch.zeros(capacity, obs_dim, device=self.device)
        self.next_obs = torch.zeros(capacity, obs_dim, device=self.device)
        self.actions = torch.zeros(capacity, dtype=torch.long, device=self.device)
        self.rewards = torch.zeros(capacity, device=self.device)
        self.dones = torch.zeros(capacity, device=self.device)
        self.pos = 0
        self.size = 0

    def add(self, obs, actions, rewards, next_obs, done: bool) -> None:
        """Add a batch of transitions (one per vector slot) at once."""
        n = obs.shape[0]
        idx = torch.arange(self.pos, self.pos + n, device=self.device) % self.capacity
        self.obs[idx] = obs
        self.next_obs[idx] = next_obs
        self.actions[idx] = actions
        self.rewards[idx] = rewards
        self.dones[idx] = float(done)
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator | None = None):
        idx = torch.randint(self.size, (batch_size,), generator=generator, device=self.device)
        return (
            self.obs[idx],
            self.actions[idx],
            self.rewards[idx],
            self.next_obs[idx],
            self.dones[idx],
        )


class NStepCollector:
    """Turns per-step batches into n-step transitions before they reach the buffer.

    Target: R = r_t + g r_{t+1} + ... + g^(n-1) r_{t+n-1}, bootstrapped with g^n Q(s_{t+n}).
    n-step returns carry credit n days per update, so a discount close to 1 (which keeps
    the margins between near-tied price cycles large) still learns fast. The vectorised
    markets end their episodes on the same step, so at an episode end every pending
    transition is flushed with its truncated return and marked terminal.
    """

    def __init__(self, buffer: ReplayBuffer, n: int, gamma: float):
        self.buffer, self.n, self.gamma = buffer, n, gamma
        self.pending: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def add(self, obs, actions, rewards, next_obs, done: bool) -> None:
        if self.n == 1:
            self.buffer.add(obs, actions, rewards, next_obs, done)
            return
        self.pending.append((obs, actions, rewards))
        if done:
            while self.pending:
                self._emit(next_obs, True)
        elif len(self.pending) == self.n:
            self._emit(next_obs, False)

    def _emit(self, next_obs, done: bool) -> None:
        obs, actions, _ = self.pending[0]
        ret = torch.zeros_like(self.pending[0][2])
        for k, (_, _, r) in enumerate(self.pending):
            ret += (self.gamma**k) * r
        self.buffer.add(obs, actions, ret, next_obs, done)
        self.pending.pop(0)
