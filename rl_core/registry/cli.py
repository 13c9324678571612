"""`forecourt registry list|show|promote|rollback`: the Model Registry from the shell.

Wired into `forecourt` by rl_core/cli.py (`add_registry_parser`):

    forecourt registry list                          versions of both agents, champion marked
    forecourt registry show AGENT [VERSION]          one version (default: the champion)
    forecourt registry promote AGENT VERSION --reason R [--expected-champion V]
    forecourt registry rollback AGENT --reason R [--no-deploy]
                                                     put the previous champion back (and
                                                     redeploy it when FORECOURT_SAGEMAKER
                                                     is set)

Cross-account promotion (rl_core.registry.handoff, rl_core.registry.approval,
docs/promotion.md):

    forecourt registry propose AGENT [VERSION] [--outbox URI]   publish a promotion package
    forecourt registry pending AGENT [--source URI]   awaiting approval / not yet imported
    forecourt registry import PACKAGE_URI [--require-approval]
    forecourt registry receive AGENT [--source URI] (--validate [--outbox URI] [--market M]
                                                     | --require-approval)
    forecourt registry approve AGENT VERSION --by NAME --reason TEXT
    forecourt registry reject AGENT VERSION --by NAME --reason TEXT
    forecourt registry promote-approved AGENT VERSION [--no-deploy]
                                                     (and deploy it when FORECOURT_SAGEMAKER
                                                     is set: prod's endpoint serves it)

A human summary goes to stdout; with `--json` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys

from rl_core.market.model import OBJECTIVES

_NONE = "none"


def add_registry_parser(subparsers) -> argparse.ArgumentParser:
    """Add `registry` (and its sub-commands) to `forecourt`'s sub-commands."""
    p = subparsers.add_parser(
        "registry",
        help="model registry: versions, champion, promotion, rollback",
        description="MLflow Model Registry of the pricing agents (forecourt-demand, "
        "forecourt-profit); the alias `champion` marks the version in service.",
    )
    sub = p.add_subparsers(title="registry commands")

    ls = sub.add_parser("list", help="registered versions of both agents, champion marked")
    ls.add_argument("agent", nargs="?", choices=OBJECTIVES, help="only this agent")
    _json(ls)
    ls.set_defaults(run=cmd_list)

    show = sub.add_parser("show", help="one version's metrics, tags and decision")
    show.add_argument("agent", choices=OBJECTIVES)
    show.add_argument("version", nargs="?", help="default: the champion")
    _json(show)
    show.set_defaults(run=cmd_show)

    pr = sub.add_parser("promote", help="make VERSION the champion (forced, with a reason)")
    pr.add_argument("agent", choices=OBJECTIVES)
    pr.add_argument("version")
    pr.add_argument("--reason", required=True, help="why (recorded on the model)")
    pr.add_argument(
        "--expected-champion",
        default=None,
        help="refuse unless this version (or 'none') is the champion now (default: the "
        "champion read just before the move)",
    )
    _json(pr)
    pr.set_defaults(run=cmd_promote)

    rb = sub.add_parser("rollback", help="put the previous champion back")
    rb.add_argument("agent", choices=OBJECTIVES)
    rb.add_argument("--reason", required=True, help="why (recorded on the model)")
    rb.add_argument(
        "--no-deploy",
        action="store_true",
        help="only move the alias; by default the restored champion is redeployed to its "
        "SageMaker endpoint when FORECOURT_SAGEMAKER is set",
    )
    _json(rb)
    rb.set_defaults(run=cmd_rollback)
    _add_handoff(sub)
    p.set_defaults(run=lambda args: p.print_help())
    return p


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _say(args, text: str) -> None:
    print(text, file=sys.stderr if args.json else sys.stdout)


def _version_dict(mv, champion: str | None) -> dict:
    tags = dict(mv.tags)
    return {
        "version": str(mv.version),
        "champion": str(mv.version) == champion,
        "status": tags.get("forecourt.status"),
        "fraction_of_optimum": _num(tags.get("forecourt.eval.fraction_of_optimum")),
        "total_reward": _num(tags.get("forecourt.eval.total_reward")),
        "decision": tags.get("forecourt.decision"),
        "code_version": tags.get("forecourt.code_version"),
        "run_id": mv.run_id,
        "created": mv.creation_timestamp,
    }


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _versions(agent: str) -> list:
    from mlflow.exceptions import MlflowException

    from rl_core.registry.tracking import client, model_name

    try:
        found = client().search_model_versions(f"name = '{model_name(agent)}'")
    except MlflowException:
        return []
    return sorted(found, key=lambda mv: int(mv.version))


def cmd_list(args) -> dict:
    from rl_core.registry.promotion import champion_version
    from rl_core.registry.tracking import model_name, tracking_uri

    out = {"tracking_uri": tracking_uri(), "models": {}}
    for agent in [args.agent] if args.agent else OBJECTIVES:
        champ = champion_version(agent)
        rows = [_version_dict(mv, champ) for mv in _versions(agent)]
        out["models"][agent] = {"name": model_name(agent), "champion": champ, "versions": rows}
        _say(args, f"{model_name(agent)}: champion {'v' + champ if champ else _NONE}")
        for r in rows:
            frac = r["fraction_of_optimum"]
            _say(
                args,
                f"  {'*' if r['champion'] else ' '} v{r['version']:<4} "
                f"{(f'{frac:.2%}' if frac is not None else '?'):>8}  "
                f"status={r['status']} decision={r['decision'] or '-'}",
            )
    return out


def cmd_show(args) -> dict:
    from rl_core.registry.errors import RegistryError
    from rl_core.registry.promotion import champion_version, get_version, history
    from rl_core.registry.tracking import client

    champ = champion_version(args.agent)
    version = args.version or champ
    if version is None:
        raise RegistryError(f"{args.agent} has no champion: name a VERSION")
    mv = get_version(args.agent, version)
    run = client().get_run(mv.run_id)
    out = {
        **_version_dict(mv, champ),
        "name": mv.name,
        "source": mv.source,
        "tags": dict(mv.tags),
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
        "history": history(args.agent),
    }
    _say(args, f"{mv.name} v{mv.version}{' (champion)' if out['champion'] else ''}")
    for key in ("status", "fraction_of_optimum", "total_reward", "decision", "code_version"):
        _say(args, f"  {key}: {out[key]}")
    for key in ("forecourt.decision.reason", "forecourt.data_window", "forecourt.decision.report"):
        if key in out["tags"]:
            _say(args, f"  {key.removeprefix('forecourt.')}: {out['tags'][key]}")
    _say(args, f"  run: {mv.run_id}  source: {mv.source}")
    return out


def cmd_promote(args) -> dict:
    from rl_core.registry.promotion import champion_version, promote

    if args.expected_champion is None:
        expected = champion_version(args.agent)
    else:
        expected = None if args.expected_champion.lower() == _NONE else args.expected_champion
    move = promote(args.agent, args.version, expected_champion=expected, reason=args.reason)
    _say(args, f"{move['name']}: champion v{move['previous'] or '-'} -> v{move['version']}")
    return move


def cmd_rollback(args) -> dict:
    from rl_core.registry.promotion import rollback

    move = rollback(args.agent, args.reason)
    _say(args, f"{move['name']}: rolled back v{move['previous']} -> v{move['version']}")
    if not args.no_deploy:
        move["deploy"] = _redeploy(args, move["version"])
    return move


def _redeploy(args, version: str) -> dict | None:
    """Serve the champion the alias now names on the agent's endpoint (None: deployment
    is off). A rollback and prod's promote-approved both end here."""
    # imported here: the registry never imports serving at import time (data flows one way)
    from rl_core.serving.deploy_config import ENV_VAR, DeployConfig, DeployError

    config = DeployConfig.from_env()
    if config is None:
        _say(args, f"{ENV_VAR} is unset: no endpoint redeployed")
        return None
    from rl_core.serving.release import deploy_champion

    try:
        released = deploy_champion(args.agent, config, version=version)
    except DeployError as exc:
        raise DeployError(
            f"the champion alias names v{version}, but its endpoint was not redeployed: {exc}"
        ) from exc
    record = released.record
    _say(
        args,
        f"{record.endpoint}: v{record.previous_version or '-'} -> v{record.version} "
        f"({record.status}, {record.seconds:.0f} s)",
    )
    return released.to_dict()


# ---- cross-account promotion ------------------------------------------------------------------

SOURCE_ENV = "FORECOURT_PROMOTION_SOURCE"
OUTBOX_ENV = "FORECOURT_PROMOTION_OUTBOX"


def _add_handoff(sub) -> None:
    pp = sub.add_parser("propose", help="publish a version (default: the champion) as a package")
    pp.add_argument("agent", choices=OBJECTIVES)
    pp.add_argument("version", nargs="?", help="default: the champion")
    pp.add_argument("--outbox", default=None, help=f"outbox URI (default ${OUTBOX_ENV})")
    pp.add_argument("--note", default="", help="recorded in the manifest")
    _json(pp)
    pp.set_defaults(run=cmd_propose)

    pe = sub.add_parser(
        "pending", help="versions awaiting approval here, and upstream packages not yet imported"
    )
    pe.add_argument("agent", choices=OBJECTIVES)
    pe.add_argument("--source", default=None, help=f"upstream outbox URI (default ${SOURCE_ENV})")
    _json(pe)
    pe.set_defaults(run=cmd_pending)

    im = sub.add_parser("import", help="verify a promotion package and register it here")
    im.add_argument("package", help="the package folder's URI")
    im.add_argument("--require-approval", action="store_true", help="prod: pending approval")
    _json(im)
    im.set_defaults(run=cmd_import)

    rc = sub.add_parser(
        "receive", help="the newest upstream package: validate and forward, or hold for approval"
    )
    rc.add_argument("agent", choices=OBJECTIVES)
    rc.add_argument("--source", default=None, help=f"upstream outbox URI (default ${SOURCE_ENV})")
    mode = rc.add_mutually_exclusive_group(required=True)
    mode.add_argument("--validate", action="store_true", help="preprod: decide and forward")
    mode.add_argument("--require-approval", action="store_true", help="prod: pending approval")
    rc.add_argument("--outbox", default=None, help=f"with --validate (default ${OUTBOX_ENV})")
    rc.add_argument(
        "--market",
        default=None,
        help="with --validate: market or calibration JSON URI (default: the newest calibration "
        "of this account's daily runs)",
    )
    _json(rc)
    rc.set_defaults(run=cmd_receive)

    for verb, helptext in (("approve", "approve VERSION for prod"), ("reject", "reject VERSION")):
        ap = sub.add_parser(verb, help=helptext + " (recorded on the version)")
        ap.add_argument("agent", choices=OBJECTIVES)
        ap.add_argument("version")
        ap.add_argument("--by", required=True, help="who decides (recorded)")
        ap.add_argument("--reason", required=True, help="why (recorded)")
        _json(ap)
        ap.set_defaults(run=cmd_approve if verb == "approve" else cmd_reject)

    pa = sub.add_parser(
        "promote-approved", help="make an approved version the champion (checks its hash)"
    )
    pa.add_argument("agent", choices=OBJECTIVES)
    pa.add_argument("version")
    pa.add_argument(
        "--no-deploy",
        action="store_true",
        help="only move the alias; by default the new champion is deployed to its SageMaker "
        "endpoint when FORECOURT_SAGEMAKER is set",
    )
    _json(pa)
    pa.set_defaults(run=cmd_promote_approved)


def _uri(value: str | None, env: str, what: str) -> str:
    import os

    from rl_core.registry.errors import RegistryError

    uri = value or os.environ.get(env)
    if not uri:
        raise RegistryError(f"no {what}: pass it, or set {env}")
    return uri


def cmd_propose(args) -> dict:
    from rl_core.registry.approval import champion
    from rl_core.registry.errors import RegistryError
    from rl_core.registry.handoff import propose

    version = args.version or champion(args.agent)
    if version is None:
        raise RegistryError(f"{args.agent} has no champion: name a VERSION")
    outbox = _uri(args.outbox, OUTBOX_ENV, "outbox")
    pkg = propose(args.agent, version, outbox, note=args.note, require_champion=False)
    _say(args, f"{'proposed' if pkg.created else 'already proposed'}: {pkg.uri}")
    return pkg.to_dict()


def cmd_pending(args) -> dict:
    import os

    from rl_core.registry.approval import _version, approve_command, awaiting
    from rl_core.registry.handoff import LINEAGE_HOPS, lineage_text, pending

    out = {"agent": args.agent, "awaiting_approval": [], "not_imported": []}
    for st in awaiting(args.agent):
        tags = dict(_version(args.agent, st["version"]).tags)
        try:
            hops = json.loads(tags.get(LINEAGE_HOPS, "[]"))
        except json.JSONDecodeError:
            hops = []
        row = {**st, "lineage": hops, "lineage_text": lineage_text(hops)}
        out["awaiting_approval"].append(row)
        _say(
            args,
            f"v{st['version']}: {st['state']}"
            + (f" by {st['by']} at {st['at']}" if st["state"] == "approved" else "")
            + f"; lineage {row['lineage_text']}; sha256 {str(st['lineage_sha256'])[:12]}",
        )
        if st["state"] == "pending":
            _say(args, f"  approve: {approve_command(args.agent, st['version'])}")
    source = args.source or os.environ.get(SOURCE_ENV)
    if source:
        for pkg in pending(source, args.agent):
            hops = pkg.manifest.get("lineage") or []
            out["not_imported"].append({"uri": pkg.uri, "lineage": hops, **_brief(pkg.manifest)})
            _say(args, f"not imported: {pkg.uri} (lineage {lineage_text(hops)})")
    if not out["awaiting_approval"] and not out["not_imported"]:
        _say(args, f"{args.agent}: nothing pending")
    return out


def _brief(manifest: dict) -> dict:
    keys = ("source_env", "source_version", "bundle_sha256", "created_at")
    return {k: manifest.get(k) for k in keys}


def cmd_import(args) -> dict:
    from rl_core.registry.handoff import import_package

    version = import_package(args.package, require_approval=args.require_approval)
    _say(args, f"imported {args.package} as v{version}")
    return {"package": args.package, "version": version}


def cmd_receive(args) -> dict:
    import os

    from rl_core.registry.handoff import forward_newest, receive_newest

    source = _uri(args.source, SOURCE_ENV, "upstream outbox")
    if args.validate:
        outbox = args.outbox or os.environ.get(OUTBOX_ENV)
        out = forward_newest(args.agent, source, outbox, args.market or None)
        if out.get("outcome") == "promoted":  # preprod's endpoint serves its new champion
            out["deploy"] = _redeploy(args, str(out["version"]))
    else:
        out = receive_newest(args.agent, source, require_approval=True)
    _say(args, json.dumps(out, default=str))
    return out


def cmd_approve(args) -> dict:
    from rl_core.registry.approval import approve

    st = approve(args.agent, args.version, args.by, args.reason)
    _say(args, f"{st['name']} v{st['version']}: approved by {st['by']} at {st['at']}")
    return st


def cmd_reject(args) -> dict:
    from rl_core.registry.approval import reject

    st = reject(args.agent, args.version, args.by, args.reason)
    _say(args, f"{st['name']} v{st['version']}: rejected by {st['by']} at {st['at']}")
    return st


def cmd_promote_approved(args) -> dict:
    from rl_core.registry.handoff import promote_approved

    move = promote_approved(args.agent, args.version)
    _say(args, f"{move['name']}: {move.get('action')} v{move['version']}")
    if not args.no_deploy:
        move["deploy"] = _redeploy(args, str(move["version"]))
    return move
