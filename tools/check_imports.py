"""Check rl_core's import graph: no cycles, and no import up the layer order.

    python -m tools.check_imports                  # rl_core in this repository
    python -m tools.check_imports --root DIR --package NAME [--verbose]

Reads the source with `ast`; nothing is imported or executed. Two graphs are built:

- module level: what runs when a module is imported (top-level statements, class bodies,
  top-level if/try/with blocks; `if TYPE_CHECKING:` blocks are left out, they never run);
- function level: imports inside functions and methods, which run only when called (the
  lazy imports that keep the CLI, the DAG parser and MWAA free of torch and MLflow).

It fails (exit 1), naming each problem, when

1. module-level imports form a cycle (Python then hands one module half-initialised to the
   other: it works or not depending on which is imported first);
2. for rl_core, a module-level import goes UP the layer order `LAYERS` (rl_core/__init__.py),
   unless the pair is listed in `ALLOWED` with its reason. A module whose subpackage is in
   no layer fails too, so a new subpackage has to be placed, and so does an `ALLOWED` pair
   that is no longer imported, so the exceptions cannot go stale.

Function-level imports are reported (counts, up-layer imports, cycles they close) but do
not fail: a lazy import is the sanctioned way for a lower layer's entry point (a CLI, a
pipeline step) to reach a higher one at call time.

Edges are the imports as written: `from pkg import sub` is an edge to `pkg.sub` when that
is a module, else to `pkg`; the implicit import of parent packages is not an edge, and
`importlib.import_module("...")` (the lazy `__getattr__` of rl_core.registry and
rl_core.serving) is not seen. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "rl_core"

# rl_core's layers, lowest first: a module may import its own layer and those below it.
# evaluation sits below agents and training: it scores any policy (a function of
# observations) against the exact optimum, knows nothing of DQN, and the training loop
# calls it every `eval_interval` steps.
LAYERS: tuple[str, ...] = (
    "data",
    "validation",
    "market",
    "envs",
    "evaluation",
    "agents",
    "training",
    "registry",
    "serving",
    "pipeline",
    "study",
    "cli",
)
# shared utilities: any layer may import them; they import no layer
SHARED: frozenset[str] = frozenset({"telemetry", "errors", "paths"})
# module-level imports up the layer order that are allowed, each with its reason
ALLOWED: dict[tuple[str, str], str] = {
    ("rl_core.registry.handoff", "rl_core.pipeline.runfolder"): (
        "runfolder is a dependency-free fsspec helper (JSON records and staged folders at any "
        "URI) that lives in pipeline/; pipeline/__init__ imports nothing, so nothing above "
        "registry comes with it"
    ),
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    level: str  # "module" | "function"


@dataclass
class Report:
    modules: int
    edges: list[Edge]
    cycles: list[list[str]] = field(default_factory=list)  # module level
    violations: list[str] = field(default_factory=list)  # module level, up the layers
    unlayered: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # ALLOWED pairs no longer imported
    lazy_up: list[str] = field(default_factory=list)  # function level, up the layers
    lazy_cycles: list[list[str]] = field(default_factory=list)  # closed by function level

    @property
    def ok(self) -> bool:
        return not (self.cycles or self.violations or self.unlayered or self.stale)


# ---- reading the source ------------------------------------------------------------------------


def package_modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `root`: dotted name -> file."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    """The dotted names an import statement reaches (submodules where `from x import sub`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: resolve against this module's package
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    return [module] + [f"{module}.{alias.name}" for alias in node.names]


def imports_of(path: Path, name: str) -> list[tuple[str, int, str]]:
    """(dotted target, line, "module" | "function") for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int, str]] = []

    def visit(nodes: Iterable[ast.AST], level: str) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.extend((t, node.lineno, level) for t in _targets(node, name, is_package))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(ast.iter_child_nodes(node), "function")
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse, level)  # the body never runs
            else:
                visit(ast.iter_child_nodes(node), level)

    visit(tree.body, "module")
    return found


def import_graph(root: Path, package: str) -> tuple[dict[str, Path], list[Edge]]:
    """The package's modules and the edges between them (imports of other packages left out)."""
    modules = package_modules(root, package)
    edges: set[Edge] = set()
    for name, path in modules.items():
        by_statement: dict[tuple[int, str], list[str]] = {}
        for target, line, level in imports_of(path, name):
            by_statement.setdefault((line, level), []).append(target)
        for (line, level), targets in by_statement.items():
            # `from pkg import a, b`: the submodules a and b if they are modules, else pkg
            subs = [t for t in targets[1:] if t in modules]
            chosen = subs or [t for t in targets if t in modules][:1]
            if not chosen:  # `import pkg.sub.attr`-like: the longest module prefix
                for target in targets:
                    bits = target.split(".")
                    prefixes = (".".join(bits[:i]) for i in range(len(bits), 0, -1))
                    hit = next((p for p in prefixes if p in modules), None)
                    if hit:
                        chosen = [hit]
                        break
            edges.update(Edge(name, t, line, level) for t in chosen if t != name)
    return modules, sorted(edges, key=lambda e: (e.source, e.line, e.target, e.level))


# ---- the checks ------------------------------------------------------------------------------


def find_cycles(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """One cycle (a, b, ..., a) per strongly connected component with more than one module
    (or a module importing itself), by Tarjan's algorithm (iterative)."""
    graph: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    for targets in graph.values():
        targets.sort()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(sorted(component))
    return [_cycle_in(sorted(c), graph) for c in sorted(components)]


def _cycle_in(component: list[str], graph: dict[str, list[str]]) -> list[str]:
    """A concrete cycle through the component's first module (breadth first: a shortest)."""
    members, start = set(component), component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in graph[node]:
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if child in members and child not in parent:
                    parent[child] = node
                    following.append(child)
        frontier = following
    return [start, start]  # not reached: a component is strongly connected


def layer_of(module: str) -> str:
    """The layer (or shared utility) of a module: its first component under the package
    ("" for the package's own __init__, which counts as shared)."""
    bits = module.split(".")
    return "" if len(bits) == 1 else bits[1]


def check(
    root: Path = ROOT,
    package: str = PACKAGE,
    layers: Sequence[str] | None = LAYERS,
    shared: frozenset[str] = SHARED,
    allowed: dict[tuple[str, str], str] | None = None,
) -> Report:
    """Build the graph of `package` under `root` and run the checks (`layers` None: no
    layer check, for packages other than rl_core)."""
    allowed = ALLOWED if allowed is None else allowed
    modules, edges = import_graph(root, package)
    report = Report(modules=len(modules), edges=edges)
    module_edges = [(e.source, e.target) for e in edges if e.level == "module"]
    report.cycles = find_cycles(modules, module_edges)
    all_cycles = find_cycles(modules, [(e.source, e.target) for e in edges])
    report.lazy_cycles = [c for c in all_cycles if c not in report.cycles]
    if layers is None:
        return report

    rank = {name: i for i, name in enumerate(layers)}
    for name in modules:
        layer = layer_of(name)
        if layer and layer not in rank and layer not in shared:
            report.unlayered.append(f"{name}: subpackage {layer!r} is in no layer")

    def up(edge: Edge) -> str | None:
        src, dst = layer_of(edge.source), layer_of(edge.target)
        if dst == "" or dst in shared or src == dst:
            return None
        if src in shared or src == "":
            why = f"shared utility {src or package!r} imports layer {dst!r}"
        elif src in rank and dst in rank and rank[dst] > rank[src]:
            why = f"layer {src!r} imports {dst!r}, above it"
        else:
            return None
        return f"{edge.source}:{edge.line} imports {edge.target} ({why})"

    imported = {(e.source, e.target) for e in edges if e.level == "module"}
    report.stale = [f"{a} -> {b}" for a, b in sorted(allowed) if (a, b) not in imported]
    for edge in edges:
        problem = up(edge)
        if problem is None:
            continue
        if edge.level == "function":
            report.lazy_up.append(problem)
        elif (edge.source, edge.target) not in allowed:
            report.violations.append(problem)
    return report


def render(report: Report, package: str, verbose: bool = False) -> str:
    n_module = sum(e.level == "module" for e in report.edges)
    lines = [
        f"{package}: {report.modules} modules, {n_module} module-level imports between them, "
        f"{len(report.edges) - n_module} function-level (lazy) ones"
    ]
    for cycle in report.cycles:
        lines.append("FAIL import cycle (module level): " + " -> ".join(cycle))
    for problem in report.violations:
        lines.append("FAIL import up the layers: " + problem)
    for problem in report.unlayered:
        lines.append("FAIL unlayered module: " + problem)
    for pair in report.stale:
        lines.append(f"FAIL allowed exception no longer needed (remove it from ALLOWED): {pair}")
    for (src, dst), reason in sorted(ALLOWED.items()) if package == PACKAGE else ():
        lines.append(f"allowed: {src} -> {dst}: {reason}")
    for problem in report.lazy_up:
        lines.append("function-level import up the layers (allowed, runs at call time): " + problem)
    for cycle in report.lazy_cycles:
        lines.append("cycle closed by a function-level import (allowed): " + " -> ".join(cycle))
    if verbose:
        lines.append("module-level imports:")
        lines.extend(
            f"  {e.source}:{e.line} -> {e.target}" for e in report.edges if e.level == "module"
        )
    lines.append("OK" if report.ok else "FAILED")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="folder holding the package")
    parser.add_argument("--package", default=PACKAGE, help="package name (default rl_core)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every import")
    args = parser.parse_args(argv)
    if not (args.root / args.package / "__init__.py").is_file():
        parser.error(f"no package {args.package!r} under {args.root}")
    report = check(args.root, args.package, LAYERS if args.package == PACKAGE else None)
    print(render(report, args.package, args.verbose))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
