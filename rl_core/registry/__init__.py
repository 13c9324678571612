"""Model registry and champion/challenger promotion (MLflow), see docs/registry.md.

info = register_challenger(result, bundle, data_window=window, market=market)
decision = decide("profit", info.version, todays_market)    # promotes if it wins
judge(contest, Thresholds())  # the pure rules behind decide, on evaluated returns
champion_bundle("profit")   # -> (PolicyBundle, "3") or None; what serving loads
"""

import importlib
from typing import Any

# MLflow's telemetry is off before any submodule can import it: rl_core/__init__.py

# imported on first use, so `forecourt --help` and the DAG parser never load MLflow
_LAZY = {
    "decide": "rl_core.registry.compare",
    "scenarios": "rl_core.registry.compare",
    "Contest": "rl_core.registry.judgement",
    "Decision": "rl_core.registry.judgement",
    "Evaluated": "rl_core.registry.judgement",
    "Guardrails": "rl_core.registry.judgement",
    "Thresholds": "rl_core.registry.judgement",
    "judge": "rl_core.registry.judgement",
    "record_decision": "rl_core.registry.record",
    "ChampionChangedError": "rl_core.registry.errors",
    "RegistryError": "rl_core.registry.errors",
    "apply_decision": "rl_core.registry.promotion",
    "champion_bundle": "rl_core.registry.promotion",
    "champion_version": "rl_core.registry.promotion",
    "download_bundle": "rl_core.registry.promotion",
    "history": "rl_core.registry.promotion",
    "promote": "rl_core.registry.promotion",
    "rollback": "rl_core.registry.promotion",
    "registry_overview": "rl_core.registry.overview",
    "ModelVersionInfo": "rl_core.registry.register",
    "code_version": "rl_core.registry.register",
    "register_challenger": "rl_core.registry.register",
    "CHAMPION": "rl_core.registry.tracking",
    "model_name": "rl_core.registry.tracking",
    "tracking_uri": "rl_core.registry.tracking",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rl_core.registry' has no attribute {name!r}")
