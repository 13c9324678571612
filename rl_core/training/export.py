"""Export a trained Q-network for serving, and prove the export answers as the eager model.

`torch.export` (the successor of the deprecated TorchScript) captures the network as an
ExportedProgram with a dynamic batch dimension, saved as a `.pt2` file that serving loads
without any of Forecourt's training code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rl_core.agents.dqn import DQNAgent
from rl_core.envs.observation import observe
from rl_core.market.model import Market


class ExportParityError(RuntimeError):
    """The exported model disagrees with the eager one; nothing is written."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    states_checked: int
    max_abs_diff: float
    same_actions: bool

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "states_checked": self.states_checked,
            "max_abs_diff": self.max_abs_diff,
            "same_actions": self.same_actions,
        }


def all_states(markets: list[Market]) -> torch.Tensor:
    """Every observation the markets can produce: day x yesterday's level (x cost, level)."""
    rows = [
        observe(m, day, j) for m in markets for day in range(m.horizon) for j in range(m.n_prices)
    ]
    return torch.from_numpy(np.stack(rows))


def export_policy(
    agent: DQNAgent, path: str | os.PathLike, markets: list[Market], atol: float = 1e-5
) -> ExportReport:
    """Export the deployed network to `path` (.pt2) after a parity check on every state."""
    net = agent.target if agent.config.greedy_on_target else agent.q
    net = net.eval()
    states = all_states(markets)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (states[:2],), dynamic_shapes=({0: batch},))
    with torch.no_grad():
        eager, exported = net(states), program.module()(states)
    diff = float((eager - exported).abs().max())
    same = bool(torch.equal(eager.argmax(1), exported.argmax(1)))
    if diff > atol or not same:
        raise ExportParityError(
            f"exported model differs from the eager one: max |dQ| = {diff:.2e} "
            f"(tolerance {atol:.0e}), same greedy actions: {same}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.pt2")  # torch.export.save wants a .pt2 name
    torch.export.save(program, tmp)
    os.replace(tmp, path)
    return ExportReport(path, len(states), diff, same)


def load_policy(path: str | os.PathLike) -> torch.nn.Module:
    """The exported network, callable on an observation batch."""
    return torch.export.load(str(path)).module()
