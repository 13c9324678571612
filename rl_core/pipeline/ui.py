"""`forecourt ui` / `make ui`: the Airflow UI with Forecourt's DAG, on 127.0.0.1 only.

What `airflow standalone` runs (scheduler, DAG processor, triggerer, API server, with
LocalExecutor and the simple auth manager), started here component by component because
standalone cannot be kept off the network: its scheduler and triggerer each start a task
log server that binds every interface (0.0.0.0:8793 and :8794; Airflow hard-codes the
host). Here they run with --skip-serve-logs (the API server reads task logs from the
local files instead, the same machine writes them) and the API server, which serves the
UI, binds 127.0.0.1. Nothing listens anywhere else.

The cron schedule is off by default ([scheduler] use_job_schedule=False, unless the
environment says otherwise): the DAG runs when triggered, from the UI's form or the REST
API, never on its own for a day nobody delivered. The DAG is unpaused once it is loaded.

`start_airflow()` is what `run_ui()` and the end-to-end test share: it starts the
components in one process group of their own and returns a handle that waits for health
and stops them all.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.pipeline.airflow_env import (
    DAG_ID,
    UI_USER,
    airflow_bin,
    airflow_env,
    airflow_home,
    ui_password,
)

HOST = "127.0.0.1"
# what `airflow standalone` starts, less the two log servers that bind 0.0.0.0
COMPONENTS: dict[str, list[str]] = {
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
    "api-server": ["api-server", "--host", HOST],
}
HEALTH_KEYS = ("metadatabase", "scheduler", "dag_processor", "triggerer")
PLUGIN_PATH = "/forecourt/"


def server_env(port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """airflow_env() plus what a loopback-only local server on `port` needs."""
    url = f"http://{HOST}:{port}"
    env = airflow_env()
    # an empty AIRFLOW_HOME= would send Airflow to ./airflow.cfg and ~/airflow
    for key, value in (("FORECOURT_HOME", paths.home()), ("AIRFLOW_HOME", airflow_home())):
        if not env.get(key):
            env[key] = str(value)
    # defaults: the environment may say otherwise
    env.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    env.setdefault("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")
    # forced: the port is this server's, and nothing may listen beyond loopback
    env.update(
        {
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__API__WORKERS": "1",
            # tasks reach the API server here (the default is localhost:8080)
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": HOST,
        }
    )
    env.update(extra or {})
    return env


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def migrate_db(env: dict[str, str], echo=print) -> None:
    """`airflow db migrate`, when the metadata DB is missing or behind this Airflow."""
    airflow = airflow_bin()
    conn = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    db_file = Path(conn.removeprefix("sqlite:///")) if conn.startswith("sqlite:///") else None
    if db_file is None or db_file.is_file():
        check = subprocess.run(
            [airflow, "db", "check-migrations", "--migration-wait-timeout", "0"],
            env=env,
            capture_output=True,
            text=True,
        )
        if check.returncode == 0:
            return
    echo(f"Preparing the Airflow metadata DB ({conn})...")
    done = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ForecourtError(f"airflow db migrate failed:\n{_tail(done.stdout + done.stderr)}")


@dataclass
class AirflowServer:
    """The running components: one process group, one log file per component."""

    port: int
    env: dict[str, str]
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    pgid: int | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def exited(self) -> dict[str, int]:
        """Components that have stopped, with their exit status."""
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for name in self.procs:
            path = self.log_file(name)
            text = path.read_text(errors="replace") if path.is_file() else ""
            out.append(f"--- {name} ({path}), last {lines} lines ---\n{_tail(text, lines)}")
        return "\n".join(out)

    def health(self) -> dict | None:
        """GET /api/v2/monitor/health (no login needed), or None while not answering."""
        try:
            return api(self.url, "GET", "/api/v2/monitor/health", timeout=5)
        except (OSError, ValueError):
            return None

    def healthy(self) -> bool:
        h = self.health() or {}
        return all((h.get(k) or {}).get("status") == "healthy" for k in HEALTH_KEYS)

    def wait_healthy(self, timeout_s: float = 180, echo=None) -> float:
        """Block until every component reports healthy; seconds since start. Raises
        ForecourtError (with the logs' tails) when a component exits or time runs out."""
        last_echo = 0.0
        while True:
            if self.healthy():
                return time.perf_counter() - self.started
            if gone := self.exited():
                raise ForecourtError(
                    f"Airflow component(s) exited during start-up: {gone}\n{self.log_tail()}"
                )
            waited = time.perf_counter() - self.started
            if waited > timeout_s:
                raise ForecourtError(
                    f"Airflow at {self.url} not healthy after {timeout_s:.0f} s "
                    f"(health: {self.health()})\n{self.log_tail()}"
                )
            if echo and waited - last_echo >= 10:
                last_echo = waited
                echo(f"  ... {waited:.0f} s, health: {_health_line(self.health())}")
            time.sleep(1)

    def members(self) -> list:
        """Every process started here, descendants included (task processes make process
        groups of their own), as psutil.Process (which knows a reused PID from its own)."""
        import psutil

        found = []
        for p in self.procs.values():
            try:
                proc = psutil.Process(p.pid)
                found += [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return found

    def stop(self, timeout_s: float = 30) -> None:
        """SIGTERM to the group (and stray descendants), SIGKILL to what is left after
        `timeout_s`. Safe to call twice."""
        if self.pgid is None:
            return
        strays = self.members()
        _signal_group(self.pgid, signal.SIGTERM)
        _signal_all(strays, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
        _signal_group(self.pgid, signal.SIGKILL)
        _signal_all(strays, signal.SIGKILL)
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        self.pgid = None


def start_airflow(
    port: int, env: dict[str, str] | None = None, log_dir: Path | None = None, echo=print
) -> AirflowServer:
    """Start the components (DB migrated first). Returns at once: call wait_healthy()."""
    env = env or server_env(port)
    if not port_free(port):
        raise ForecourtError(f"port {port} on {HOST} is in use: pick another with --port")
    migrate_db(env, echo=echo)
    log_dir = log_dir or Path(env["AIRFLOW_HOME"]) / "ui-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = AirflowServer(port=port, env=env, log_dir=log_dir)
    airflow = airflow_bin()
    try:
        for name, args in COMPONENTS.items():
            with server.log_file(name).open("ab") as log:
                proc = subprocess.Popen(
                    [airflow, *args],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # one group for all, not the terminal's: Ctrl-C reaches run_ui only,
                    # which then stops the components in order
                    process_group=server.pgid or 0,
                )
            server.procs[name] = proc
            server.pgid = server.pgid or proc.pid
    except BaseException:
        server.stop(timeout_s=5)
        raise
    return server


# ---- the REST API (standard library only: rl_core does not need httpx) -------------------


def api(
    base: str,
    method: str,
    path: str,
    token: str | None = None,
    body: dict | None = None,
    timeout: float = 30,
) -> dict:
    """One JSON call to the Airflow API server; raises urllib.error.HTTPError on >= 400."""
    req = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


def api_token(base: str, username: str, password: str) -> str:
    """A JWT from the simple auth manager (POST /auth/token)."""
    return api(base, "POST", "/auth/token", body={"username": username, "password": password})[
        "access_token"
    ]


def wait_for_dag(base: str, token: str, timeout_s: float = 120) -> dict:
    """The DAG once the DAG processor has loaded it; ForecourtError on an import error."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return api(base, "GET", f"/api/v2/dags/{DAG_ID}", token)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        errors = api(base, "GET", "/api/v2/importErrors", token).get("import_errors", [])
        if errors:
            raise ForecourtError(
                "the DAG folder has import errors:\n"
                + "\n".join(f"{e.get('filename')}: {e.get('stack_trace')}" for e in errors)
            )
        if time.monotonic() > deadline:
            raise ForecourtError(f"{DAG_ID} not loaded after {timeout_s:.0f} s")
        time.sleep(2)


# ---- forecourt ui ------------------------------------------------------------------------


def run_ui(port: int = 8080) -> None:
    """Serve the Airflow UI on http://127.0.0.1:<port>/ until Ctrl-C."""
    env = server_env(port)
    password = ui_password(env)
    print(f"Starting Airflow (home {env['AIRFLOW_HOME']}) on {HOST}:{port}...", flush=True)
    server = start_airflow(port, env)
    # a `kill` stops the components as cleanly as Ctrl-C does
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    for s in previous:
        signal.signal(s, _interrupt)
    try:
        took = server.wait_healthy(timeout_s=240, echo=lambda line: print(line, flush=True))
        token = api_token(server.url, UI_USER, password)
        dag = wait_for_dag(server.url, token)
        schedule_off = env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"].lower() == "false"
        if dag.get("is_paused") and schedule_off:
            api(server.url, "PATCH", f"/api/v2/dags/{DAG_ID}", token, {"is_paused": False})
        _banner(server, password, took, schedule_off)
        while True:
            if gone := server.exited():
                raise ForecourtError(f"Airflow component(s) stopped: {gone}\n{server.log_tail()}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping Airflow...", flush=True)
    finally:
        server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("Airflow stopped.", flush=True)


def _banner(server: AirflowServer, password: str, took: float, schedule_off: bool) -> None:
    plugin = Path(server.env["AIRFLOW__CORE__PLUGINS_FOLDER"]) / "forecourt_plugin.py"
    lines = [
        "",
        f"Airflow is ready ({took:.0f} s): {server.url}/",
        f"  login:          {UI_USER} / {password}",
        f"  DAG:            {DAG_ID}  ->  {server.url}/dags/{DAG_ID}",
        f"  Forecourt page: {server.url}{PLUGIN_PATH}"
        + ("" if plugin.is_file() else "  (the plugin is not installed yet)"),
        "  schedule:       "
        + (
            "off (runs only when triggered: Trigger in the UI, or the REST API)"
            if schedule_off
            else "on (daily at 02:00 UTC once unpaused)"
        ),
        f"  logs:           {server.log_dir}/",
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_all(procs: list, sig: int) -> None:
    import psutil

    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)  # psutil checks the PID is still that process


def _health_line(health: dict | None) -> str:
    if not health:
        return "API server not answering yet"
    return ", ".join(f"{k} {(health.get(k) or {}).get('status', '?')}" for k in HEALTH_KEYS)


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])
