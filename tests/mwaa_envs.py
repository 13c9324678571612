"""Virtual environments that mirror Amazon MWAA's Airflow, and the probes run inside them.

Used by tests/test_mwaa_parity.py. Two sides, one file:

- imported by the test (the project's Python 3.11 venv): `ensure_env()` builds an MWAA-like
  venv once in the machine's cache of test environments (tests/venv_cache.py; or
  $FORECOURT_MWAA_VENVS), named by a hash of everything that
  decides its contents, and `run_probe()` runs this same file inside it;
- run as a script by that venv's own Python 3.12 (`python tests/mwaa_envs.py parse|runtime`):
  it parses dags/ with Airflow's DagBag, loads plugins/ through Airflow's plugins manager, or
  runs what MWAA itself runs of Forecourt (the torch-free tasks, the plugin page's data), and
  prints one JSON line. So: stdlib only at module level.

What "mirrors MWAA" means here (docker/mwaa/README.md has the why):
- Python 3.12 and the Airflow versions MWAA runs: 3.3.1 (the newest 3.3.x image in
  aws/amazon-mwaa-docker-images) and 3.0.6 (the floor);
- the Amazon provider, as MWAA preinstalls it, and docker/mwaa/requirements.txt on top;
- the packages that matter to us (the providers the DAG touches, and the data stack that
  requirements.txt brings in) held to the versions the Apache Airflow constraints file of
  that version fixes (`MWAA_PINS`), because MWAA installs requirements.txt with it. The
  full constraints file lives on GitHub, which CI cannot reach; the rest of the resolution
  is pip's;
- no torch.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
PLUGINS = ROOT / "plugins"
REQUIREMENTS = ROOT / "docker" / "mwaa" / "requirements.txt"
BUILDER_VERSION = 1  # bump to rebuild every environment after changing how they are built
BUILD_TIMEOUT_S = 15 * 60  # one build; measured at 61 to 87 s on 2 cores
PROBE_TIMEOUT_S = 300
RESULT_PREFIX = "FORECOURT-MWAA-PROBE "
MARKER = "forecourt-mwaa-env.json"
PIP_FLAGS = (
    "--only-binary=:all:",  # wheels only: fast, and what MWAA's workers can install too
    "--no-cache-dir",  # the venv is the cache; nothing written to ~/.cache
    "--disable-pip-version-check",
    "--no-input",
    "--progress-bar=off",
)

# Versions fixed by https://raw.githubusercontent.com/apache/airflow/constraints-<v>/
# constraints-3.12.txt (the file MWAA installs requirements.txt against) for the packages our
# DAG, plugins and requirements.txt touch.
MWAA_PINS = {
    "3.3.1": (
        "apache-airflow-providers-amazon==9.34.0",
        "apache-airflow-providers-standard==1.17.0",
        "apache-airflow-providers-common-compat==1.18.0",
        "apache-airflow-providers-common-io==1.8.0",
        "apache-airflow-providers-common-sql==2.1.0",
        "apache-airflow-providers-http==6.0.5",
        "apache-airflow-providers-smtp==3.0.3",
        "boto3==1.43.56",
        "botocore==1.43.56",
        "aiobotocore==3.9.0",
        "fsspec==2026.7.0",
        "s3fs==2026.7.0",
        "numpy==2.5.1",
        "pandas==3.0.5",
        "pyarrow==25.0.0",
        "scipy==1.18.0",
        "marshmallow==4.3.0",
        "pydantic==2.13.4",
        "jsonschema==4.26.0",
        "tqdm==4.70.0",
    ),
    "3.0.6": (
        "apache-airflow-providers-amazon==9.12.0",
        "apache-airflow-providers-standard==1.6.0",
        "apache-airflow-providers-common-compat==1.7.3",
        "apache-airflow-providers-common-io==1.6.2",
        "apache-airflow-providers-common-sql==1.27.5",
        "apache-airflow-providers-http==5.3.3",
        "apache-airflow-providers-smtp==2.2.0",
        "boto3==1.39.11",
        "botocore==1.39.11",
        "aiobotocore==2.24.1",
        "fsspec==2025.7.0",
        "s3fs==2025.7.0",
        "numpy==1.26.4",
        "pandas==2.1.4",
        "pyarrow==18.1.0",
        "scipy==1.16.1",
        "marshmallow==3.26.1",
        "pydantic==2.11.7",
        "jsonschema==4.25.1",
        "tqdm==4.67.1",
    ),
}


@dataclass(frozen=True)
class MwaaEnv:
    """One MWAA-like environment: what gets installed, and with which Python."""

    airflow: str
    python: str  # major.minor
    install: tuple[str, ...]  # pip targets besides `-r docker/mwaa/requirements.txt`
    about: str

    @property
    def name(self) -> str:
        return f"mwaa-airflow-{self.airflow}-py{self.python}"

    @property
    def constraints(self) -> tuple[str, ...]:
        return MWAA_PINS[self.airflow]


ENVS = (
    MwaaEnv(
        airflow="3.3.1",
        python="3.12",
        install=("apache-airflow==3.3.1", "apache-airflow-providers-amazon"),
        about="MWAA's current Airflow (amazon-mwaa-docker-images 3.3.1, Python 3.12)",
    ),
    MwaaEnv(
        airflow="3.0.6",
        python="3.12",
        # without a constraints file 3.0.6 resolves to a FastAPI/Cadwyn/PyJWT it cannot run on
        install=(
            "apache-airflow==3.0.6",
            "fastapi[standard]<0.117",
            "cadwyn<5.5",
            "pyjwt<2.11",
            "apache-airflow-providers-amazon",
        ),
        about="the floor MWAA still runs (Airflow 3.0.6, Python 3.12)",
    ),
)


class EnvBuildError(RuntimeError):
    """An environment could not be built (no Python 3.12, no network, a pip conflict)."""


class ProbeError(RuntimeError):
    """A probe crashed or printed no result."""


@dataclass(frozen=True)
class BuiltEnv:
    env: MwaaEnv
    path: Path
    python: Path  # the venv's interpreter
    build_s: float  # how long it took to build (when it was built, if cached)
    cached: bool
    versions: dict[str, str]  # every installed distribution, lower-case name -> version


# ---- building (the test's side) -------------------------------------------------------------


def venvs_dir() -> Path:
    """$FORECOURT_MWAA_VENVS, else the machine's cache of test environments (venv_cache)."""
    from venv_cache import cache_dir

    override = os.environ.get("FORECOURT_MWAA_VENVS")
    return Path(override) if override else cache_dir()


def find_python(minor: str) -> tuple[str, str]:
    """(path, full version) of a working Python `minor` (e.g. "3.12"): `python3.12` on the
    PATH, else a pyenv install. Raises EnvBuildError when there is none."""
    pyenv_roots = [os.environ.get("PYENV_ROOT"), "/root/.pyenv", os.path.expanduser("~/.pyenv")]
    candidates = [shutil.which(f"python{minor}")]
    for root in dict.fromkeys(r for r in pyenv_roots if r):
        found = glob.glob(f"{root}/versions/{minor}*/bin/python{minor}")
        candidates += sorted(found, key=_version_key, reverse=True)
    tried = []
    check = "import sys, venv, ensurepip; print(sys.executable, sys.version.split()[0])"
    for candidate in dict.fromkeys(c for c in candidates if c):
        tried.append(candidate)
        try:
            proc = subprocess.run(
                [candidate, "-c", check], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        parts = proc.stdout.split()
        if proc.returncode == 0 and len(parts) == 2 and parts[1].startswith(f"{minor}."):
            return parts[0], parts[1]
    raise EnvBuildError(
        f"no working Python {minor} (with venv and ensurepip) found; tried "
        f"{tried or ['nothing: none on the PATH or under pyenv']}. MWAA runs Python {minor}: "
        f"install it (e.g. `pyenv install {minor}`) or put python{minor} on the PATH."
    )


def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"versions/(\d+)\.(\d+)\.(\d+)", path)
    return tuple(int(x) for x in match.groups()) if match else (0,)


def env_key(env: MwaaEnv, python_version: str) -> str:
    """A hash of everything that decides what the environment holds."""
    spec = {
        "builder": BUILDER_VERSION,
        "airflow": env.airflow,
        "install": env.install,
        "constraints": env.constraints,
        "python": python_version,
        "pip_flags": PIP_FLAGS,
        "requirements": requirement_lines(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def requirement_lines() -> list[str]:
    """docker/mwaa/requirements.txt without its comments (editing those rebuilds nothing)."""
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text().splitlines())
    return [line for line in lines if line]


def ensure_env(env: MwaaEnv, say: Callable[[str], None] = print) -> BuiltEnv:
    """The environment, built now unless a build for the same pins is already there."""
    if not REQUIREMENTS.is_file():
        raise EnvBuildError(f"{REQUIREMENTS} is missing")
    python, python_version = find_python(env.python)
    key = env_key(env, python_version)
    from venv_cache import locked, prune, used

    base = venvs_dir()
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"{env.name}-{key}"
    with locked(base / f".{env.name}.lock"):
        marker = target / MARKER
        if marker.is_file():
            used(marker)
            info = json.loads(marker.read_text())
            say(
                f"[mwaa] {env.name}: cached in {target} "
                f"(built in {info['build_s']:.0f} s on {info['built_at']})"
            )
            return BuiltEnv(
                env, target, target / "bin" / "python", info["build_s"], True, info["versions"]
            )
        for stale in prune(base, env.name, keep=target, marker=MARKER):  # ~800 MB each
            say(f"[mwaa] {env.name}: removed {stale.name} (unfinished, or unused for a week)")
        if target.exists():  # a build that did not finish
            shutil.rmtree(target)
        return _build(env, python, python_version, key, target, say)


def _build(env: MwaaEnv, python: str, python_version: str, key: str, target: Path, say) -> BuiltEnv:
    say(f"[mwaa] {env.name}: building in {target} ({env.about}) with Python {python_version}")
    started = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "venv", str(target)], capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise EnvBuildError(f"`{python} -m venv {target}` failed:\n{proc.stderr[-3000:]}")
    constraints = target / "mwaa-pins.txt"
    constraints.write_text("\n".join(env.constraints) + "\n")
    venv_python = target / "bin" / "python"
    cmd = [
        str(venv_python),
        "-m",
        "pip",
        "install",
        *PIP_FLAGS,
        *env.install,
        "-r",
        str(REQUIREMENTS),
        "-c",
        str(constraints),
    ]
    log_file = target / "build.log"
    rc = _pip(cmd, log_file, say, started)
    elapsed = time.perf_counter() - started
    if rc != 0:
        raise EnvBuildError(_build_failure(env, rc, elapsed, log_file))
    versions = json.loads(
        subprocess.run(
            [str(venv_python), "-c", _LIST_DISTRIBUTIONS],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    info = {
        "env": env.name,
        "key": key,
        "python": python_version,
        "install": env.install,
        "constraints": env.constraints,
        "build_s": round(elapsed, 1),
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "versions": versions,
    }
    (target / MARKER).write_text(json.dumps(info, indent=2))  # last: marks a finished build
    say(
        f"[mwaa] {env.name}: built in {elapsed:.0f} s ({len(versions)} distributions: "
        f"apache-airflow {versions.get('apache-airflow')}, amazon provider "
        f"{versions.get('apache-airflow-providers-amazon')}, no torch)"
    )
    return BuiltEnv(env, target, venv_python, round(elapsed, 1), False, versions)


_LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
)

_NETWORK_SIGNS = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "SSLError",
)


def _pip(cmd: list[str], log_file: Path, say, started: float) -> int:
    """Run pip, its output to `log_file`, a progress line now and then; killed past the limit."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_NO_INPUT"] = "1"
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
    )
    watchdog = threading.Timer(BUILD_TIMEOUT_S, proc.kill)
    watchdog.start()
    collected = 0
    try:
        with log_file.open("w") as log:
            log.write(" ".join(cmd) + "\n")
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                elapsed = time.perf_counter() - started
                if line.startswith("Collecting "):
                    collected += 1
                    if collected % 40 == 0:
                        say(f"[mwaa]   {collected} packages resolved ({elapsed:.0f} s)")
                elif line.startswith("Installing collected packages"):
                    count = line.count(",") + 1
                    say(f"[mwaa]   installing {count} packages ({elapsed:.0f} s)")
        rc = proc.wait()
    finally:
        watchdog.cancel()
    if time.perf_counter() - started >= BUILD_TIMEOUT_S:
        with log_file.open("a") as log:
            log.write(f"\nKILLED: the build ran past {BUILD_TIMEOUT_S} s\n")
    return rc


def _build_failure(env: MwaaEnv, rc: int, elapsed: float, log_file: Path) -> str:
    text = log_file.read_text(errors="replace")
    tail = "\n".join(text.splitlines()[-25:])
    if "KILLED: the build ran past" in text:
        why = f"it ran past {BUILD_TIMEOUT_S} s (slow or stalled downloads?)"
    elif any(sign in text for sign in _NETWORK_SIGNS) or "(from versions: none)" in text:
        why = "the package index could not be reached: building these environments needs PyPI"
    elif "No matching distribution" in text or "Could not find a version" in text:
        why = (
            "a package has no wheel for this Python/platform, or PyPI could not be reached "
            "(offline?)"
        )
    elif "ResolutionImpossible" in text or "conflicting dependencies" in text:
        why = "the pins conflict (docker/mwaa/requirements.txt vs MWAA's versions)"
    else:
        why = f"pip exited with {rc}"
    return (
        f"could not build the {env.name} environment after {elapsed:.0f} s: {why}.\n"
        f"Full pip log: {log_file}\n--- last lines ---\n{tail}"
    )


# ---- probing (the test's side) --------------------------------------------------------------


def probe_environ(tmp: Path, deployed: Path | None) -> dict[str, str]:
    """A clean environment for a probe: Airflow's and Forecourt's homes in `tmp`, never ~."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp / 'airflow' / 'airflow.db'}",
        "FORECOURT_HOME": str(tmp / "forecourt"),
        "MPLCONFIGDIR": str(tmp / "mpl"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    if deployed is not None:
        env["PYTHONPATH"] = str(deployed)
    for sub in ("home", "airflow", "forecourt"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    return env


def run_probe(
    python: Path | str,
    mode: str,
    timeout: float = PROBE_TIMEOUT_S,
    extra_env: dict[str, str] | None = None,
) -> dict:
    """Run this file's `mode` probe with `python`; its JSON result.

    rl_core and the plugin come as MWAA gets them: plugins.zip (docker/mwaa/build_plugins.py,
    rl_core's torch-free part and the plugin) unpacked into the plugins folder, which is on
    the PYTHONPATH; the DAGs from dags/.
    """
    with tempfile.TemporaryDirectory(prefix="forecourt-mwaa-probe-") as tmp_name:
        tmp = Path(tmp_name)
        plugins = tmp / "plugins"
        zipped = tmp / "plugins.zip"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "docker" / "mwaa" / "build_plugins.py"),
                "--out",
                str(zipped),
            ],
            check=True,
            capture_output=True,
        )
        import zipfile

        with zipfile.ZipFile(zipped) as z:
            z.extractall(plugins)
        cmd = [str(python), str(Path(__file__).resolve()), mode]
        cmd += ["--dags", str(DAGS), "--plugins", str(plugins)]
        env = probe_environ(tmp, plugins)
        env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(plugins)
        env.update(extra_env or {})
        try:
            proc = subprocess.run(
                cmd,
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProbeError(f"the {mode} probe ran past {timeout} s with {python}") from exc
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise ProbeError(
        f"the {mode} probe printed no result (exit {proc.returncode}) with {python}\n"
        f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"
    )


def plugin_files() -> list[Path]:
    """The Python files Airflow's plugins manager would import from plugins/."""
    return sorted(p for p in PLUGINS.rglob("*.py") if "__pycache__" not in p.parts and p.is_file())


# ---- the probes (run inside an environment) -------------------------------------------------

# Plugin attributes some Airflow 3 version knows about; one that the running version's
# AirflowPlugin lacks is silently ignored there (e.g. external_views before 3.1).
PLUGIN_ATTRIBUTES = (
    "admin_views",
    "appbuilder_menu_items",
    "appbuilder_views",
    "deadline_references",
    "external_views",
    "fastapi_apps",
    "fastapi_root_middlewares",
    "flask_blueprints",
    "global_operator_extra_links",
    "hook_lineage_readers",
    "listeners",
    "macros",
    "menu_links",
    "operator_extra_links",
    "partition_mappers",
    "priority_weight_strategies",
    "react_apps",
    "timetables",
    "windows",
)


def _versions(*names: str) -> dict[str, str | None]:
    import importlib.metadata as md

    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _jsonable(value):
    return json.loads(json.dumps(value, default=repr))


def _dag_signature(dag) -> dict:
    """What must be the same on every Airflow: tasks, their wiring, params, schedule."""
    tasks = {}
    for task in dag.tasks:
        rule = task.trigger_rule
        tasks[task.task_id] = {
            "upstream": sorted(task.upstream_task_ids),
            "trigger_rule": str(getattr(rule, "value", rule)),
            "mapped": any(c.__name__ == "MappedOperator" for c in type(task).__mro__),
            "retries": task.retries,
            "teardown": bool(getattr(task, "is_teardown", False)),
            "max_active_tis_per_dagrun": getattr(task, "max_active_tis_per_dagrun", None),
            "operator": getattr(task, "operator_class", type(task)).__name__,
        }
    params = {}
    for name in dag.params:
        param = dag.params.get_param(name)
        value = param.value
        params[name] = {
            "default": None if type(value).__name__ == "ArgNotSet" else _jsonable(value),
            "schema": _jsonable(param.schema),
        }
    return {
        "task_ids": sorted(dag.task_ids),
        "tasks": tasks,
        "params": params,
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "timetable": f"{type(dag.timetable).__name__}: {getattr(dag.timetable, 'summary', '')}",
        "dagrun_timeout": str(dag.dagrun_timeout),
        "tags": sorted(dag.tags),
    }


def _roundtrip(dag) -> str:
    """Serialize and deserialize the DAG as the DAG processor and scheduler do: 'ok' or why."""
    try:
        try:  # Airflow >= 3.1
            from airflow.serialization.serialized_objects import DagSerialization as ser
        except ImportError:  # 3.0
            from airflow.serialization.serialized_objects import SerializedDAG as ser
        data = ser.to_dict(dag)  # validates against the JSON schema too
        back = ser.from_dict(json.loads(json.dumps(data)))
        if sorted(back.task_ids) != sorted(dag.task_ids):
            return f"task ids changed: {sorted(back.task_ids)}"
        return "ok"
    except Exception as exc:  # reported, asserted by the test
        return f"{type(exc).__name__}: {exc}"


def _rl_core_modules() -> list[str]:
    return sorted(m for m in sys.modules if m == "rl_core" or m.startswith("rl_core."))


def probe_parse(dags: str, plugins: str) -> dict:
    """Parse the DAG folder and load the plugins folder the way MWAA's Airflow does."""
    out: dict = {
        "python": platform.python_version(),
        "versions": _versions(
            "apache-airflow",
            "apache-airflow-core",
            "apache-airflow-task-sdk",
            "apache-airflow-providers-amazon",
            "apache-airflow-providers-standard",
            "fastapi",
            "pydantic",
        ),
    }
    started = time.perf_counter()
    try:  # Airflow >= 3.1
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # 3.0
        from airflow.models.dagbag import DagBag
    out["airflow_import_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    bag = DagBag(dag_folder=dags)  # safe mode and no examples, from the configuration
    out["parse_s"] = round(time.perf_counter() - started, 3)
    out["import_errors"] = {str(k): str(v) for k, v in bag.import_errors.items()}
    out["warnings"] = {
        str(k): [str(w) for w in v] for k, v in getattr(bag, "captured_warnings", {}).items()
    }
    out["dags"] = {dag_id: _dag_signature(dag) for dag_id, dag in bag.dags.items()}
    started = time.perf_counter()  # this is also where the plugins get loaded
    out["serialization"] = {dag_id: _roundtrip(dag) for dag_id, dag in bag.dags.items()}
    out["serialize_s"] = round(time.perf_counter() - started, 3)
    out["rl_core_at_parse"] = _rl_core_modules()
    out["torch_at_parse"] = "torch" in sys.modules

    out["plugins"] = _probe_plugins(plugins)
    out["torch_at_plugin_load"] = "torch" in sys.modules
    try:
        import torch  # noqa: F401  (must fail: MWAA workers get no torch)

        out["torch"] = getattr(torch, "__version__", "?")
        out["torch_error"] = None
    except ImportError as exc:
        out["torch"] = None
        out["torch_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _probe_plugins(folder: str) -> dict:
    from airflow import plugins_manager as pm

    out: dict = {}
    started = time.perf_counter()
    pm.ensure_plugins_loaded()
    out["load_s"] = round(time.perf_counter() - started, 3)
    if hasattr(pm, "get_import_errors"):  # Airflow >= 3.1
        errors = dict(pm.get_import_errors())
        loaded = list(pm._get_plugins()[0])
    else:  # 3.0
        errors = dict(pm.import_errors)
        loaded = list(pm.plugins or [])
    out["import_errors"] = {str(k): str(v) for k, v in errors.items()}
    supported = {a for a in PLUGIN_ATTRIBUTES if hasattr(pm.AirflowPlugin, a)}
    folder_path = str(Path(folder).resolve())
    out["loaded"] = []
    for plugin in loaded:
        source = str(getattr(plugin, "source", "") or "")
        module_file = getattr(sys.modules.get(type(plugin).__module__), "__file__", "") or ""
        declared = {
            a for a in PLUGIN_ATTRIBUTES if any(a in vars(k) for k in type(plugin).__mro__[:-1])
        }
        out["loaded"].append(
            {
                "name": plugin.name,
                "source": source,
                "from_folder": "$PLUGINS_FOLDER" in source
                or str(Path(module_file).resolve()).startswith(folder_path),
                "declares": sorted(a for a in declared if getattr(plugin, a, None)),
                "unsupported": sorted(a for a in declared - supported if getattr(plugin, a, None)),
                "fastapi_apps": [
                    {"name": app.get("name"), "url_prefix": app.get("url_prefix")}
                    for app in getattr(plugin, "fastapi_apps", None) or []
                ],
            }
        )
    out["api_server"] = _mount_check(out["loaded"])
    out["task_runtime"] = _sdk_plugins()
    return out


def _mount_check(loaded: list[dict]) -> dict:
    """Build the API server's app (as `airflow api-server` does): each folder plugin's
    FastAPI app must be mounted at its url_prefix."""
    prefixes = [app["url_prefix"] for p in loaded if p["from_folder"] for app in p["fastapi_apps"]]
    if not prefixes:
        return {"checked": False}
    try:
        from airflow.api_fastapi.app import create_app

        started = time.perf_counter()
        app = create_app()
        paths = {getattr(route, "path", None) for route in app.routes}
        return {
            "checked": True,
            "create_app_s": round(time.perf_counter() - started, 3),
            "missing": [p for p in prefixes if p not in paths],
            "error": None,
        }
    except Exception as exc:
        return {"checked": True, "missing": prefixes, "error": f"{type(exc).__name__}: {exc}"}


def _sdk_plugins() -> dict:
    """Airflow >= 3.1 loads plugins in the task runtime as well (on every worker)."""
    try:
        from airflow.sdk import plugins_manager as spm
    except ImportError:
        return {"checked": False}
    try:
        spm.integrate_macros_plugins()
        plugins, errors = spm._get_plugins()
        return {
            "checked": True,
            "loaded": sorted(p.name for p in plugins),
            "import_errors": {str(k): str(v) for k, v in errors.items()},
        }
    except Exception as exc:
        return {"checked": True, "loaded": [], "import_errors": {"<sdk>": repr(exc)}}


# Modules the tasks that need torch import; they run in the training image, not on MWAA.
TRAINING_IMAGE_MODULES = (
    "rl_core.training.train",  # train_trial
    "rl_core.registry.register",  # register_challenger
    "rl_core.registry.compare",  # evaluate_vs_champion
    "rl_core.registry.promotion",  # promote_or_keep
    "rl_core.serving.release",  # deploy_champion
    "rl_core.serving.batch",  # write_recommendations
)


def probe_runtime() -> dict:
    """What runs on MWAA itself, for real, on a small synthetic delivery: the worker's tasks
    plan_run, wait_for_delivery, validate, calibrate, plan_trials, pick_best and run_report,
    the failure callback, and the data behind the plugin's page (registry overview, recent
    runs) that the API server reads. All they import must come from the requirements file.
    """
    from datetime import date

    started = time.perf_counter()
    from rl_core.data.ingest import write_landing
    from rl_core.data.store import write_day
    from rl_core.market.model import Market
    from rl_core.market.synthetic import generate_history
    from rl_core.pipeline import runfolder, steps
    from rl_core.pipeline.contract import run_step, trial_jobs
    from rl_core.pipeline.notify import task_failed
    from rl_core.pipeline.report import write_run_report
    from rl_core.pipeline.runfolder import save

    store = os.path.join(os.environ["FORECOURT_HOME"], "store")
    day = date(2026, 3, 1)
    history = generate_history(Market(), n_stations=6, days=45, start=date(2026, 1, 16))
    by_day = {stamp.date(): frame for stamp, frame in history.groupby("date")}
    for d, frame in by_day.items():
        if d < day:
            write_day(store, d, frame)
    write_landing(store, {day: by_day[day]})

    done = []
    params = {"agents": ["demand", "profit"], "trials": 2, "calibration_days": 30, "seed": 0}
    plan = steps.plan_run(params, day, "scheduled__mwaa_parity", store=store)
    done.append("plan_run")
    assert steps.delivery_files(plan), "the sensor found no delivery"
    done.append("wait_for_delivery")
    validated = run_step("validate", plan.uri)
    assert validated["valid"], validated
    done.append("validate")
    calibration = run_step("calibrate", plan.uri)
    assert calibration["stations"] == 6, calibration
    done.append("calibrate")
    for agent in ("demand", "profit"):
        jobs = trial_jobs(plan.uri, agent)
        assert len(jobs) == 2
        done.append(f"{agent}.plan_trials")
        for i, trial in enumerate(runfolder.load(plan.agent_folder(agent), "trials.json")):
            # what train_trial (an AWS Batch job of the training image) leaves behind
            record = {**trial, "total_reward": 100.0 + i, "fraction_of_optimum": 0.9}
            save(
                steps.trial_folder(plan, agent, trial["trial"]),
                "trial.json",
                record | {"train_s": 1.0},
            )
        assert run_step("pick_best", plan.uri, agent=agent)["trial"] == 1
        done.append(f"{agent}.pick_best")
    write_run_report(plan.uri)
    done.append("run_report")
    task_failed(
        dag_id="forecourt_daily_retrain",
        run_id=plan.run_id,
        task_id="validate",
        map_index=-1,
        try_number=1,
        error="RuntimeError('probe')",
        plan=plan.uri,
    )
    done.append("on_failure_callback")

    import sagemaker_mlflow  # noqa: F401  (the MLflow auth plugin for SageMaker's ARN URIs)

    from rl_core.pipeline.run_reports import recent_runs
    from rl_core.registry.overview import registry_overview

    overview = registry_overview()
    assert set(overview["agents"]) == {"demand", "profit"}, overview
    done.append("page: registry_overview")
    runs = recent_runs()
    assert len(runs) == 1, runs
    done.append("page: recent_runs")

    torch_loaded = "torch" in sys.modules
    elsewhere = {}
    for module in TRAINING_IMAGE_MODULES:
        try:
            __import__(module)
            elsewhere[module] = "imports"
        except ImportError as exc:
            elsewhere[module] = f"{type(exc).__name__}: {exc}"
    return {
        "python": platform.python_version(),
        "versions": _versions(
            "pandas",
            "numpy",
            "pyarrow",
            "scipy",
            "s3fs",
            "great-expectations",
            "mlflow-skinny",
            "sagemaker-mlflow",
        ),
        "ran": done,
        "torch_loaded": torch_loaded,
        "wall_s": round(time.perf_counter() - started, 3),
        "training_image_modules": elsewhere,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="probe an MWAA-like environment")
    parser.add_argument("mode", choices=("parse", "runtime"))
    parser.add_argument("--dags", default=str(DAGS))
    parser.add_argument("--plugins", default=str(PLUGINS))
    args = parser.parse_args(argv)
    result = probe_parse(args.dags, args.plugins) if args.mode == "parse" else probe_runtime()
    print(RESULT_PREFIX + json.dumps(result, default=repr), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
