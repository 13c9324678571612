"""`forecourt registry list|show|promote|rollback`: the Model Registry from the shell.

Wired into `forecourt` by rl_core/cli.py (`add_registry_parser`):

    forecourt registry list                          versions of both agents, champion marked
    forecourt registry show AGENT [VERSION]          one version (default: the champion)
    forecourt registry promote AGENT VERSION --reason R [--expected-champion V]
    forecourt registry rollback AGENT --reason R     put the previous champion back

A human summary goes to stdout; with `--json` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
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
    _json(rb)
    rb.set_defaults(run=cmd_rollback)
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
    return move
