"""Forecourt's library, in layers, lowest first:

    data -> validation -> market -> envs -> evaluation -> agents -> training -> registry
    -> serving -> pipeline -> study -> cli

At import time a subpackage imports only from its own layer, the layers to its left and the
shared utilities (telemetry, errors, paths), so any stage can run on its own; a higher
layer is reached only inside a function, at call time (a CLI command, a pipeline step).
Evaluation sits left of agents: it scores any policy against the exact optimum, and the
training loop calls it. `python -m tools.check_imports` (part of `make test`) holds this
and rejects import cycles.
"""

import os

# MLflow writes an installation id into ~/.config/mlflow (and reports usage) unless told
# not to: set before any rl_core module can import it, so no entry point (CLI, DAG task,
# Batch job, server) writes into the user's home.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

__version__ = "0.1.0"
