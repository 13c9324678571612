"""Serving: the champion policies behind SageMaker's /ping and /invocations, plus batch
recommendations written to the store. See rl_core.serving.app and rl_core.serving.batch."""

import importlib
from typing import Any

# imported on first use: batch recommendations need no FastAPI, the CLI parser nothing
_LAZY = {
    "ModelHolder": "rl_core.serving.app",
    "create_app": "rl_core.serving.app",
    "read_recommendations": "rl_core.serving.batch",
    "recommend_batch": "rl_core.serving.batch",
    "write_recommendations": "rl_core.serving.batch",
    "InvalidInputError": "rl_core.serving.predictor",
    "LoadedModel": "rl_core.serving.predictor",
    "DirectorySource": "rl_core.serving.sources",
    "ModelSource": "rl_core.serving.sources",
    "RegistrySource": "rl_core.serving.sources",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rl_core.serving' has no attribute {name!r}")
