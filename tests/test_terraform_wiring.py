"""What Terraform ships to MWAA besides the DAGs: plugins.zip (docker/mwaa/build_plugins.py)
and the startup script (docker/mwaa/startup.sh).

- the build is deterministic: the same tree gives the same bytes whatever the files' times,
  so the S3 object version (and the MWAA environment) changes only with the content;
- the zip holds the plugin at its root with the package that renders its page (templates
  included: the page renders from the unpacked zip alone), rl_core's pipeline and package
  data, and an .airflowignore that keeps Airflow's plugin loader to the plugin;
- no module in it imports torch when imported, read with `ast` through every rl_core import
  (an implementation of its own, not the build script's), and every module in it really
  imports, from the zip alone, with torch made unimportable;
- the startup script maps forecourt.* options (AIRFLOW__FORECOURT__*) to FORECOURT_*.

The wiring of the stack itself (job definition, MWAA options, pinned uploads, the plan that
fails without plugins.zip) is checked on a plan of the Dev root in tests/test_terraform.py.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from terraform_tools import ROOT, build_plugins_zip

STARTUP = ROOT / "docker" / "mwaa" / "startup.sh"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_plugins_zip(tmp_path_factory.mktemp("mwaa") / "plugins.zip")


@pytest.fixture(scope="module")
def members(built) -> dict[str, bytes]:
    with zipfile.ZipFile(built) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.fixture(scope="module")
def extracted(built, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plugins")  # what MWAA makes of $AIRFLOW_HOME/plugins
    with zipfile.ZipFile(built) as z:
        z.extractall(folder)
    return folder


def test_the_build_is_deterministic(built, tmp_path):
    """Twice from the checkout, and once from a copy whose files all have other times."""
    again = build_plugins_zip(tmp_path / "again.zip")
    assert again.read_bytes() == built.read_bytes()

    copy = tmp_path / "copy"
    shutil.copytree(
        ROOT / "rl_core", copy / "rl_core", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        ROOT / "plugins", copy / "plugins", ignore=shutil.ignore_patterns("__pycache__")
    )
    later = time.time() + 86_400
    for path in copy.rglob("*"):
        os.utime(path, (later, later))
    done = subprocess.run(
        [sys.executable, str(ROOT / "docker/mwaa/build_plugins.py"), "--root", str(copy)]
        + ["--out", str(tmp_path / "copy.zip")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "copy.zip").read_bytes() == built.read_bytes()

    with zipfile.ZipFile(built) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names), "entries must be sorted"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert len(set(names)) == len(names)


def test_the_zip_holds_the_plugin_and_the_pipeline(members):
    assert members["forecourt_plugin.py"] == (ROOT / "plugins/forecourt_plugin.py").read_bytes()
    page = ROOT / "plugins" / "forecourt_page"
    shipped = {
        p.relative_to(page.parent).as_posix(): p.read_bytes()
        for p in page.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "forecourt_page/templates/page.html" in shipped
    assert {n: d for n, d in members.items() if n.startswith("forecourt_page/")} == shipped
    assert "rl_core/__init__.py" in members
    pipeline = {f"rl_core/pipeline/{p.name}" for p in (ROOT / "rl_core/pipeline").glob("*.py")}
    assert pipeline <= set(members), sorted(pipeline - set(members))
    for needed in (
        "rl_core/telemetry/catalogue.py",
        "rl_core/pipeline/notify.py",
        "rl_core/registry/overview.py",
        "rl_core/validation/validate.py",
        "rl_core/market/calibration.py",
        "rl_core/data/store.py",
        "rl_core/data/mappings/nsw_fuelcheck.json",  # package data travels too
    ):
        assert needed in members, needed
    assert not [n for n in members if "__pycache__" in n or n.endswith(".pyc")]
    assert b"rl_core/" in members[".airflowignore"]
    assert (ROOT / "plugins/.airflowignore").read_bytes() in members[".airflowignore"]
    # nothing that needs torch: the training image runs those steps
    for torch_module in ("rl_core/agents/networks.py", "rl_core/training/train.py"):
        assert torch_module not in members


def _imports_at_import_time(source: str, name: str, is_package: bool) -> set[str]:
    """Dotted names a module imports when it is imported (not inside functions; not under
    `if TYPE_CHECKING:`); `from a import b` counts a and a.b."""
    found: set[str] = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                package = name.split(".") if is_package else name.split(".")[:-1]
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(ast.parse(source).body)
    return found


def test_no_module_in_the_zip_imports_torch(members):
    """Follow every import-time rl_core import inside the zip: none reaches torch, and each
    one resolves to a module the zip holds (MWAA has nothing else)."""
    modules = {}
    for arcname, data in members.items():
        if arcname.startswith("rl_core/") and arcname.endswith(".py"):
            parts = arcname[: -len(".py")].split("/")
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = _imports_at_import_time(data.decode(), name, is_package)
    assert len(modules) > 40, sorted(modules)

    def reaches_torch(name: str, path: tuple[str, ...]) -> list[str] | None:
        bits = name.split(".")
        parents = [".".join(bits[:i]) for i in range(1, len(bits))]
        for dep in sorted(modules[name] | set(parents)):
            top = dep.split(".")[0]
            if top == "torch":
                return [*path, name, dep]
            if top != "rl_core" or dep in path or dep == name:
                continue
            if dep in modules:
                found = reaches_torch(dep, (*path, name))
                if found:
                    return found
            elif dep.rsplit(".", 1)[0] not in modules:  # not `from pkg import attribute`
                raise AssertionError(f"{name} imports {dep}, which is not in plugins.zip")
        return None

    offenders = {n: chain for n in modules if (chain := reaches_torch(n, ()))}
    assert not offenders, "\n".join(" -> ".join(c) for c in offenders.values())


def test_every_module_in_the_zip_imports_from_the_zip_without_torch(members, extracted):
    names = sorted(
        ".".join(
            Path(n[: -len(".py")]).parts[:-1]
            if n.endswith("/__init__.py")
            else Path(n[: -len(".py")]).parts
        )
        for n in members
        if n.startswith("rl_core/") and n.endswith(".py")
    )
    probe = f"""
import importlib, importlib.abc, json, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch on MWAA")
sys.meta_path = [NoTorch()] + [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, {str(extracted)!r})
failed = {{}}
for name in {names!r}:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{{type(exc).__name__}}: {{exc}}"
import rl_core
result = {{"failed": failed, "rl_core": rl_core.__file__, "torch": "torch" in sys.modules}}
print(json.dumps(result))
"""
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MPLCONFIGDIR": "/tmp/forecourt-mpl"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=extracted,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rl_core"].startswith(str(extracted)), result["rl_core"]
    assert not result["torch"]
    assert not result["failed"], json.dumps(result["failed"], indent=1)


@pytest.mark.parametrize("syntax", ["glob", "regexp"])
def test_airflow_sees_only_the_plugin_in_plugins_folder(extracted, syntax):
    """Airflow imports every .py file of the plugins folder that .airflowignore keeps: only
    forecourt_plugin.py, whichever ignore syntax the environment uses."""
    pytest.importorskip("airflow")
    try:  # Airflow >= 3.1
        from airflow._shared.module_loading import find_path_from_directory
    except ImportError:  # pragma: no cover - Airflow 3.0.x (MWAA's floor)
        from airflow.utils.file import find_path_from_directory
    found = sorted(
        Path(p).relative_to(extracted).as_posix()
        for p in find_path_from_directory(extracted, ".airflowignore", syntax)
        if p.endswith(".py")
    )
    assert found == ["forecourt_plugin.py"], found


PAGE_FROM_THE_ZIP = """
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("forecourt_plugin", "forecourt_plugin.py")
mod = importlib.util.module_from_spec(spec)
sys.modules["forecourt_plugin"] = mod
spec.loader.exec_module(mod)
import forecourt_page
from fastapi.testclient import TestClient
evil = "<script>alert(1)</script>"
point = {"version": "1", "fraction_of_optimum": 0.97, "champion": True, "decision": "promoted"}
agent = {"name": "forecourt-profit", "champion": "1", "trend": [point]}
data = {"registry": {"agents": {"profit": agent}}, "runs": [], "errors": {"runs": evil}}
mod.collect = lambda limit: data
mod.app.dependency_overrides[mod.authorize] = lambda: None
http = TestClient(mod.app)
page, icon = http.get("/"), http.get("/icon.svg")
print(json.dumps({
    "package": str(Path(forecourt_page.__file__).resolve()),
    "status": page.status_code,
    "page": page.text,
    "icon": icon.text,
}))
"""


def test_the_page_renders_from_the_unpacked_zip_alone(extracted):
    """As on MWAA: the plugin, its package and the templates come from the unpacked zip
    (on sys.path), nothing from the checkout."""
    pytest.importorskip("airflow")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", PAGE_FROM_THE_ZIP],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=extracted,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["package"].startswith(str(extracted.resolve())), result["package"]
    assert result["status"] == 200
    page = result["page"]
    assert "Champion: <b>v1</b>" in page and 'data-version="1"' in page
    assert "Run reports unavailable: &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert ":root{--fg:" in page  # the stylesheet, from templates/forecourt.css
    assert result["icon"].startswith("<svg")


def _source(script: Path, env: dict[str, str]) -> tuple[dict[str, str], str]:
    done = subprocess.run(
        ["sh", "-c", f'. "{script}" && env'],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    pairs = [line.split("=", 1) for line in done.stdout.splitlines() if "=" in line]
    return dict(pairs), done.stderr


def test_startup_script_maps_forecourt_options_to_settings():
    env, errors = _source(
        STARTUP,
        {
            "AIRFLOW__FORECOURT__STORE": "s3://data/store",
            "AIRFLOW__FORECOURT__RUNS": "s3://artifacts/runs",
            "AIRFLOW__FORECOURT__RUNNER": "batch",
            "AIRFLOW__FORECOURT__MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "AIRFLOW__FORECOURT__ENV": "dev",
            "AIRFLOW__FORECOURT__SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
            "FORECOURT_ENV": "kept",  # set already: wins, as the DAG's setdefault does
        },
    )
    assert env["FORECOURT_STORE"] == "s3://data/store"
    assert env["FORECOURT_RUNS"] == "s3://artifacts/runs"
    assert env["FORECOURT_RUNNER"] == "batch"
    assert env["FORECOURT_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert env["FORECOURT_SNS_TOPIC_ARN"] == "arn:aws:sns:eu-west-1:123456789012:t"
    assert env["FORECOURT_ENV"] == "kept"
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert env["FORECOURT_HOME"] == "/tmp/forecourt"
    assert "not set" not in errors, errors


def test_startup_script_names_missing_settings_and_still_succeeds():
    env, errors = _source(STARTUP, {})
    assert "FORECOURT_STORE is not set" in errors
    assert "forecourt.mlflow_tracking_uri" in errors
    assert not any(k.startswith("FORECOURT_") and k != "FORECOURT_HOME" for k in env)
