"""Q-networks: observation -> one action value per price level."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rl_core.envs.observation import MARKET_FEATURES


def _station_blind_init(width: int, out: int, extra: int) -> nn.Linear:
    """Linear(width, out) drawn as Linear(width - extra, out), zero weights on the `extra`
    station columns (encoded right after day and cost, see `QNetwork.encode`)."""
    blind = nn.Linear(width - extra, out)
    layer = torch.nn.utils.skip_init(nn.Linear, width, out)  # no draws: later layers as before
    with torch.no_grad():
        w = blind.weight
        layer.weight.copy_(torch.cat([w[:, :2], w.new_zeros(out, extra), w[:, 2:]], dim=1))
        layer.bias.copy_(blind.bias)
    return layer


class QNetwork(nn.Module):
    """MLP with a dueling head: Q(s, a) = V(s) + A(s, a) - mean_a A(s, a).

    Input: the env's observation (`rl_core.envs.observation`: day fraction, yesterday's
    level / (n - 1), cost, then the station's features). Yesterday's
    price is the agent's own previous action, so it is expanded to a one-hot over the
    n price levels (as SB3 one-hot-encodes discrete observations): demand has a kink where
    today's price crosses yesterday's, which a one-hot input makes linear to learn.
    The dueling split learns the large day-dependent value V separately from the small
    differences between prices that decide the policy. V and A share one output layer
    (fewer tensor ops per update: eager overhead, not FLOPs, bounds speed on a CPU).
    The first layer's weights on the station features start at zero and the rest are drawn
    exactly as for a station-blind network: the net starts station-blind and learns how
    much the station matters, and where those features are 0 (one built-in market)
    training is the same as before they existed.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden = obs_dim, n_actions, tuple(hidden)
        layers: list[nn.Module] = []
        extra = max(obs_dim - MARKET_FEATURES, 0)  # station features
        width = obs_dim - 1 + n_actions
        for i, h in enumerate(hidden):
            first = _station_blind_init(width, h, extra) if i == 0 else nn.Linear(width, h)
            layers += [first, nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1 + n_actions)  # [V, A_1..A_n]

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        level = torch.round(obs[:, 1] * (self.n_actions - 1)).long()
        onehot = F.one_hot(level, self.n_actions).to(obs.dtype)
        return torch.cat([obs[:, :1], obs[:, 2:], onehot], dim=1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.from_features(self.encode(obs))

    def from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Q-values from already encoded observations (training encodes a batch once)."""
        out = self.head(self.body(features))
        value, adv = out[:, :1], out[:, 1:]
        return value + adv - adv.mean(dim=1, keepdim=True)
