"""The environment a local Airflow runs Forecourt in: its home inside FORECOURT_HOME (never
~/airflow), this checkout's dags/ and plugins/, SQLite, no example DAGs.

Used by `forecourt demo`, `forecourt ui`, the tests and the benchmark, so all of them run
the same Airflow the same way. Settings already in the environment win.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import rl_core
from rl_core import paths

DAG_ID = "forecourt_daily_retrain"
UI_USER = "admin"


def airflow_bin() -> str:
    """The `airflow` script beside this Python (the project's venv)."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def project_root() -> Path:
    """The checkout holding dags/ and plugins/ (FORECOURT_PROJECT_ROOT overrides)."""
    root = os.environ.get("FORECOURT_PROJECT_ROOT")
    return Path(root) if root else Path(rl_core.__file__).resolve().parents[1]


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or paths.home() / "airflow")


def airflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ plus what a local Forecourt Airflow needs."""
    env = dict(os.environ)
    root = project_root()
    home = airflow_home()
    defaults = {
        "FORECOURT_HOME": str(paths.home()),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{UI_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "MPLCONFIGDIR": "/tmp/forecourt-mpl",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    for key, value in defaults.items():
        if not env.get(key):  # unset or empty (an empty AIRFLOW_HOME would mean ./)
            env[key] = value
    env.update(extra or {})
    home.mkdir(parents=True, exist_ok=True)
    return env


def ui_password(env: dict[str, str]) -> str:
    """The local UI's admin password: made once per Airflow home, kept in its passwords file."""
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    if path.is_file():
        try:
            return json.loads(path.read_text())[UI_USER]
        except (json.JSONDecodeError, KeyError):
            pass
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({UI_USER: password}))
    path.chmod(0o600)
    return password
