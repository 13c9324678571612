"""Data validation: one day of 10,000 stations, and a year of them as a backfill.

    .venv/bin/python -m benchmarks.bench_validation [--stations 10000] [--days 365]
                                                    [--trailing 28] [--repeats 3]

Measures, on synthetic data from the default market (generated and written before any clock
starts, in a temporary folder under /tmp that is removed afterwards):
  * `validate_frame`: the GX suite, station count and drift on an in-memory day, against a
    trailing window given as a frame (no files);
  * `validate_day`: the whole stage on a delivered Parquet file: read it, read the 28-day
    trailing window from the store, GX, stations, drift, GX Data Docs, write the day into
    the store and the reports beside it. Each repeat re-delivers the same file (the stage
    is idempotent, so every repeat does the full work);
  * `validate_backfill` of `--days` daily Parquet files into an empty store (every file
    read, validated, written, reported), clean, and again with 4 defective days in it
    (a 999 price, a wrong date, an empty file, half the stations missing).
Targets: one day of 10,000 stations < 5 s; a year (3.65M rows) as a backfill < 60 s on
2 cores. Figures are medians of `--repeats` runs (the backfills run once each).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from benchmarks.common import emit, log, machine_facts, median  # noqa: E402

NAME = "validation"
TARGET_DAY_S = 5.0
TARGET_BACKFILL_S = 60.0
START = date(2025, 1, 1)


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall = time.perf_counter() - t0
    return out, wall, (time.process_time() - c0) / wall if wall else None


def _write_days(frame: pd.DataFrame, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for day, rows in frame.groupby("date", sort=True):
        path = folder / f"pricing-{day:%Y-%m-%d}.parquet"
        rows.to_parquet(path, index=False)
        paths.append(path)
    return paths


def _spoil(paths: list[Path]) -> list[str]:
    """Four defects at fixed places of a year of files; returns what was done."""
    n = len(paths)
    price, wrong_date, empty, half = (paths[int(n * f)] for f in (0.2, 0.4, 0.6, 0.8))
    df = pd.read_parquet(price)
    df.loc[df.index[17], "price"] = 999.0
    df.to_parquet(price, index=False)
    df = pd.read_parquet(wrong_date)
    df.assign(date=df["date"] - pd.Timedelta(days=1)).to_parquet(wrong_date, index=False)
    empty.write_bytes(b"")
    df = pd.read_parquet(half)
    df.iloc[: len(df) // 2].to_parquet(half, index=False)
    return [
        f"{price.name}: one price of 999",
        f"{wrong_date.name}: every row dated the day before",
        f"{empty.name}: empty (0 bytes)",
        f"{half.name}: half the stations missing",
    ]


def _backfill(files: list[Path], store: Path, config: dict) -> dict:
    """In a child process: import (not timed), then one timed backfill."""
    from rl_core.validation import ValidationConfig, validate_backfill
    from rl_core.validation.suite import runner_for

    cfg = ValidationConfig.from_dict(config)
    runner_for(cfg, ["date", "station_id", "price"])  # GX imported and a context built
    result, wall, share = _timed(lambda: validate_backfill(files, store, cfg))
    return {
        "wall_s": wall,
        "cpu_share": share,
        "gx_runs": result.gx_runs,
        "accepted_days": len(result.accepted),
        "quarantined_days": len(result.failed),
        "failed": {str(r.day): r.failure_names() for r in result.failed},
        "peak_rss_mib": _peak_rss_mib(),
    }


def _peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over fork and exec, so a child would report the parent's peak if that was higher."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stations", type=int, default=10_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--trailing", type=int, default=28)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args(argv)

    from rl_core.data.store import write_day
    from rl_core.market.model import Market
    from rl_core.market.synthetic import generate_history
    from rl_core.validation import ValidationConfig, validate_day, validate_frame
    from rl_core.validation.reference import TrailingWindow

    work = Path(tempfile.mkdtemp(prefix="forecourt-bench-validation-"))
    config = ValidationConfig(trailing_days=args.trailing)
    out: dict = {
        "name": NAME,
        "command": "python -m benchmarks.bench_validation " + " ".join(argv or sys.argv[1:]),
        "stations": args.stations,
        "days": args.days,
        "trailing_days": args.trailing,
        "repeats": args.repeats,
        "targets": {"one_day_s": TARGET_DAY_S, "backfill_s": TARGET_BACKFILL_S},
    }
    try:
        # ---- one day against a trailing window in the store -------------------------
        log(f"[{NAME}] generating {args.trailing + 1} days x {args.stations:,} stations")
        hist = generate_history(Market(), args.stations, args.trailing + 1, START, seed=0)
        day = START + timedelta(days=args.trailing)
        window = hist[hist["date"] < pd.Timestamp(day)]
        today = hist[hist["date"] == pd.Timestamp(day)].reset_index(drop=True)
        store = work / "store-day"
        for d, rows in window.groupby("date"):
            write_day(store, d.date(), rows)
        delivered = work / "landing-day" / f"pricing-{day}.parquet"
        delivered.parent.mkdir(parents=True)
        today.to_parquet(delivered, index=False)

        log(f"[{NAME}] validate_frame / validate_day, {args.repeats} repeats")
        validate_frame(today, day, config, window.iloc[:1000])  # warm-up: imports GX
        ref = TrailingWindow.from_frame(window, config)
        frame_s, day_s, day_cpu = [], [], []
        for _ in range(args.repeats):
            res, wall, _ = _timed(lambda: validate_frame(today, day, config, ref))
            assert res.success, res.summary()
            frame_s.append(wall)
            res, wall, share = _timed(lambda: validate_day(delivered, day, store, config))
            assert res.success and res.reference_days == args.trailing, res.summary()
            day_s.append(wall)
            day_cpu.append(share)
        out["one_day"] = {
            "rows": len(today),
            "validate_frame_s": median(frame_s),
            "validate_day_s": median(day_s),
            "validate_day_runs_s": [round(x, 3) for x in day_s],
            "cpu_share": median(day_cpu),
            "checks": len(res.checks),
            "target_met": median(day_s) < TARGET_DAY_S,
        }
        log(f"[{NAME}] one day: {median(day_s):.2f} s (validate_frame {median(frame_s):.2f} s)")

        # ---- a year as a backfill ------------------------------------------------------
        log(f"[{NAME}] generating {args.days} days x {args.stations:,} stations")
        year = generate_history(Market(), args.stations, args.days, START, seed=1)
        rows = len(year)
        clean_files = _write_days(year, work / "landing-year")
        del year
        (work / "landing-dirty").mkdir()
        dirty_files = [Path(shutil.copy(f, work / "landing-dirty" / f.name)) for f in clean_files]
        defects = _spoil(dirty_files)

        # each backfill in a fresh process, so its peak memory is its own
        spawn = multiprocessing.get_context("spawn")
        for label, files in (("backfill", clean_files), ("backfill_with_defects", dirty_files)):
            log(f"[{NAME}] {label}: {len(files)} files, {rows:,} rows")
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                figures = pool.submit(
                    _backfill, files, work / f"store-{label}", config.to_dict()
                ).result()
            out[label] = {
                "files": len(files),
                "rows": rows,
                **figures,
                "rows_per_s": rows / figures["wall_s"],
                "target_met": figures["wall_s"] < TARGET_BACKFILL_S,
            }
            log(f"[{NAME}] {label}: {figures['wall_s']:.1f} s, {figures['gx_runs']} GX runs")
        out["backfill_with_defects"]["defects"] = defects
        assert out["backfill"]["quarantined_days"] == 0
        assert out["backfill_with_defects"]["quarantined_days"] == 4
    finally:
        if args.keep:
            log(f"[{NAME}] kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    import great_expectations as gx

    out["great_expectations"] = gx.__version__
    out["pandas"] = pd.__version__
    out["machine"] = machine_facts()
    return out


def main(argv: list[str] | None = None) -> dict:
    payload = run(argv)
    emit(NAME, payload)
    return payload


if __name__ == "__main__":
    main()
