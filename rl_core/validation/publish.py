"""Side effects on the store: reports next to accepted data, quarantine for rejected files.

    <store>/pricing/date=YYYY-MM-DD/pricing.parquet            accepted data (store.write_day)
    <store>/pricing/date=YYYY-MM-DD/_validation/report.json    its validation report
    <store>/pricing/date=YYYY-MM-DD/_validation/summary.txt
    <store>/pricing/date=YYYY-MM-DD/_validation/data_docs/index.html
    <store>/quarantine/date=YYYY-MM-DD/<utc stamp>-<file name>                 rejected file
    <store>/quarantine/date=YYYY-MM-DD/<utc stamp>-<file name>.validation/...  same three

`_validation` starts with an underscore so Parquet dataset readers (pyarrow, Spark) skip it.
A quarantined name never replaces an earlier one: a second bad delivery of a day lands beside
the first. Everything goes through fsspec, so the store may be a path, file:// or s3://.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import fsspec

from rl_core.validation.reader import Delivery
from rl_core.validation.result import ValidationResult

QUARANTINE = "quarantine"
REPORT_DIR = "_validation"


def store_fs(root: str | os.PathLike) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(os.fspath(root))
    return fs, path.rstrip("/")


def display_uri(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A plain path for local files, a full URI (s3://...) otherwise."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if protocol in ("file", "local") else fs.unstrip_protocol(path)


def day_label(day: date | None) -> str:
    return f"date={day:%Y-%m-%d}" if day is not None else "date=unknown"


def accepted_report_dir(root: str | os.PathLike, day: date) -> str:
    from rl_core.data.store import day_path

    return f"{day_path(root, day).rsplit('/', 1)[0]}/{REPORT_DIR}"


def quarantine_delivery(
    delivery: Delivery, root: str | os.PathLike, day: date | None, *, keep_source: bool = False
) -> str:
    """Move the delivered file under <store>/quarantine/date=.../; returns its new path.

    `keep_source` copies instead (used when the file is the store's own accepted day, which
    must stay where it is).
    """
    fs, base = store_fs(root)
    folder = f"{base}/{QUARANTINE}/{day_label(day)}"
    fs.makedirs(folder, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = f"{folder}/{stamp}-{delivery.name}"
    n = 1
    while fs.exists(target) or fs.exists(f"{target}.validation"):
        target = f"{folder}/{stamp}-{n}-{delivery.name}"
        n += 1
    same_fs = type(fs) is type(delivery.fs) and fs.protocol == delivery.fs.protocol
    if same_fs and not keep_source:
        fs.mv(delivery.path, target)
    else:
        fs.pipe_file(target, delivery.fs.cat_file(delivery.path))
        if not keep_source:
            delivery.fs.rm(delivery.path)
    return target


def write_reports(
    root: str | os.PathLike,
    folder: str,
    result: ValidationResult,
    gx_json: dict | None,
    docs_dir: Path | None,
    docs_files: list[str],
) -> None:
    """Write report.json, summary.txt and the Data Docs site into `folder` (replacing any)."""
    fs, _ = store_fs(root)
    if fs.exists(folder):
        fs.rm(folder, recursive=True)
    fs.makedirs(folder, exist_ok=True)
    result.report_uri = display_uri(fs, f"{folder}/report.json")
    result.summary_uri = display_uri(fs, f"{folder}/summary.txt")
    if docs_dir is not None and docs_files:
        result.data_docs_uri = display_uri(fs, f"{folder}/data_docs/index.html")
        made = set()
        for rel in docs_files:
            target = f"{folder}/data_docs/{rel}"
            parent = target.rsplit("/", 1)[0]
            if parent not in made:
                fs.makedirs(parent, exist_ok=True)
                made.add(parent)
            fs.put_file(str(docs_dir / rel), target)
    report = result.to_dict()
    if gx_json is not None:
        report["great_expectations"] = gx_json
    fs.pipe_file(f"{folder}/report.json", json.dumps(report, indent=2, default=str).encode())
    fs.pipe_file(f"{folder}/summary.txt", (result.summary() + "\n").encode())
