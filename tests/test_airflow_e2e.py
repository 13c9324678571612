"""End to end: the real Airflow (what `forecourt ui` starts) runs the daily DAG, triggered
through the REST API, and a headless Chromium shows the DAG's page and the Forecourt page.

Authentication is the real one, never the all-admins mode: the simple auth manager's
`admin` and the password from ui_password(). POST /auth/token gives a JWT; the REST calls
send it as a Bearer token and the browser gets it as the `_token` cookie, which is what the
UI's own login form leaves behind. The browser is driven over the DevTools protocol on a
pipe (--remote-debugging-pipe: no debugging port is opened), which sets the cookie, waits
for the page's text, and takes the screenshot.

Needs Debian's chromium (`apt-get install chromium`; .ci/run installs it) and about two
minutes. Screenshots and DOM dumps stay in pytest's tmp dir; their paths are printed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import tomllib
from datetime import date
from pathlib import Path

import pytest

from rl_core.pipeline.airflow_env import DAG_ID, UI_USER, ui_password

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 2, 10)
CONF = {
    "day": str(DAY),
    "trials": 2,
    "env_steps": 60_000,
    "max_concurrent_trials": 2,
    "agents": ["demand", "profit"],
}
START_TIMEOUT_S = 240
RUN_TIMEOUT_S = 360
PAGE_TIMEOUT_S = 60
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1440,900",
]


def _marker_declared(name: str) -> bool:
    """--strict-markers makes an undeclared mark an error: mark only once pyproject has it."""
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())
    markers = ini.get("tool", {}).get("pytest", {}).get("ini_options", {}).get("markers", [])
    return any(m.split(":", 1)[0].strip() == name for m in markers)


pytestmark = [pytest.mark.e2e] if _marker_declared("e2e") else []


def chromium_binary() -> str:
    found = os.environ.get("FORECOURT_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "the end-to-end test needs Chromium: apt-get install -y --no-install-recommends "
            "chromium (or set FORECOURT_CHROMIUM to its path)"
        )
    return found


# ---- a headless Chromium driven over the DevTools protocol on a pipe --------------------


class Browser:
    """Chromium with --remote-debugging-pipe: JSON messages, NUL-terminated, written to its
    fd 3 and read from its fd 4. Enough of the protocol to log in, load and shoot a page."""

    def __init__(self, binary: str, profile: Path, log: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # bash puts the pipe ends on fds 3 and 4, then becomes chromium
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}'
        args = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"]
        # Chromium still writes ~/.config/chromium (crash reports) and ~/.cache: not the home
        env = {
            **os.environ,
            "HOME": str(profile),
            "XDG_CONFIG_HOME": str(profile / "config"),
            "XDG_CACHE_HOME": str(profile / "cache"),
        }
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["bash", "-c", script, binary, *args, "about:blank"],
                pass_fds=(to_chrome_r, from_chrome_w),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next_id = 0
        self.session: str | None = None

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        while True:  # events arrive in between: skip them
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self) -> dict:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._from_chrome], [], [], PAGE_TIMEOUT_S)
            if not ready:
                raise RuntimeError(f"chromium sent nothing for {PAGE_TIMEOUT_S} s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium closed its pipe (exit {self.proc.poll()})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        self.session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )

    def set_cookie(self, url: str, name: str, value: str) -> None:
        self.send("Network.setCookie", {"url": url, "name": name, "value": value, "path": "/"})

    def text(self) -> str:
        got = self.send(
            "Runtime.evaluate",
            {"expression": "document.body ? document.body.innerText : ''", "returnByValue": True},
        )
        return got.get("result", {}).get("value") or ""

    def shoot(self, url: str, wanted: list[str], png: Path, timeout_s: float) -> str:
        """Load `url`, wait until its text holds every string of `wanted` (case-insensitive)
        or time runs out, save a screenshot and the DOM beside it. Returns the page text."""
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(w.lower() in text.lower() for w in wanted):
                time.sleep(1.5)  # let charts and late requests settle
                text = self.text()
                break
            time.sleep(0.5)
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        png.write_bytes(base64.b64decode(shot["data"]))
        dom = self.send(
            "Runtime.evaluate",
            {"expression": "document.documentElement.outerHTML", "returnByValue": True},
        )
        png.with_suffix(".html").write_text(dom.get("result", {}).get("value") or "")
        return text

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
            self.proc.wait(timeout=10)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
            os.close(self._to_chrome)
            os.close(self._from_chrome)


# ---- the test -------------------------------------------------------------------------------


def test_airflow_runs_the_dag_and_shows_it(tmp_path, monkeypatch):
    import httpx

    from rl_core.pipeline.demo import seed
    from rl_core.pipeline.steps import run_folder
    from rl_core.pipeline.ui import free_port, server_env, start_airflow

    t_test = time.perf_counter()
    home = tmp_path / "home"
    monkeypatch.setenv("FORECOURT_HOME", str(home))
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    chromium = chromium_binary()
    landing = seed(str(home / "store"), DAY, days=1, stations=20)
    assert landing, "seeding wrote no landing file"

    port = free_port()
    env = server_env(port, {"FORECOURT_RETRY_DELAY_S": "5"})
    password = ui_password(env)
    server = start_airflow(port, env, log_dir=tmp_path / "airflow-logs", echo=print)
    base = server.url
    timings: dict[str, float] = {}
    try:
        # -- start-up: every component healthy, nothing beyond loopback -------------------
        try:
            timings["start_s"] = server.wait_healthy(START_TIMEOUT_S, echo=print)
        except Exception as exc:
            pytest.fail(f"Airflow did not come up: {exc}")
        print(f"\nAirflow healthy at {base} after {timings['start_s']:.1f} s")
        listening = _listening(server.members())
        assert listening, "no component listens at all"
        wide = [a for a in listening if a[0] not in ("127.0.0.1", "::1")]
        assert not wide, f"listening beyond loopback: {wide}"

        # -- REST: a JWT from the simple auth manager, then unpause and trigger ---------------
        client = httpx.Client(base_url=base, timeout=30)
        r = client.post("/auth/token", json={"username": UI_USER, "password": password})
        assert r.status_code == 201, f"POST /auth/token: {r.status_code} {r.text}"
        token = r.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        _wait_dag(client)
        assert client.get("/api/v2/importErrors").json()["total_entries"] == 0
        r = client.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
        assert r.status_code == 200 and r.json()["is_paused"] is False, r.text

        run_id = f"e2e__{int(time.time())}"
        r = client.post(
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": None, "conf": CONF},
        )
        assert r.status_code == 200, f"trigger: {r.status_code} {r.text}"
        assert r.json()["conf"] == CONF
        t_run = time.perf_counter()
        state = _wait_run(client, server, run_id)
        timings["run_s"] = time.perf_counter() - t_run
        assert state == "success", (
            f"run {run_id} ended {state}: {_task_states(client, run_id)}\n{server.log_tail(20)}"
        )
        print(f"run {run_id}: success in {timings['run_s']:.1f} s")
        scheduled = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns").json()["dag_runs"]
        assert [x["dag_run_id"] for x in scheduled] == [run_id], "the schedule started a run"

        # -- what the run did: the report, with the conf's trials ----------------------------
        folder = Path(run_folder(DAY, run_id))
        report = json.loads((folder / "report.json").read_text())
        assert report["status"] == "complete", report["status"]
        params = report["plan"]["params"]
        assert (params["trials"], params["env_steps"]) == (2, 60_000), params
        for agent in CONF["agents"]:
            assert len(list((folder / agent).glob("trial-*/trial.json"))) == 2, agent
        # the first profit challenger beats the best flat price; the demand agent, whose
        # optimum is at or near the flat floor price, gets a champion too: by superiority
        # or as a non-inferior first model (docs/registry.md)
        actions = {a: x["promotion"]["action"] for a, x in report["agents"].items()}
        assert actions == {"demand": "promoted", "profit": "promoted"}, actions
        rules = {a: x["decision"]["rule"] for a, x in report["agents"].items()}
        assert rules["profit"] == "superiority", rules
        assert rules["demand"] in ("superiority", "non-inferiority"), rules
        tomorrow = home / "store" / "recommendations" / "date=2026-02-11"
        assert (tomorrow / "recommendations.parquet").is_file()
        # task logs come from the local files (the log servers are off)
        r = client.get(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/plan_run/logs/1",
            headers={"Accept": "application/json"},
        )
        assert r.status_code == 200 and "plan" in r.text.lower(), r.text[:500]

        # -- the browser: the DAG's page and the Forecourt page -------------------------------
        shots = tmp_path / "screenshots"
        shots.mkdir()
        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
        browser = Browser(chromium, profile, tmp_path / "chromium.log")
        try:
            browser.open_page()
            browser.set_cookie(base + "/", "_token", token)
            dag_png = shots / "dag.png"
            dag_text = browser.shoot(
                f"{base}/dags/{DAG_ID}", [DAG_ID, "plan_run"], dag_png, PAGE_TIMEOUT_S
            )
            plugin_png = shots / "forecourt.png"
            plugin = ROOT / "plugins" / "forecourt_plugin.py"
            plugin_text = browser.shoot(
                f"{base}/forecourt/",
                ["champion"],
                plugin_png,
                PAGE_TIMEOUT_S if plugin.is_file() else 5,
            )
        finally:
            browser.close()
        print(f"screenshots: {dag_png} {plugin_png} (DOM beside them as .html)")
        assert "sign in" not in dag_text.lower() and "password" not in dag_text.lower(), (
            f"the DAG page is the login page: {dag_text[:300]!r}"
        )
        assert DAG_ID in dag_text and "plan_run" in dag_text, (
            f"the DAG page did not render (see {dag_png}): {dag_text[:500]!r}"
        )
        assert dag_png.stat().st_size > 20_000, f"{dag_png} looks blank"
        assert re.search(r"champion\W{0,3}v1", plugin_text, re.IGNORECASE), (
            f"the Forecourt page at {base}/forecourt/ shows no champion v1 "
            f"(plugins/forecourt_plugin.py {'exists' if plugin.is_file() else 'is missing'}; "
            f"see {plugin_png}): {plugin_text[:500]!r}"
        )
        assert "forecourt-profit" in plugin_text, plugin_text[:500]
        assert "<svg" in plugin_png.with_suffix(".html").read_text(), "no SVG trend on the page"
        assert plugin_png.stat().st_size > 10_000, f"{plugin_png} looks blank"
    finally:
        server.stop()
        timings["total_s"] = time.perf_counter() - t_test
        print("timings: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        print(f"Airflow logs: {server.log_dir}")


def _listening(procs: list) -> list[tuple[str, int]]:
    import psutil

    out = []
    for proc in procs:
        try:
            conns = proc.net_connections(kind="inet")
        except psutil.Error:
            continue
        out += [(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN]
    return out


def _wait_dag(client) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if client.get(f"/api/v2/dags/{DAG_ID}").status_code == 200:
            return
        time.sleep(2)
    pytest.fail(f"{DAG_ID} not loaded after 120 s: {client.get('/api/v2/importErrors').text}")


def _wait_run(client, server, run_id: str) -> str:
    """Poll the run until it ends (or RUN_TIMEOUT_S); prints progress as tasks finish."""
    started = time.perf_counter()
    seen = ""
    while True:
        state = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        if state in ("success", "failed"):
            return state
        waited = time.perf_counter() - started
        if gone := server.exited():
            pytest.fail(f"Airflow component(s) exited during the run: {gone}\n{server.log_tail()}")
        if waited > RUN_TIMEOUT_S:
            pytest.fail(
                f"run {run_id} still {state} after {RUN_TIMEOUT_S} s: "
                f"{_task_states(client, run_id)}\n{server.log_tail(20)}"
            )
        line = _task_states(client, run_id)
        if line != seen:
            print(f"  {waited:5.0f} s  {state}: {line}")
            seen = line
        time.sleep(3)


def _task_states(client, run_id: str) -> str:
    r = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    counts: dict[str, int] = {}
    for ti in r.json().get("task_instances", []):
        counts[ti["state"] or "none"] = counts.get(ti["state"] or "none", 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
