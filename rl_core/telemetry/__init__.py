"""Telemetry: the metrics Forecourt emits (catalogue) and where they go (emit)."""

from rl_core.telemetry.catalogue import METRICS, NAMESPACE, MetricSpec
from rl_core.telemetry.emit import emit, read_local

__all__ = ["METRICS", "NAMESPACE", "MetricSpec", "emit", "read_local"]
