"""Deploy the champion of an agent: the registry's `champion` alias -> its SageMaker endpoint.

    released = deploy_champion("profit", DeployConfig.from_env())   # None: no champion
    released.record        DeployRecord (created | updated | unchanged)
    released.pruned        PruneRecord: old models/configurations deleted (or None)

The one function both callers use: the daily run's `deploy_champion` step (after
promote_or_keep) and `forecourt registry rollback` (the alias moved back: serve that
version again). It downloads the version's bundle from the registry, deploys it
(rl_core.serving.deploy: a no-op when the endpoint serves it already), prunes what older
deployments left, and tags the model version with the outcome (`forecourt.deploy`,
`forecourt.deploy_reason`, `forecourt.deploy_at`), failures included, so the registry says
whether and why a version is (not) in service. Data flows one way: serving imports the
registry, never the reverse (the registry CLI imports this module inside its command).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rl_core.serving.deploy import (
    KEEP_DEPLOYMENTS,
    DeployConfig,
    DeployError,
    DeployFailedError,
    DeploymentInProgressError,
    DeployRecord,
    DeployRefusedError,
    DeployTimeoutError,
    PruneRecord,
    deploy,
    prune,
)

log = logging.getLogger(__name__)

TAG_DEPLOY = "forecourt.deploy"
TAG_DEPLOY_REASON = "forecourt.deploy_reason"
TAG_DEPLOY_AT = "forecourt.deploy_at"


@dataclass(frozen=True)
class Release:
    """A champion deployed: what `deploy` did and what pruning removed afterwards."""

    record: DeployRecord
    pruned: PruneRecord | None
    prune_error: str | None = None

    def to_dict(self) -> dict:
        return {
            **self.record.to_dict(),
            "pruned": self.pruned.to_dict() if self.pruned else None,
            "prune_error": self.prune_error,
        }


def outcome_of(exc: BaseException) -> str:
    """A deploy error as one word: failed | refused | in-progress | timeout | error."""
    kinds = (
        (DeployFailedError, "failed"),
        (DeployRefusedError, "refused"),
        (DeploymentInProgressError, "in-progress"),
        (DeployTimeoutError, "timeout"),
    )
    return next((word for kind, word in kinds if isinstance(exc, kind)), "error")


def deploy_champion(
    agent: str,
    config: DeployConfig,
    *,
    version: str | None = None,
    keep: int = KEEP_DEPLOYMENTS,
    dest_dir: str | os.PathLike | None = None,
    client: Any = None,
    s3: Any = None,
    **deploy_args: Any,
) -> Release | None:
    """Deploy `agent`'s champion (or `version`: the champion the caller just read).

    None when there is no champion. Raises what `deploy` raises, after tagging the version
    with the outcome; pruning problems are logged and reported, never raised (the new
    model is in service by then).
    """
    from rl_core.registry.promotion import champion_version, download_bundle

    version = version if version is not None else champion_version(agent)
    if version is None:
        log.info("%s: no champion, nothing to deploy", agent)
        return None
    bundle = download_bundle(agent, version, dest_dir)
    try:
        record = deploy(agent, version, bundle.path, config, client=client, s3=s3, **deploy_args)
    except DeployError as exc:
        tag_deploy(agent, version, outcome_of(exc), str(exc))
        raise
    tag_deploy(
        agent,
        version,
        "deployed",
        f"{record.status}: {record.endpoint} on {record.endpoint_config}",
    )
    if record.status == "submitted":  # still changing: pruning now could race SageMaker
        return Release(record, None)
    try:
        pruned = prune(
            agent, config, keep=keep, protect=(record.previous_endpoint_config,), client=client
        )
    except Exception as exc:  # noqa: BLE001 - housekeeping must not fail a deployment
        log.warning("%s: pruning old deployments failed: %s", agent, exc)
        return Release(record, None, f"{type(exc).__name__}: {exc}")
    return Release(record, pruned)


def tag_deploy(agent: str, version: str, outcome: str, reason: str) -> None:
    """Record on the model version whether and why it was (not) deployed (best effort)."""
    from rl_core.registry.tracking import client, model_name

    try:
        c = client()
        name = model_name(agent)
        c.set_model_version_tag(name, version, TAG_DEPLOY, outcome)
        c.set_model_version_tag(name, version, TAG_DEPLOY_REASON, reason[:4000])
        c.set_model_version_tag(
            name, version, TAG_DEPLOY_AT, datetime.now(UTC).isoformat(timespec="seconds")
        )
    except Exception as exc:  # noqa: BLE001 - the deploy's own outcome matters more
        log.warning(
            "%s v%s: could not tag the deploy outcome (%s): %s", agent, version, outcome, exc
        )
