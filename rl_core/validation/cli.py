"""`forecourt data validate PATH_OR_URI`: validate a delivered day, accept or quarantine it.

Wired into `forecourt data` by rl_core/cli.py:

    from rl_core.validation.cli import add_validate_parser
    add_validate_parser(data)

Exit status: 0 valid (the day is in the store), 1 the data failed validation (summary
printed, file quarantined), 2 a usage error (no such file, bad --day or config). With
`--json` the last line of stdout is one JSON object (the human summary goes to stderr).
A folder or a glob is a backfill: every file in it, each for the day its path or date
column says.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from rl_core import paths
from rl_core.errors import ForecourtError

GLOB_CHARS = "*?["


def add_validate_parser(data_subparsers) -> argparse.ArgumentParser:
    """Add `validate` to the `forecourt data` sub-commands; returns its parser."""
    p = data_subparsers.add_parser(
        "validate",
        help="validate a delivered day's file: accept it into the store or quarantine it",
        description="Validate a delivered day's pricing file (GX suite, station count, drift "
        "against the trailing window): accept it into the store, or move it to "
        "<store>/quarantine/ with its report.",
        epilog="exit status: 0 valid, 1 the data failed validation (quarantined), 2 usage error",
    )
    p.add_argument(
        "source",
        metavar="PATH_OR_URI",
        help="one day's CSV/Parquet file (path, file:// or s3://), or a folder/glob of them",
    )
    p.add_argument(
        "--day",
        type=date.fromisoformat,
        default=None,
        help="the day the file is for, YYYY-MM-DD (default: from its path, else its date column)",
    )
    p.add_argument("--store", default=None, help="store URI (default: $FORECOURT_HOME/store)")
    p.add_argument("--config", type=Path, default=None, help="JSON file of validation thresholds")
    p.add_argument(
        "--price-only",
        action="store_true",
        help="volume and unit_cost are not required (e.g. NSW FuelCheck prices)",
    )
    p.add_argument("--no-data-docs", action="store_true", help="skip the GX Data Docs HTML")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(run=cmd_validate)
    return p


def cmd_validate(args: argparse.Namespace) -> dict:
    from rl_core.validation.config import ValidationConfig
    from rl_core.validation.errors import ValidationFailedError

    config = ValidationConfig.from_json(args.config) if args.config else ValidationConfig()
    if args.price_only:
        config = config.replace(require_volume=False, require_unit_cost=False)
    if args.no_data_docs:
        config = config.replace(data_docs=False)
    store = args.store or paths.store_uri()
    sources = expand_sources(args.source)

    if len(sources) == 1 and not _is_many(args.source):
        from rl_core.validation.validate import validate_day

        try:
            result = validate_day(sources[0], args.day, store, config)
        except ValidationFailedError as exc:
            _fail(
                args,
                exc.result.summary() if exc.result else str(exc),
                str(exc),
                exc.result.to_dict() if exc.result else {"valid": False, "error": str(exc)},
            )
        _say(args, result.summary())
        return result.to_dict()

    if args.day is not None:
        raise ForecourtError(
            f"--day applies to one file; {args.source} is a backfill of {len(sources)} file(s), "
            "each for the day its path or date column says"
        )
    from rl_core.validation.backfill import validate_backfill

    backfill = validate_backfill(sources, store, config)
    if not backfill.success:
        _fail(
            args,
            backfill.summary(),
            f"{len(backfill.failed)} of {len(backfill.results)} day(s) failed validation",
            backfill.to_dict(),
        )
    _say(args, backfill.summary())
    return backfill.to_dict()


def expand_sources(source: str) -> list[str]:
    """The file(s) a PATH_OR_URI names: itself, a folder's files, or a glob's matches."""
    import fsspec

    from rl_core.validation.errors import DeliveryNotFoundError

    fs, path = fsspec.core.url_to_fs(os.fspath(source))
    if any(c in path for c in GLOB_CHARS):
        found = sorted(p for p in fs.glob(path) if fs.isfile(p))
    elif fs.isdir(path):
        found = sorted(
            p
            for p in fs.find(path)
            if not any(part.startswith((".", "_")) for part in p[len(path) :].split("/"))
        )
    else:
        return [source]
    if not found:
        raise DeliveryNotFoundError(f"no files match {source}")
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return found if protocol in ("file", "local") else [fs.unstrip_protocol(p) for p in found]


def _is_many(source: str) -> bool:
    import fsspec

    fs, path = fsspec.core.url_to_fs(os.fspath(source))
    return any(c in path for c in GLOB_CHARS) or fs.isdir(path)


def _fail(args: argparse.Namespace, summary: str, line: str, payload: dict) -> None:
    """Failed validation: the summary, one error line, the JSON if asked; exit status 1."""
    _say(args, summary)
    print(f"forecourt: validation failed: {line}", file=sys.stderr, flush=True)
    if getattr(args, "json", False):
        print(json.dumps(payload, default=str), flush=True)
    raise SystemExit(1)


def _say(args: argparse.Namespace, text: str) -> None:
    print(text, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)
