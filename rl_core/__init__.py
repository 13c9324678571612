"""Forecourt's library: data -> validation -> market -> envs -> evaluation -> agents -> training.

Each subpackage imports only from the ones to its left, so any stage can run on its own.
"""

import os

# MLflow writes an installation id into ~/.config/mlflow (and reports usage) unless told
# not to: set before any rl_core module can import it, so no entry point (CLI, DAG task,
# Batch job, server) writes into the user's home.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

__version__ = "0.1.0"
