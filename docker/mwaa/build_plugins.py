#!/usr/bin/env python3
"""Build plugins.zip for Amazon MWAA: the Forecourt plugin and the torch-free part of rl_core.

    python3 docker/mwaa/build_plugins.py --out build/mwaa/plugins.zip
    python3 docker/mwaa/build_plugins.py --list          # what goes in, what stays out, why

MWAA unpacks plugins.zip into $AIRFLOW_HOME/plugins, which is on every component's
sys.path (scheduler, DAG processor, workers, triggerer, API server). So the zip holds, at
its root:

- `forecourt_plugin.py`: the Forecourt page of the Airflow UI (plugins/): its routes;
- `forecourt_page/`: what the page looks like (plugins/forecourt_page/: the Jinja templates,
  the SVG chart), which forecourt_plugin.py imports from sys.path and whose templates it
  finds through the package, so they work from the unpacked zip as from plugins/;
- `rl_core/`: every module of the package that MWAA can import, with its package data
  (column mappings, the wholesale series), so the DAG's MWAA-side tasks (plan, the delivery
  sensor, validate, calibrate, plan_trials, pick_best, run_report, the failure callback)
  and the plugin's page import it as they do locally. rl_core is not pip-installed on MWAA:
  the `forecourt` distribution pins torch and Python < 3.12 (docker/mwaa/README.md);
- `.airflowignore` with `rl_core/` and plugins/.airflowignore's `forecourt_page/`: Airflow's
  plugin manager imports every .py file it finds under the plugins folder looking for
  plugins; this keeps it to forecourt_plugin.py.

Which rl_core modules stay out: those that import torch at module level, directly or
through the rl_core modules they import at module level (found by reading the source with
`ast`, not by importing it, so the build needs neither torch nor the project's packages).
MWAA has no torch, so these could not be imported there anyway; they run in the training
image as AWS Batch jobs (`forecourt pipeline step ...`). Leaving them out makes a mistake
fail loudly and early (an MWAA-side task that reaches for one gets "No module named
rl_core.training.bundle" instead of a half-imported package) and keeps the zip small.
At the time of writing that is: rl_core.agents.{dqn,networks,replay_buffer},
rl_core.envs.vector, rl_core.evaluation.{evaluate,baselines},
rl_core.training.{train,checkpoint,export,bundle}, rl_core.serving.{app,batch,predictor,
sources} and rl_core.registry.{register,compare,promotion}; `--list` prints the current
list with the import chain that brings torch in.

The zip is deterministic: entries sorted, fixed timestamps and permissions, fixed
compression. The same tree gives the same bytes, so Terraform uploads a new S3 object
version (and MWAA updates the environment) only when a shipped file changed.

Standard library only; Python 3.9 or later.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path("build") / "mwaa" / "plugins.zip"
PLUGIN = Path("plugins") / "forecourt_plugin.py"
PLUGIN_PACKAGE = Path("plugins") / "forecourt_page"  # the page's templates and chart
PLUGIN_IGNORE = Path("plugins") / ".airflowignore"  # what the plugins folder keeps out
PACKAGE = "rl_core"
# third-party packages MWAA does not have that make a module training-image only
FORBIDDEN = frozenset({"torch"})
AIRFLOWIGNORE = (
    "# Airflow's plugin manager imports every .py file under the plugins folder: only\n"
    "# forecourt_plugin.py is a plugin; rl_core/ is a library on sys.path.\n"
    "rl_core/\n"
)
# 1980-01-01 is the earliest time a zip entry can carry
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = frozenset({"__pycache__"})
SKIP_SUFFIXES = (".pyc", ".pyo")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of rl_core: dotted name -> file."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        if SKIP_DIRS.intersection(path.relative_to(root).parts):
            continue
        found[_module_name(path, root)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(path: Path, name: str) -> set[str]:
    """Dotted names a module imports when it is imported: its top-level statements, and
    those inside top-level if/try/with blocks (not `if TYPE_CHECKING:`); not imports inside
    functions or classes, which run only when called. `from a import b` gives `a` and `a.b`
    (b may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(tree.body)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> what importing it imports: rl_core modules (with their parent packages,
    which Python imports first) and the FORBIDDEN third-party roots."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        parts = name.split(".")
        deps.update(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        for imported in module_level_imports(path, name):
            top = imported.split(".")[0]
            if top in FORBIDDEN:
                deps.add(top)
            elif top == PACKAGE:
                bits = imported.split(".")
                deps.update(
                    ".".join(bits[:i])
                    for i in range(1, len(bits) + 1)
                    if ".".join(bits[:i]) in modules
                )
        deps.discard(name)
        graph[name] = deps
    return graph


def training_image_only(root: Path = ROOT) -> dict[str, list[str]]:
    """rl_core modules that import a FORBIDDEN package when imported: name -> the import
    chain (the module, the rl_core modules in between, the package)."""
    modules = package_modules(root)
    graph = import_graph(modules)
    chains: dict[str, list[str] | None] = {}

    def chain(name: str, visiting: frozenset[str]) -> list[str] | None:
        if name in FORBIDDEN:
            return [name]
        if name in chains:
            return chains[name]
        if name in visiting:  # an import cycle: decided where it started
            return None
        found = None
        for dep in sorted(graph.get(name, ())):
            sub = chain(dep, visiting | {name})
            if sub is not None:
                found = [name, *sub]
                break
        chains[name] = found
        return found

    for name in modules:
        chain(name, frozenset())
    return {name: c for name, c in sorted(chains.items()) if c is not None}


def airflowignore(root: Path = ROOT) -> str:
    """The zip's .airflowignore: rl_core/, then what plugins/.airflowignore keeps out."""
    extra = root / PLUGIN_IGNORE
    return AIRFLOWIGNORE + (extra.read_text(encoding="utf-8") if extra.is_file() else "")


def _files(folder: Path) -> list[Path]:
    """Every file under `folder` but bytecode, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith(SKIP_SUFFIXES)]
    return found


def zip_members(root: Path = ROOT) -> list[tuple[str, Path | None]]:
    """(name in the zip, source file) for every entry, sorted; source None for generated."""
    excluded = training_image_only(root)
    shipped_modules = {p for n, p in package_modules(root).items() if n not in excluded}
    excluded_files = {p for n, p in package_modules(root).items() if n in excluded}
    members: list[tuple[str, Path | None]] = [
        (".airflowignore", None),
        (PLUGIN.name, root / PLUGIN),
    ]
    plugins = root / PLUGIN.parent
    members += [(p.relative_to(plugins).as_posix(), p) for p in _files(root / PLUGIN_PACKAGE)]
    for path in _files(root / PACKAGE):
        if path in excluded_files or (path.suffix == ".py" and path not in shipped_modules):
            continue
        members.append((path.relative_to(root).as_posix(), path))
    return sorted(members)


def build(out: Path, root: Path = ROOT) -> dict:
    """Write the zip to `out` (atomically); returns a summary."""
    members = zip_members(root)
    ignore = airflowignore(root).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname, source in members:
            data = ignore if source is None else source.read_bytes()
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permissions below are read
            info.external_attr = (0o100644 & 0xFFFF) << 16  # a regular file, rw-r--r--
            archive.writestr(info, data, compresslevel=9)
    payload = buffer.getvalue()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, out)
    return {
        "out": str(out),
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "entries": len(members),
        "rl_core_modules": sum(1 for n, _ in members if n.endswith(".py") and "/" in n),
        "left_out": sorted(training_image_only(root)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / DEFAULT_OUT,
        help=f"where to write the zip (default: {DEFAULT_OUT} in the repository)",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the repository (default: this checkout)"
    )
    parser.add_argument(
        "--list", action="store_true", help="print what goes in and what stays out; write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / PLUGIN).is_file() or not (root / PACKAGE / "__init__.py").is_file():
        parser.error(f"{root} holds no {PLUGIN} or {PACKAGE}/: not a Forecourt checkout")
    if args.list:
        for arcname, _ in zip_members(root):
            print(f"in   {arcname}")
        for name, chain in training_image_only(root).items():
            print(f"out  {name}  ({' -> '.join(chain[1:])})")
        return 0
    summary = build(args.out, root)
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"wrote {summary['out']}: {summary['entries']} entries, {summary['bytes']} bytes, "
            f"sha256 {summary['sha256'][:16]}; {len(summary['left_out'])} torch modules left "
            "to the training image (--list shows them)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
