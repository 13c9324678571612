"""A local `mlflow server` (SQLite backend, proxied artifacts on S3, e.g. moto's) for the
rehearsal: what SageMaker's managed MLflow tracking server is on AWS.

    with mlflow_server(workdir, "s3://bucket/mlflow", moto_url) as url:
        MlflowClient(tracking_uri=url) ...

The server runs in its own process group (uvicorn, 1 worker) with cwd `workdir`; its output
goes to `workdir/mlflow-server.log`. Clients upload artifacts through the server
(`--serve-artifacts`), so only the server needs the S3 endpoint and credentials.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

STOP_GRACE_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL after STOP_GRACE_S."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # workers left behind by the main process
        return


@contextlib.contextmanager
def mlflow_server(
    workdir: Path,
    artifacts_uri: str,
    s3_endpoint_url: str | None,
    *,
    mlflow_bin: Path | None = None,
    port: int | None = None,
    start_timeout_s: float = 90.0,
) -> Iterator[str]:
    """Run `mlflow server` until the block ends; yield its URL (http://127.0.0.1:<port>).

    Tracking and registry in `sqlite:///<workdir>/mlflow.db`; artifacts proxied to
    `artifacts_uri`. With `s3_endpoint_url` (moto), the server's S3 calls go there with
    dummy credentials; with None, the ambient AWS configuration is used."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    exe = Path(mlflow_bin) if mlflow_bin else Path(sys.executable).with_name("mlflow")
    if not exe.exists():
        raise FileNotFoundError(f"no mlflow executable at {exe}")
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(exe),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination",
        artifacts_uri,
        "--serve-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = dict(os.environ)
    # no telemetry; no GenAI job runner (huey consumers: more processes, a slower start)
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
    )
    if s3_endpoint_url:
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(key, None)
        env.update(
            MLFLOW_S3_ENDPOINT_URL=s3_endpoint_url,
            AWS_ENDPOINT_URL=s3_endpoint_url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
        )
        env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "eu-west-1"))
    log_path = workdir / "mlflow-server.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {proc.returncode} before {url}/health "
                    f"answered; {log_path}:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"mlflow server: no answer from {url}/health within {start_timeout_s:.0f} s;"
                    f" {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)
