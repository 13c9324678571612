"""Failure notifications: always to the local log file, and to SNS on AWS.

Configuration, not code: FORECOURT_SNS_TOPIC_ARN set (Terraform sets it on MWAA) adds an
SNS message per failed task. A notification that cannot be sent is logged, never raised:
it must not hide the failure it reports.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

from rl_core import paths
from rl_core.telemetry import emit

log = logging.getLogger(__name__)


def failures_file():
    return paths.home() / "notifications" / "failures.jsonl"


def task_failed(
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    try_number: int | None = None,
    error: str = "",
    log_url: str | None = None,
    plan: str | None = None,
) -> dict:
    """Record and send one task failure. Returns the message."""
    task = task_id if map_index is None or map_index < 0 else f"{task_id}[{map_index}]"
    message = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dag_id": dag_id,
        "run_id": run_id,
        "task": task,
        "try_number": try_number,
        "error": error[:2000],
        "log_url": log_url,
    }
    log.error("Forecourt task failed: %s in %s (%s): %s", task, dag_id, run_id, error[:500])
    path = failures_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(json.dumps(message) + "\n")
    if plan:  # beside the run's records, so the run report names the failed step
        try:
            from rl_core.pipeline import runfolder
            from rl_core.pipeline.plan import Plan

            folder = runfolder.join(Plan.load(plan).folder, "failures")
            runfolder.save(folder, f"{task}.failed.json", {"step": task, **message})
        except Exception as exc:  # noqa: BLE001 - the failure is recorded in the log anyway
            log.error("could not record the failure in the run folder of %s: %s", plan, exc)
    emit("TaskFailures", 1, Task=task_id)
    topic = os.environ.get("FORECOURT_SNS_TOPIC_ARN")
    if topic:
        try:
            import boto3

            boto3.client("sns").publish(
                TopicArn=topic,
                Subject=f"Forecourt: {task} failed"[:100],
                Message=json.dumps(message, indent=2),
            )
            message["sns"] = topic
        except Exception as exc:  # noqa: BLE001 - the failure itself is already recorded
            log.error("could not notify SNS topic %s: %s", topic, exc)
    return message
