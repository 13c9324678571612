"""Test-wide settings, applied before any test module imports the library.

Everything a test writes goes under a per-run temporary folder: Forecourt's state
($FORECOURT_HOME, MLflow's SQLite DB inside it), matplotlib's cache, and (for the Airflow
tests to come) AIRFLOW_HOME. Nothing may land in the user's home directory.
"""

import os
import tempfile

_RUN_DIR = tempfile.mkdtemp(prefix="forecourt-tests-")
os.environ["FORECOURT_HOME"] = os.path.join(_RUN_DIR, "home")
os.environ["MPLCONFIGDIR"] = os.path.join(_RUN_DIR, "mpl")
os.environ["AIRFLOW_HOME"] = os.path.join(_RUN_DIR, "airflow")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"  # else MLflow writes ~/.config/mlflow
os.environ["DO_NOT_TRACK"] = "true"
os.environ.pop("FORECOURT_STORE", None)
os.environ.pop("FORECOURT_MLFLOW_TRACKING_URI", None)

import torch  # noqa: E402

torch.set_num_threads(1)
