"""The hyperparameter search: which DQN configurations a run's trials try.

Random search over a small space around the measured defaults (docs/agents.md), seeded
by (day, agent, seed) so a rerun of a day tries the same trials. Trial 0 is always the
defaults, so the search can only improve on a plain training run.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date

SEARCH_SPACE: dict[str, tuple] = {
    "learning_rate": (5e-4, 1e-3, 2e-3),
    "gamma": (0.85, 0.9, 0.95),
    "batch_size": (64, 128, 256),
    "exploration_fraction": (0.2, 0.3, 0.4),
    "tau": (0.005, 0.01, 0.02),
    "hidden": ((64, 64), (128, 128)),
}
DEFAULTS = {
    "learning_rate": 1e-3,
    "gamma": 0.9,
    "batch_size": 128,
    "exploration_fraction": 0.3,
    "tau": 0.01,
    "hidden": (64, 64),
}


def trial_configs(agent: str, day: date | str, trials: int, seed: int = 0) -> list[dict]:
    """`trials` distinct hyperparameter sets (as far as the space allows), defaults first."""
    digest = hashlib.sha256(f"{agent}|{day}|{seed}".encode()).hexdigest()
    rng = random.Random(int(digest[:16], 16))
    chosen = [dict(DEFAULTS)]
    seen = {_key(DEFAULTS)}
    attempts = 0
    while len(chosen) < trials and attempts < 1000:
        attempts += 1
        hp = {name: rng.choice(values) for name, values in SEARCH_SPACE.items()}
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
