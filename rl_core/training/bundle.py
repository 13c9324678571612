"""A trained policy as one self-describing folder: what the registry stores and serving loads.

    <bundle>/policy.pt2    torch.export program: observations (N, OBS_DIM) -> Q-values (N, n_prices)
    <bundle>/bundle.json   {"format", "agent", "market", "evaluation", "hyperparameters",
                            "network" (station-aware bundles), ...}

The market inside is the one the policy prices into (its price grid, horizon and costs), so
whoever loads the bundle can turn a request (yesterday's price, today's cost) into the
observation the policy expects, and a price level back into $/L, without training code.
A station-aware bundle also carries its network (`"network"`): per station id its demand-
level feature (observation column 3 on the bundle market's grid) and unit-cost offset, and
the fallback for a station it does not know (the network's level: the bundle market's own),
so serving can look a station up by id. A bundle without one prices every station at the
fallback. The folder is written under a temporary name and renamed into place: a killed run never
leaves a half-written bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from rl_core.envs.observation import FEATURES, demand_level_feature
from rl_core.errors import ForecourtError
from rl_core.market.model import Market
from rl_core.training.export import export_policy, load_policy

if TYPE_CHECKING:
    from rl_core.market.network import StationNetwork
    from rl_core.training.train import TrainResult

FORMAT = 1
# the observation of bundles written before the station feature (issue 12) existed
LEGACY_FEATURES = FEATURES[:3]
POLICY_FILE = "policy.pt2"
BUNDLE_FILE = "bundle.json"
# where a station's demand level came from when pricing it (serving and batch)
FROM_REQUEST, FROM_NETWORK, FROM_FALLBACK = "request", "network", "fallback"


class BundleError(ForecourtError):
    """A folder that is not a complete, readable policy bundle."""


@dataclass(frozen=True)
class PolicyBundle:
    path: Path
    agent: str
    market: Market
    metadata: dict

    @property
    def features(self) -> tuple[str, ...]:
        """The observation columns its policy reads (bundles before issue 12: the first 3)."""
        return tuple(self.metadata.get("observation", LEGACY_FEATURES))

    def load_policy(self) -> torch.nn.Module:
        return load_policy(self.path / POLICY_FILE)

    @property
    def fallback_level(self) -> float:
        """The demand level of a station the bundle does not know: its network's level."""
        network = self.metadata.get("network") or {}
        fallback = network.get("fallback", {}).get("demand_level")
        return float(demand_level_feature(self.market) if fallback is None else fallback)

    def station_levels(self, station_ids) -> tuple[np.ndarray, list[str]]:
        """(demand-level feature, FROM_NETWORK | FROM_FALLBACK) per station id."""
        known = (self.metadata.get("network") or {}).get("stations", {})
        fallback = self.fallback_level
        levels, sources = [], []
        for sid in station_ids:
            entry = known.get(str(sid)) or known.get(str(sid).strip().upper())
            levels.append(fallback if entry is None else float(entry["demand_level"]))
            sources.append(FROM_FALLBACK if entry is None else FROM_NETWORK)
        return np.asarray(levels, dtype=np.float64), sources


def network_metadata(network: StationNetwork) -> dict:
    """What a bundle keeps of a station network: per station its feature and cost offset."""
    levels = network.levels()
    return {
        "fallback": {
            "demand_level": demand_level_feature(network.market),
            "unit_cost_offset": 0.0,
            "source": "network",
        },
        "stations": {
            s.station_id: {
                "demand_level": float(level),
                "unit_cost_offset": s.unit_cost_offset,
                "source": s.source,
            }
            for s, level in zip(network.stations, levels, strict=True)
        },
    }


def write_bundle(
    result: TrainResult,
    market: Market,
    directory: str | os.PathLike,
    *,
    network: StationNetwork | None = None,
    extra: dict | None = None,
) -> PolicyBundle:
    """Export `result`'s policy (parity-checked on `market`) into a new bundle folder.

    `network` (its market is `market`) makes the bundle station-aware; `extra` adds
    metadata (e.g. the network evaluation)."""
    final = Path(directory)
    if final.exists():
        raise BundleError(f"{final} already exists: bundles are immutable, pick a new folder")
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        exported = export_policy(result.agent, tmp / POLICY_FILE, [market])
        metadata = {
            "format": FORMAT,
            "agent": result.objective,
            "observation": list(FEATURES),
            "market": market.to_dict(),
            "evaluation": result.evaluation.to_dict(),
            "hyperparameters": result.config.to_dict(),
            "env_steps": result.env_steps,
            "updates": result.updates,
            "export": {k: v for k, v in exported.to_dict().items() if k != "path"},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **(extra or {}),
        }
        if network is not None:
            metadata["network"] = network_metadata(network)
        (tmp / BUNDLE_FILE).write_text(json.dumps(metadata, indent=2, default=str))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PolicyBundle(final, result.objective, market, metadata)


def read_bundle(directory: str | os.PathLike) -> PolicyBundle:
    """Open a bundle folder, checking it is complete (both files, a known format)."""
    path = Path(directory)
    missing = [f for f in (POLICY_FILE, BUNDLE_FILE) if not (path / f).is_file()]
    if missing:
        raise BundleError(f"{path} is not a policy bundle: missing {', '.join(missing)}")
    try:
        metadata = json.loads((path / BUNDLE_FILE).read_text())
        market = Market.from_dict(metadata["market"])
        agent = metadata["agent"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BundleError(f"{path / BUNDLE_FILE} is unreadable: {exc}") from exc
    if metadata.get("format") != FORMAT:
        raise BundleError(f"{path} has bundle format {metadata.get('format')}, expected {FORMAT}")
    return PolicyBundle(path, agent, market, metadata)
