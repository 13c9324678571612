"""Running real Terraform (and checkov, and a moto server) from the tests.

- `tf(args, cwd)`: terraform with the offline CLI config (terraform/cli_config.py), no
  color, no prompts, a bounded time, output kept for the assertion message;
- `checkov_bin()`: checkov from its own pinned venv (tests/venv_cache.py, built once
  from tests/requirements-checkov.txt): it pins packages the project's venv must not share;
- `MotoServer`: moto in server mode on a free loopback port, in its own process (so a
  hung AWS call in Terraform cannot take the test process down), with IAM's managed
  policies loaded;
- `build_plugins_zip(out)`: MWAA's plugins.zip (docker/mwaa/build_plugins.py), which the
  account stacks upload and which their plan refuses to go without.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from venv_cache import cached_venv

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM = ROOT / "terraform"
BUILD_PLUGINS = ROOT / "docker" / "mwaa" / "build_plugins.py"
CHECKOV_VERSION = "3.3.30"
CHECKOV_REQUIREMENTS = ROOT / "tests" / "requirements-checkov.txt"


def cli_config() -> str:
    out = subprocess.run(
        [sys.executable, str(TERRAFORM / "cli_config.py")], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"terraform/cli_config.py failed: {out.stderr or out.stdout}")
    return out.stdout.strip()


_TF_HOME: list[str] = []


def tf_home() -> str:
    """A throwaway HOME for Terraform (one per test process, removed at exit): Terraform and
    the AWS SDK in the provider look under ~ (~/.terraform.d for the update check's
    signature, plugins and credentials; ~/.aws/config and credentials), so a run must
    neither write there nor pick up the user's settings."""
    if not _TF_HOME or not os.path.isdir(_TF_HOME[0]):
        _TF_HOME[:] = [tempfile.mkdtemp(prefix="forecourt-tf-home-")]
        atexit.register(shutil.rmtree, _TF_HOME[0], True)
    return _TF_HOME[0]


def tf_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Terraform's environment: the offline CLI config, no prompts, no update check
    (CHECKPOINT_DISABLE, and disable_checkpoint in the config), a throwaway HOME, and no
    AWS_*/TF_* from the caller's environment; `extra` (e.g. MotoServer.aws_env()) on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        TF_CLI_CONFIG_FILE=cli_config(),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        HOME=tf_home(),
    )
    env.update(extra or {})
    return env


def tf(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 300) -> str:
    """Run terraform; raise AssertionError with its output when it fails or hangs."""
    cmd = (
        ["terraform", *args, "-no-color"]
        if args[0] not in ("fmt", "version")
        else [
            "terraform",
            *args,
        ]
    )
    try:
        out = subprocess.run(
            cmd,
            cwd=cwd,
            env=env or tf_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"`{' '.join(cmd)}` in {cwd} ran past {timeout:.0f} s (an AWS API moto lacks "
            f"makes the provider retry):\n{(exc.stdout or b'')[-3000:]!r}"
        ) from exc
    if out.returncode != 0:
        raise AssertionError(
            f"`{' '.join(cmd)}` in {cwd} failed ({out.returncode}):\n"
            f"{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
        )
    return out.stdout


def init(cwd: Path, env: dict | None = None, backend: bool = False) -> None:
    args = ["init", "-input=false"]
    if not backend:
        args.append("-backend=false")
    tf(args, cwd, env, timeout=180)


def build_plugins_zip(out: Path) -> Path:
    """`python3 docker/mwaa/build_plugins.py --out <out>` (stdlib only); returns `out`."""
    done = subprocess.run(
        [sys.executable, str(BUILD_PLUGINS), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 or not out.is_file():
        raise AssertionError(f"build_plugins.py failed:\n{done.stdout}\n{done.stderr}")
    return out


def state_resources(state: dict) -> dict[str, dict]:
    """address -> resource, over every module of `terraform show -json` (state or plan's
    planned_values)."""
    found: dict[str, dict] = {}

    def walk(module: dict) -> None:
        found.update({r["address"]: r for r in module.get("resources", [])})
        for child in module.get("child_modules", []):
            walk(child)

    walk((state.get("values") or state.get("planned_values") or {}).get("root_module", {}))
    return found


def checkov_bin() -> Path:
    """checkov from its own venv (tests/venv_cache.py), built once from the pinned requirements."""
    venv, _ = cached_venv("checkov", [CHECKOV_REQUIREMENTS])
    return venv / "bin" / "checkov"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MotoServer:
    """`moto_server` on 127.0.0.1:<free port>, its own process; `aws_env()` points at it."""

    port: int
    proc: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, log: Path, attempts: int = 5) -> MotoServer:
        """Start one, on a fresh port per attempt. Ours only once OUR process says it is
        running there: parallel test workers pick free ports at the same time, and a port
        another worker's server took a moment earlier answers the same URL (ours then dies
        with "Address already in use", and the two stacks would share one moto)."""
        for _ in range(attempts):
            port = free_port()
            env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
            exe = Path(sys.executable).with_name("moto_server")
            with log.open("w") as fh:
                proc = subprocess.Popen(
                    [str(exe), "-H", "127.0.0.1", "-p", str(port)],
                    env=env,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            server = cls(port, proc, log)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if f"Running on http://127.0.0.1:{port}" in log.read_text(errors="replace"):
                    try:
                        urllib.request.urlopen(f"{server.url}/moto-api/", timeout=2)
                        if proc.poll() is None:
                            return server
                    except OSError:
                        pass
                time.sleep(0.3)
            server.stop()
            if "in use" not in log.read_text(errors="replace"):
                break  # not a port clash: retrying will not help
        raise AssertionError(f"moto server did not start:\n{log.read_text()[-2000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def aws_env(self, region: str = "eu-west-1") -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def resources_in_state(cwd: Path, env: dict) -> list[str]:
    """Addresses of the resources in a root's (local) state."""
    out = tf(["show", "-json"], cwd, env, timeout=120)
    values = json.loads(out).get("values") or {}
    found: list[str] = []

    def walk(module: dict) -> None:
        found.extend(r["address"] for r in module.get("resources", []))
        for child in module.get("child_modules", []):
            walk(child)

    walk(values.get("root_module", {}))
    return found
