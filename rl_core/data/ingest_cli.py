"""`forecourt data ingest SOURCE --mapping NAME_OR_FILE`: a real file -> daily landing files.

    forecourt data ingest ../shared/data/real/nsw_fuelcheck_daily_prices.csv.gz \\
        --mapping nsw_fuelcheck --fuel U91 [--wholesale] [--competitors-by postcode] [--json]

Maps the source with a JSON column mapping (a shipped name or the user's own file), splits
it into days, writes `<store>/landing/date=YYYY-MM-DD/<name>.parquet` per day (atomic),
and prints what the data looks like and the dirt found (prices under 10 c/L, outside the
plausible band, missing days, stations coming and going). With `--dry-run` nothing is
written. Wired into `rl_core.cli` by `add_ingest_parser(data_subparsers)`.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from rl_core import paths
from rl_core.data.enrich import load_stations
from rl_core.data.ingest import (
    PLAUSIBLE_BAND,
    IngestError,
    ingest,
    price_process_stats,
    stats_summary,
    write_landing,
)
from rl_core.data.mapping import available_mappings, load_mapping, resolve_fuel


def add_ingest_parser(data_subparsers: Any) -> argparse.ArgumentParser:
    """Add `ingest` to the `forecourt data` sub-commands; returns its parser."""
    p = data_subparsers.add_parser(
        "ingest", help="map a real CSV/Parquet file into daily landing files in the store"
    )
    p.add_argument("source", help="CSV (optionally .gz) or Parquet file: a path or a URI")
    p.add_argument(
        "--mapping",
        required=True,
        help=f"a shipped mapping ({', '.join(available_mappings())}) or a JSON mapping file",
    )
    p.add_argument("--fuel", default=None, help="fuel to keep (default: the mapping's, e.g. U91)")
    p.add_argument("--days", type=int, default=None, help="only the last N days of the source")
    p.add_argument(
        "--wholesale",
        action="store_true",
        help="join the Sydney unleaded wholesale price as unit_cost",
    )
    p.add_argument(
        "--competitors-by",
        default=None,
        metavar="COLUMN",
        help="add competitor_price: median of the other stations sharing this station-table "
        "column (postcode, suburb) that day",
    )
    p.add_argument(
        "--stations",
        default=None,
        help="station table CSV for --competitors-by (default: the mapping's)",
    )
    p.add_argument(
        "--band",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        default=list(PLAUSIBLE_BAND),
        help="plausible price band in $/L for the statistics (default %(default)s)",
    )
    p.add_argument("--name", default=None, help="landing file name (default: <mapping>[-<fuel>])")
    p.add_argument("--dry-run", action="store_true", help="describe the data, write nothing")
    p.add_argument("--store", default=None, help="store URI (default: $FORECOURT_HOME/store)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(run=cmd_ingest)
    return p


def cmd_ingest(args: argparse.Namespace) -> dict[str, Any]:
    mapping = load_mapping(args.mapping)
    fuel = resolve_fuel(mapping, args.fuel)
    low, high = args.band
    if not low < high:
        raise IngestError(f"--band {low} {high}: LOW must be below HIGH")
    stations = None
    if args.stations is not None:
        key = mapping.get("stations", {}).get("key", "station_code")
        stations = load_stations(args.stations, key)
    frames = ingest(
        args.source,
        mapping,
        fuel=fuel,
        days=args.days,
        wholesale=args.wholesale,
        competitors_by=args.competitors_by,
        stations=stations,
    )
    stats = price_process_stats(frames, band=(low, high))
    store = args.store or paths.store_uri()
    name = args.name or default_landing_name(mapping, fuel)
    lines = [
        f"{args.source} with mapping '{mapping.get('name')}'"
        + (f", fuel {fuel}" if fuel else "")
        + ":",
        stats_summary(stats),
    ]
    written: list[str] = []
    if args.dry_run:
        lines.append("dry run: nothing written")
    else:
        written = write_landing(store, frames, name=name)
        lines.append(
            f"wrote {len(written)} landing file(s) {name}.parquet under {store}/landing "
            f"({stats['first']}..{stats['last']})"
        )
    _say(args, "\n".join(lines))
    columns = list(next(iter(frames.values())).columns)
    return {
        "source": str(args.source),
        "mapping": mapping.get("name"),
        "fuel": fuel,
        "columns": columns,
        "store": store,
        "name": name,
        "dry_run": bool(args.dry_run),
        "landing_files": len(written),
        "first_file": written[0] if written else None,
        "last_file": written[-1] if written else None,
        "stats": {k: v for k, v in stats.items() if k != "per_day"},
    }


def default_landing_name(mapping: dict[str, Any], fuel: str | None) -> str:
    """<mapping name>[-<fuel>], lower case, safe as a file name."""
    base = str(mapping.get("name") or "source") + (f"-{fuel}" if fuel else "")
    return re.sub(r"[^a-z0-9_.-]+", "_", base.lower()).strip("._-") or "source"


def _say(args: argparse.Namespace, text: str) -> None:
    # to stderr under --json so stdout's last line stays machine-readable (as rl_core.cli.say)
    print(text, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)
