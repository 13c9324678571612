"""The `champion` alias: who is in service, when it moves, moving it, rolling it back.

The promotion rules live here, in one place (`promotion_move`, pure): what a decision
(`rl_core.registry.judgement`) moves, given a dry run or a forced promotion.
`apply_decision` carries the move out for the pipeline's `promote_or_keep` step, and
`compare.decide(apply=True)` applies the same rules to a fresh decision.

Each registered model keeps, as tags, the lineage of champions (`forecourt.champion_stack`,
a JSON list of versions, the last one in service) and an audit log of alias moves
(`forecourt.champion_history`). `promote` pushes onto the stack, `rollback` pops it.
Moves are serialised by a lock file next to the local tracking DB (on a remote tracking
server, by the DAG running one retraining at a time) and each re-checks, under the lock,
that the champion is still the one the caller evaluated against.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mlflow.exceptions import MlflowException

from rl_core import paths
from rl_core.registry.errors import ChampionChangedError, RegistryError
from rl_core.registry.register import BUNDLE_ARTIFACT
from rl_core.registry.tracking import CHAMPION, client, mlflow_dir, model_name
from rl_core.training.bundle import BundleError, PolicyBundle, read_bundle

STACK_TAG = "forecourt.champion_stack"
HISTORY_TAG = "forecourt.champion_history"
_HISTORY_KEEP = 20
_STACK_KEEP = 50


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def champion_version(agent: str) -> str | None:
    """The version the `champion` alias points at, or None (one registry call)."""
    c = client()
    try:
        return str(c.get_model_version_by_alias(model_name(agent), CHAMPION).version)
    except MlflowException:
        return None


def get_version(agent: str, version: str | int):
    """The MLflow ModelVersion `version` of `agent`'s registered model (RegistryError if none)."""
    c = client()
    try:
        return c.get_model_version(model_name(agent), str(version))
    except MlflowException as exc:
        raise RegistryError(f"{model_name(agent)} has no version {version}") from exc


def download_bundle(agent: str, version: str | int, dest_dir: str | os.PathLike | None = None):
    """Download a version's bundle to `<dest_dir>/<model>-v<version>` (reused if present).

    Default `dest_dir`: <FORECOURT_HOME>/models/registry. Versions are immutable, so a
    complete local copy is never downloaded twice; the copy is renamed into place whole.
    """
    mv = get_version(agent, version)
    base = Path(dest_dir) if dest_dir is not None else paths.models_dir() / "registry"
    final = base / f"{mv.name}-v{mv.version}"
    with contextlib.suppress(BundleError):
        return read_bundle(final)
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        got = client().download_artifacts(mv.run_id, BUNDLE_ARTIFACT, str(tmp))
        read_bundle(got)  # complete before it becomes visible
        if final.exists():
            shutil.rmtree(final)  # an incomplete leftover (the complete case returned above)
        os.replace(got, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return read_bundle(final)


def champion_bundle(
    agent: str, dest_dir: str | os.PathLike | None = None
) -> tuple[PolicyBundle, str] | None:
    """The champion's bundle, downloaded locally, and its version; None with no champion."""
    version = champion_version(agent)
    if version is None:
        return None
    return download_bundle(agent, version, dest_dir), version


@contextlib.contextmanager
def _alias_lock(agent: str):
    folder = mlflow_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{model_name(agent)}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _model_tags(c, name: str) -> dict:
    return dict(c.get_registered_model(name).tags)


def _json_tag(tags: dict, key: str) -> list:
    try:
        value = json.loads(tags.get(key, "[]"))
        return value if isinstance(value, list) else []
    except json.JSONDecodeError:
        return []


def _move(c, agent: str, version: str, *, action: str, previous: str | None, reason: str) -> dict:
    name = model_name(agent)
    tags = _model_tags(c, name)
    stack = _json_tag(tags, STACK_TAG)
    history = _json_tag(tags, HISTORY_TAG)
    c.set_registered_model_alias(name, CHAMPION, version)  # the one atomic step
    if action == "promote":
        if previous is not None and (not stack or stack[-1] != previous):
            stack.append(previous)  # alias set outside this module: keep the lineage right
        stack.append(version)
    else:
        stack = stack[:-1]
    entry = {
        "action": action,
        "version": version,
        "previous": previous,
        "reason": reason[:300],
        "at": _now(),
    }
    history.append(entry)
    c.set_registered_model_tag(name, STACK_TAG, json.dumps(stack[-_STACK_KEEP:]))
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-_HISTORY_KEEP:]))
    c.set_model_version_tag(name, version, "forecourt.status", "champion")
    past = "promoted" if action == "promote" else "restored"
    c.set_model_version_tag(name, version, f"forecourt.{past}_at", entry["at"])
    c.set_model_version_tag(name, version, f"forecourt.{action}_reason", reason[:4000])
    if action == "promote":
        c.set_model_version_tag(name, version, "forecourt.previous_champion", previous or "")
    else:
        c.set_model_version_tag(name, version, "forecourt.restored_from", previous or "")
    if previous is not None and previous != version:
        status = "retired" if action == "promote" else "rolled_back"
        c.set_model_version_tag(name, previous, "forecourt.status", status)
        c.set_model_version_tag(name, previous, f"forecourt.{status}_at", entry["at"])
    return {"agent": agent, "name": name, **entry}


def promote(agent: str, version: str | int, *, expected_champion: str | None, reason: str) -> dict:
    """Point `champion` at `version` if the champion is still `expected_champion`.

    `expected_champion` is the version the caller evaluated against (None: there was no
    champion). Raises ChampionChangedError, moving nothing, if it changed meanwhile.
    Returns the recorded move {action, version, previous, reason, at}.
    """
    if not reason or not reason.strip():
        raise RegistryError("a promotion needs a reason")
    version = str(get_version(agent, version).version)
    expected = None if expected_champion is None else str(expected_champion)
    c = client()
    with _alias_lock(agent):
        current = champion_version(agent)
        if current != expected:
            raise ChampionChangedError(
                f"{model_name(agent)}: the champion changed since the evaluation "
                f"(expected {expected or 'none'}, now {current or 'none'}); "
                "evaluate again against the current champion"
            )
        if current == version:
            raise RegistryError(f"{model_name(agent)} version {version} is already the champion")
        return _move(c, agent, version, action="promote", previous=current, reason=reason)


def rollback(agent: str, reason: str) -> dict:
    """Put the previous champion back (recorded with `reason`)."""
    if not reason or not reason.strip():
        raise RegistryError("a rollback needs a reason")
    c = client()
    name = model_name(agent)
    with _alias_lock(agent):
        current = champion_version(agent)
        if current is None:
            raise RegistryError(f"{name} has no champion to roll back")
        stack = _json_tag(_model_tags(c, name), STACK_TAG)
        if stack and stack[-1] == current:
            if len(stack) < 2:
                raise RegistryError(f"{name} version {current} has no previous champion")
            previous = stack[-2]
        else:  # the alias was moved outside this module: fall back on the version's record
            mv = c.get_model_version(name, current)
            previous = mv.tags.get("forecourt.previous_champion") or None
            if previous is None:
                raise RegistryError(f"{name} version {current} has no previous champion")
            stack = [previous, current]
            c.set_registered_model_tag(name, STACK_TAG, json.dumps(stack))
        get_version(agent, previous)
        return _move(c, agent, previous, action="rollback", previous=current, reason=reason)


def history(agent: str) -> list[dict]:
    """Recorded alias moves, oldest first (the last 20)."""
    c = client()
    try:
        return _json_tag(_model_tags(c, model_name(agent)), HISTORY_TAG)
    except MlflowException:
        return []


# ---- the promotion rules: what a decision moves ----------------------------------------------


@dataclass(frozen=True)
class Move:
    """What the promotion rules make of a decision."""

    action: str  # promoted | forced | dry-run | kept | rejected
    reason: str  # why, as promotion.json records it
    promote_reason: str | None = None  # the alias moves, with this reason, only when set


def promotion_move(
    decision: Mapping,
    *,
    dry_run: bool = False,
    force: bool = False,
    force_reason: str = "",
    run_id: str | None = None,
) -> Move:
    """The promotion rules (pure), on a decision record (`Decision.to_record()`, the
    content of decision.json), in order:

    * a dry run moves nothing and says what the decision would have done;
    * a `promoted` decision moves the alias (superiority, or non-inferiority for a first
      model: the judgement's rules);
    * a forced promotion (`force`, `force_reason`) overrides the comparison but never the
      guardrails, and does nothing for the version already in service;
    * otherwise the champion stays: the action is the decision's outcome (kept, rejected).

    The alias move's recorded reason cites `run_id` where there is one (the pipeline run).
    """
    outcome, why = decision["outcome"], decision["reason"]
    if dry_run:
        return Move("dry-run", f"dry run: would have been {outcome} ({why})")
    if outcome == "promoted":
        by = f"run {run_id}: " if run_id else ""
        return Move("promoted", why, by + decision["summary"])
    if force and decision["champion_version"] != decision["challenger_version"]:
        failed = [c["name"] for c in decision["guardrails"] if not c["passed"]]
        if failed:
            refused = f"force promotion refused: guardrails failed ({', '.join(failed)})"
            return Move(outcome, refused)
        return Move(
            "forced",
            f"forced: {force_reason}",
            f"FORCED by run {run_id}: {force_reason} (the comparison said {outcome}: {why})",
        )
    return Move(outcome, why)


def carry_out(agent: str, decision: Mapping, move: Move) -> bool:
    """Make `move`: promote the challenger, compare-and-set against the champion the
    decision evaluated (ChampionChangedError, nothing moved, if it changed). Whether the
    alias moved."""
    if move.promote_reason is None:
        return False
    promote(
        agent,
        decision["challenger_version"],
        expected_champion=decision["champion_version"],
        reason=move.promote_reason,
    )
    return True


def apply_decision(
    agent: str,
    decision: Mapping,
    *,
    dry_run: bool = False,
    force: bool = False,
    force_reason: str = "",
    run_id: str | None = None,
) -> dict:
    """Apply the promotion rules to a recorded decision and carry the move out: the
    pipeline's promote_or_keep. Returns what promotion.json records: {agent,
    challenger_version, action, reason, champion_version (after the move)}."""
    move = promotion_move(
        decision, dry_run=dry_run, force=force, force_reason=force_reason, run_id=run_id
    )
    carry_out(agent, decision, move)
    return {
        "agent": agent,
        "challenger_version": decision["challenger_version"],
        "action": move.action,
        "reason": move.reason,
        "champion_version": champion_version(agent),
    }
