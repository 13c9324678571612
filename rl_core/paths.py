"""Where Forecourt keeps its local state: $FORECOURT_HOME, default ./var in the project.

<home>/store/      the data store (pricing/date=YYYY-MM-DD/pricing.parquet)
<home>/models/     checkpoints and exported policies
<home>/reports/    human-readable reports and plots
<home>/runs/       one folder per daily run (plan, step records, checkpoints, report)

On AWS the store and the run folders are S3 URIs (FORECOURT_STORE, FORECOURT_RUNS, from
Terraform's outputs), read and written through fsspec like local paths.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("FORECOURT_HOME") or Path.cwd() / "var").resolve()


def store_uri() -> str:
    return os.environ.get("FORECOURT_STORE") or str(home() / "store")


def runs_uri() -> str:
    return os.environ.get("FORECOURT_RUNS") or str(home() / "runs")


def models_dir() -> Path:
    return home() / "models"


def reports_dir() -> Path:
    return home() / "reports"
