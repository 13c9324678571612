"""The human approval gate in front of prod's `champion` alias: state kept in the registry.

A version imported into prod from preprod's outbox (rl_core.registry.handoff) carries
`forecourt.approval = pending`. A person approves or rejects it, by name and with a reason:

    forecourt registry approve profit 7 --by "Ana Ruiz" --reason "CAB-1234, preprod +2.1%"
    forecourt registry reject  profit 7 --by "Ana Ruiz" --reason "holiday freeze"

(or in the Airflow UI, where the promotion DAG's approval task records the same tags with
the UI user's name). Everything is a tag on the model version, so it is auditable where the
model is, across restarts and Airflow runs:

    forecourt.approval                 pending | approved | rejected
    forecourt.approval.by / .at / .reason
    forecourt.approval.bundle_sha256   the tree hash of the artifact that was approved
    forecourt.approval.history         JSON list of every decision on this version

`rl_core.registry.handoff.promote_approved` moves the alias only for an approved version whose
artifact still hashes to the approved sha. This module imports no torch (it runs on MWAA's
workers, in the DAG's gate task): only MLflow's client.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rl_core.registry.errors import RegistryError
from rl_core.registry.tracking import CHAMPION, client, model_name

APPROVAL = "forecourt.approval"
APPROVAL_BY = "forecourt.approval.by"
APPROVAL_AT = "forecourt.approval.at"
APPROVAL_REASON = "forecourt.approval.reason"
APPROVAL_SHA = "forecourt.approval.bundle_sha256"
APPROVAL_HISTORY = "forecourt.approval.history"
LINEAGE_SHA = "forecourt.lineage.bundle_sha256"  # set on import (rl_core.registry.handoff)

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
_HISTORY_KEEP = 20


class ApprovalError(RegistryError):
    """The approval gate refuses: not approved (pending or rejected), or not the approved
    artifact. Nothing was moved."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _version(agent: str, version: str | int):
    from mlflow.exceptions import MlflowException

    try:
        return client().get_model_version(model_name(agent), str(version))
    except MlflowException as exc:
        raise RegistryError(f"{model_name(agent)} has no version {version}") from exc


def champion(agent: str) -> str | None:
    """The version the `champion` alias points at (torch-free twin of promotion's)."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client().get_model_version_by_alias(model_name(agent), CHAMPION).version)
    except MlflowException:
        return None


def state(agent: str, version: str | int) -> dict:
    """The version's approval record: {state, by, at, reason, bundle_sha256, history, ...}.

    `state` is None for a version that never went through the gate (trained here, or
    imported without `require_approval`).
    """
    mv = _version(agent, version)
    tags = dict(mv.tags)
    try:
        history = json.loads(tags.get(APPROVAL_HISTORY, "[]"))
    except json.JSONDecodeError:
        history = []
    return {
        "agent": agent,
        "name": mv.name,
        "version": str(mv.version),
        "state": tags.get(APPROVAL),
        "by": tags.get(APPROVAL_BY),
        "at": tags.get(APPROVAL_AT),
        "reason": tags.get(APPROVAL_REASON),
        "bundle_sha256": tags.get(APPROVAL_SHA),
        "lineage_sha256": tags.get(LINEAGE_SHA),
        "history": history,
    }


def _decide(agent: str, version: str | int, decision: str, by: str, reason: str) -> dict:
    noun = "an approval" if decision == APPROVED else "a rejection"
    if not by or not by.strip():
        raise ApprovalError(f"{noun} needs a name (--by)")
    if not reason or not reason.strip():
        raise ApprovalError(f"{noun} needs a reason (--reason)")
    mv = _version(agent, version)
    tags = dict(mv.tags)
    sha = tags.get(LINEAGE_SHA)
    if not sha or APPROVAL not in tags:
        raise ApprovalError(
            f"{mv.name} v{mv.version} is not awaiting approval: the gate is for versions "
            "imported from the upstream account with require_approval (prod)"
        )
    at = _now()
    entry = {"decision": decision, "by": by.strip(), "at": at, "reason": reason.strip()[:500]}
    entry["bundle_sha256"] = sha
    try:
        history = json.loads(tags.get(APPROVAL_HISTORY, "[]"))
    except json.JSONDecodeError:
        history = []
    history.append(entry)
    c = client()
    name, v = mv.name, str(mv.version)
    c.set_model_version_tag(name, v, APPROVAL_BY, entry["by"][:250])
    c.set_model_version_tag(name, v, APPROVAL_AT, at)
    c.set_model_version_tag(name, v, APPROVAL_REASON, reason.strip()[:4000])
    c.set_model_version_tag(name, v, APPROVAL_SHA, sha if decision == APPROVED else "")
    c.set_model_version_tag(name, v, APPROVAL_HISTORY, json.dumps(history[-_HISTORY_KEEP:]))
    c.set_model_version_tag(name, v, APPROVAL, decision)  # last: the state flips when complete
    return state(agent, v)


def approve(agent: str, version: str | int, by: str, reason: str) -> dict:
    """Record that `by` approved `version` for prod (the artifact with its lineage sha)."""
    return _decide(agent, version, APPROVED, by, reason)


def reject(agent: str, version: str | int, by: str, reason: str) -> dict:
    """Record that `by` rejected `version`: `promote_approved` refuses it from now on."""
    return _decide(agent, version, REJECTED, by, reason)


def awaiting(agent: str) -> list[dict]:
    """Versions whose approval is pending, or approved but not yet the champion, oldest first."""
    from mlflow.exceptions import MlflowException

    try:
        found = client().search_model_versions(f"name = '{model_name(agent)}'")
    except MlflowException:
        return []
    champ = champion(agent)
    out = []
    for mv in sorted(found, key=lambda m: int(m.version)):
        st = mv.tags.get(APPROVAL)
        if st == PENDING or (st == APPROVED and str(mv.version) != champ):
            out.append(state(agent, mv.version))
    return out


def approve_command(agent: str, version: str | int) -> str:
    return f"forecourt registry approve {agent} {version} --by NAME --reason TEXT"


def check(agent: str, version: str | int) -> str:
    """`approved`, or `pending` (keep waiting); raises ApprovalError when rejected."""
    st = state(agent, version)
    if st["state"] == REJECTED:
        raise ApprovalError(
            f"{st['name']} v{st['version']} was rejected by {st['by']} at {st['at']}: "
            f"{st['reason']}"
        )
    if st["state"] == APPROVED:
        return APPROVED
    if st["state"] == PENDING:
        return PENDING
    raise ApprovalError(f"{st['name']} v{st['version']} is not awaiting approval")
