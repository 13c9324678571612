"""The hyperparameter search: which DQN configurations a run's trials try.

Random search over a small space around the measured defaults (docs/agents.md), seeded
by (day, agent, seed) so a rerun of a day tries the same trials. Trial 0 is always the
defaults, so the search can only improve on a plain training run.

A station network (`network=True`) searches around the network's measured defaults
(`rl_core.agents.config.NETWORK_OVERRIDES`, docs/stations.md): 128x128 and a higher
learning rate; 64x64 plateaus near 98.5% and 5e-4 near 97.4% there, so those are left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from datetime import date

from rl_core.agents.config import NETWORK_OVERRIDES, DQNConfig

SEARCH_SPACE: dict[str, tuple] = {
    "learning_rate": (5e-4, 1e-3, 2e-3),
    "gamma": (0.85, 0.9, 0.95),
    "batch_size": (64, 128, 256),
    "exploration_fraction": (0.2, 0.3, 0.4),
    "tau": (0.005, 0.01, 0.02),
    "hidden": ((64, 64), (128, 128)),
}


def _defaults(config: DQNConfig, space: dict[str, tuple]) -> dict:
    """The searched hyperparameters' values in `config`: trial 0 of every search."""
    values = dataclasses.asdict(config)
    return {name: values[name] for name in space}


NETWORK_SEARCH_SPACE: dict[str, tuple] = {
    **SEARCH_SPACE,
    "learning_rate": (1e-3, 2e-3, 3e-3),
    "hidden": ((128, 128),),
}
# derived, never copied: trial 0 is exactly what a plain training run would use
DEFAULTS = _defaults(DQNConfig(), SEARCH_SPACE)
NETWORK_DEFAULTS = _defaults(DQNConfig(**NETWORK_OVERRIDES), NETWORK_SEARCH_SPACE)


def trial_configs(
    agent: str, day: date | str, trials: int, seed: int = 0, *, network: bool = False
) -> list[dict]:
    """`trials` distinct hyperparameter sets (as far as the space allows), defaults first."""
    space, defaults = (
        (NETWORK_SEARCH_SPACE, NETWORK_DEFAULTS) if network else (SEARCH_SPACE, DEFAULTS)
    )
    digest = hashlib.sha256(f"{agent}|{day}|{seed}".encode()).hexdigest()
    rng = random.Random(int(digest[:16], 16))
    chosen = [dict(defaults)]
    seen = {_key(defaults)}
    attempts = 0
    while len(chosen) < trials and attempts < 1000:
        attempts += 1
        hp = {name: rng.choice(values) for name, values in space.items()}
        if _key(hp) not in seen:
            seen.add(_key(hp))
            chosen.append(hp)
    return [
        {"agent": agent, "trial": i, "seed": seed + i, "hyperparameters": _jsonable(hp)}
        for i, hp in enumerate(chosen)
    ]


def _key(hp: dict) -> tuple:
    return tuple(hp[name] for name in sorted(SEARCH_SPACE))


def _jsonable(hp: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in hp.items()}
