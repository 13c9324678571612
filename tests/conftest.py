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


# ---- a real local AWS endpoint (moto in server mode) for code that calls AWS -----------------

import socket  # noqa: E402

import pytest  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server on a free loopback port for the session (reset by `aws`)."""
    from moto.server import ThreadedMotoServer

    # port 0: the OS picks a free port as it binds, so parallel test workers cannot clash
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """boto3 pointed at the moto server with a fresh state and dummy credentials."""
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10
    )
    for key, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return moto_endpoint


# ---- order: the longest test files first -------------------------------------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

DURATIONS = Path(__file__).with_name("durations.json")  # seconds per file, measured


def pytest_collection_modifyitems(session, config, items):
    """Run the slowest test files first (tests/durations.json; unknown files last).

    `make test` spreads whole files over parallel workers (pytest-xdist, `--dist loadfile`,
    in collection order): started first, the long files (the rehearsal, Terraform, the
    Airflow end to end) run side by side while the short ones fill in around them, instead
    of one of them starting last and leaving the other worker idle. Within a file the order
    is unchanged (module fixtures are shared by its tests).
    """
    try:
        seconds = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return
    first_seen: dict[str, int] = {}
    for i, item in enumerate(items):
        first_seen.setdefault(item.nodeid.split("::")[0], i)

    def key(item):
        file = item.nodeid.split("::")[0]
        return (-float(seconds.get(file, 0.0)), first_seen[file])

    items.sort(key=key)
