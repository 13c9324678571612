"""Validation of each day's pricing data (Great Expectations Core 1.x), with quarantine.

    validate_day(source, day, store_root, config)   accept a delivered file or quarantine it
    validate_frame(df, day, config, reference)      the same checks on a DataFrame, in memory
    validate_backfill(sources, store_root, config)  many days at once, fast

Importing this package does not import Great Expectations (about 2 s); the functions above
do, on first use.
"""

from __future__ import annotations

from typing import Any

from rl_core.validation.config import ValidationConfig
from rl_core.validation.errors import (
    DataReadError,
    DeliveryNotFoundError,
    InvalidValidationConfigError,
    ValidationFailedError,
)

__all__ = [
    "BackfillResult",
    "CheckResult",
    "DataReadError",
    "DeliveryNotFoundError",
    "InvalidValidationConfigError",
    "ValidationConfig",
    "ValidationFailedError",
    "ValidationResult",
    "validate_backfill",
    "validate_day",
    "validate_frame",
]

_LAZY = {
    "validate_day": "rl_core.validation.validate",
    "validate_frame": "rl_core.validation.validate",
    "validate_backfill": "rl_core.validation.backfill",
    "BackfillResult": "rl_core.validation.backfill",
    "CheckResult": "rl_core.validation.result",
    "ValidationResult": "rl_core.validation.result",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rl_core.validation' has no attribute {name!r}")
