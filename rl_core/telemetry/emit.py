"""One metrics interface, three sinks (FORECOURT_METRICS):

- `local` (default): one JSON line per data point in <FORECOURT_HOME>/telemetry/metrics.jsonl,
  read by the run report and the Airflow plugin.
- `cloudwatch`: PutMetricData into the `Forecourt` namespace (FORECOURT_METRICS_NAMESPACE),
  with the Environment dimension from FORECOURT_ENV; what the dashboards in
  terraform/modules/monitoring read.
- `off`: nothing.

Telemetry never fails the job it observes: a sink error is logged and dropped.
"""

from __future__ import annotations

import json
import logging
import math
import os
from datetime import UTC, datetime

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.telemetry.catalogue import METRICS, NAMESPACE

log = logging.getLogger(__name__)
SINKS = ("local", "cloudwatch", "off")


def sink() -> str:
    name = os.environ.get("FORECOURT_METRICS", "local").strip().lower()
    if name not in SINKS:
        raise ForecourtError(f"FORECOURT_METRICS={name!r}: use one of {', '.join(SINKS)}")
    return name


def environment() -> str:
    return os.environ.get("FORECOURT_ENV", "local")


def metrics_file():
    return paths.home() / "telemetry" / "metrics.jsonl"


def emit(name: str, value: float, **dimensions: str) -> dict | None:
    """Record one data point of a catalogued metric; returns it (None when not recorded)."""
    spec = METRICS.get(name)
    if spec is None:
        raise ForecourtError(f"unknown metric {name!r}: add it to rl_core/telemetry/catalogue.py")
    if set(dimensions) != set(spec.dimensions):
        raise ForecourtError(
            f"metric {name} takes dimensions {list(spec.dimensions)}, got {sorted(dimensions)}"
        )
    value = float(value)
    if not math.isfinite(value):
        log.warning("metric %s dropped: value %r is not finite", name, value)
        return None
    point = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "namespace": os.environ.get("FORECOURT_METRICS_NAMESPACE", NAMESPACE),
        "name": name,
        "value": value,
        "unit": spec.unit,
        "dimensions": {"Environment": environment(), **{k: str(v) for k, v in dimensions.items()}},
    }
    where = sink()
    try:
        if where == "local":
            path = metrics_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as fh:  # one short append per point: whole lines
                fh.write(json.dumps(point) + "\n")
        elif where == "cloudwatch":
            _put_metric_data(point)
        else:
            return None
    except Exception as exc:  # noqa: BLE001 - telemetry must never fail the job
        log.warning("metric %s not recorded (%s sink): %s", name, where, exc)
        return None
    return point


def _put_metric_data(point: dict) -> None:
    import boto3

    boto3.client("cloudwatch").put_metric_data(
        Namespace=point["namespace"],
        MetricData=[
            {
                "MetricName": point["name"],
                "Value": point["value"],
                "Unit": point["unit"],
                "Dimensions": [{"Name": k, "Value": v} for k, v in point["dimensions"].items()],
            }
        ],
    )


def read_local(name: str | None = None) -> list[dict]:
    """Points recorded by the local sink, oldest first (optionally one metric's)."""
    path = metrics_file()
    if not path.is_file():
        return []
    points = []
    for line in path.read_text().splitlines():
        try:
            point = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash: skip it, keep the rest
        if name is None or point.get("name") == name:
            points.append(point)
    return points
