"""tools.check_imports: rl_core has no import cycle and imports nothing up its layers; the
check fails, naming the problem, on planted packages that break either rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `tools` is not an installed package
    sys.path.insert(0, str(ROOT))

from tools.check_imports import check, find_cycles, render  # noqa: E402


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.check_imports", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _plant(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_rl_core_has_no_cycle_and_respects_its_layers():
    report = check()
    assert report.ok, render(report, "rl_core")
    assert report.modules > 100 and len(report.edges) > 300  # it did read the package
    done = _run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("OK")


def test_a_planted_cycle_fails_and_is_named(tmp_path):
    _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "import pkg.c\n",
            "pkg/c.py": "from . import a\n",
            # closed only by a function-level import: reported, not a failure
            "pkg/d.py": "from pkg.e import x\n",
            "pkg/e.py": "def x():\n    from pkg import d\n",
            # closed only under TYPE_CHECKING: never runs, not an edge
            "pkg/f.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.g\n",
            "pkg/g.py": "import pkg.f\n",
        },
    )
    report = check(tmp_path, "pkg", layers=None)
    assert report.cycles == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert report.lazy_cycles == [["pkg.d", "pkg.e", "pkg.d"]]
    done = _run("--root", str(tmp_path), "--package", "pkg")
    assert done.returncode == 1, done.stdout
    assert "FAIL import cycle (module level): pkg.a -> pkg.b -> pkg.c -> pkg.a" in done.stdout
    assert "pkg.f" not in done.stdout
    assert done.stdout.rstrip().endswith("FAILED")


def test_imports_up_the_layers_fail_unless_inside_a_function(tmp_path):
    _plant(
        tmp_path,
        {
            "rl_core/__init__.py": "",
            "rl_core/errors.py": "",
            "rl_core/market/__init__.py": "",
            "rl_core/market/model.py": "from rl_core.errors import x\n",
            "rl_core/market/bad.py": "from rl_core.training import train\n",
            "rl_core/market/lazy.py": "def f():\n    from rl_core.training.train import t\n",
            "rl_core/training/__init__.py": "",
            "rl_core/training/train.py": "from rl_core.market.model import Market\n",
            "rl_core/gadgets/__init__.py": "",
        },
    )
    report = check(tmp_path, "rl_core", allowed={})
    assert report.violations == [
        "rl_core.market.bad:1 imports rl_core.training.train (layer 'market' imports "
        "'training', above it)"
    ]
    assert report.unlayered == ["rl_core.gadgets: subpackage 'gadgets' is in no layer"]
    assert [p.split(" ")[0] for p in report.lazy_up] == ["rl_core.market.lazy:2"]
    assert not report.cycles and not report.ok
    # an exception lets a listed pair through; one no longer imported is stale and fails
    allowed = {("rl_core.market.bad", "rl_core.training.train"): "reason"}
    assert check(tmp_path, "rl_core", allowed=allowed).violations == []
    stale = check(tmp_path, "rl_core", allowed={("rl_core.market.model", "rl_core.data"): "x"})
    assert stale.stale == ["rl_core.market.model -> rl_core.data"]
    done = _run("--root", str(tmp_path))
    assert done.returncode == 1 and "FAIL import up the layers: rl_core.market.bad" in done.stdout


def test_find_cycles_on_small_graphs():
    assert find_cycles("abc", [("a", "b"), ("b", "c")]) == []
    assert find_cycles("ab", [("a", "a")]) == [["a", "a"]]
    two = find_cycles("abcde", [("a", "b"), ("b", "a"), ("c", "d"), ("d", "e"), ("e", "c")])
    assert two == [["a", "b", "a"], ["c", "d", "e", "c"]]
