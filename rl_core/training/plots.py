"""Pictures a person reads faster than numbers: the learning curve and price paths."""

from __future__ import annotations

import os
from pathlib import Path

# matplotlib caches fonts under the home directory unless told otherwise
os.environ.setdefault("MPLCONFIGDIR", os.path.join("/tmp", "forecourt-mpl"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_training(
    curve: list[dict],
    agent_prices: np.ndarray,
    optimal_prices: np.ndarray,
    unit_costs: np.ndarray,
    title: str,
    path: str | os.PathLike,
) -> Path:
    """Left: fraction of the optimum over training. Right: agent vs optimal price path."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    steps = [r["env_steps"] for r in curve]
    ax1.plot(steps, [100 * r["fraction"] for r in curve], lw=1.5, label="greedy policy")
    ax1.axhline(99, color="tab:red", ls="--", lw=1, label="99% target")
    ax1.set_ylim(max(0, min(80, min(100 * r["fraction"] for r in curve) - 2)), 100.5)
    ax1.set_xlabel("environment steps")
    ax1.set_ylabel("% of the exact (DP) optimum")
    ax1.set_title("Learning curve")
    ax1.legend(loc="lower right")
    ax1.grid(alpha=0.3)
    days = np.arange(1, len(agent_prices) + 1)
    ax2.step(days, optimal_prices, where="mid", lw=2.5, alpha=0.5, label="optimum (DP)")
    ax2.step(days, agent_prices, where="mid", lw=1.2, label="agent")
    ax2.plot(days, unit_costs, color="grey", ls=":", label="unit cost")
    ax2.set_xlabel("day")
    ax2.set_ylabel("$ per litre")
    ax2.set_title("Price path (first evaluation scenario)")
    ax2.legend(loc="best")
    ax2.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
