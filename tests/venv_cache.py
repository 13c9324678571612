"""One cache per machine for the environments the tests build, keyed by what they are built from.

The tests build Python environments that must not be the project's own: MWAA's Airflows
(tests/mwaa_envs.py), the serving image's (tests/test_images.py), checkov and hadolint.
Each takes from 20 s to several minutes to install, so they live OUTSIDE the checkout, in
$FORECOURT_VENV_CACHE (default /tmp/forecourt-venvs: never the home directory), named
`<name>-<hash of the pins>`: a fresh clone (CI) reuses what an earlier run on the machine
built, and a change of pins builds anew. Set the variable to a fresh folder to measure a
cold machine.

Builders hold a per-name file lock (`locked`), so parallel test workers and concurrent
checkouts build each environment once. `prune` removes another key's build only when it is
unfinished (no marker: its builder died; the lock says nobody is building it) or unused
for `STALE_DAYS` days, so two checkouts at different pins do not delete each other's
environment while it is in use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CACHE_ENV = "FORECOURT_VENV_CACHE"
DEFAULT_CACHE = Path("/tmp/forecourt-venvs")
STALE_DAYS = 7
PIP_FLAGS = ["--no-cache-dir", "--disable-pip-version-check", "--quiet"]
BUILDER_VERSION = 1  # bump to rebuild every `cached_venv` after changing how they are built


def cache_dir() -> Path:
    """$FORECOURT_VENV_CACHE, else /tmp/forecourt-venvs (created, git-ignored)."""
    base = Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)
    base.mkdir(parents=True, exist_ok=True)
    ignore = base / ".gitignore"
    if not ignore.exists():  # as `python -m venv` does: git and ruff skip the folder
        ignore.write_text("# environments built by Forecourt's tests: nothing here is source\n*\n")
    return base


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (one builder at a time, across processes)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def used(marker: Path) -> None:
    """Record that a cached build was used now (what `prune` ages builds by)."""
    with contextlib.suppress(OSError):
        os.utime(marker)


def prune(base: Path, name: str, keep: Path, marker: str) -> list[Path]:
    """Remove the other builds of `name` that are unfinished or unused for STALE_DAYS days.

    Call it holding `name`'s lock: then a build without its marker is a dead one.
    """
    removed = []
    cutoff = time.time() - STALE_DAYS * 86_400
    for other in base.glob(f"{name}-*"):
        if not other.is_dir() or other == keep:
            continue
        stamp = other / marker
        if not stamp.is_file() or stamp.stat().st_mtime < cutoff:
            shutil.rmtree(other, ignore_errors=True)
            removed.append(other)
    return removed


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirements, sorted, comments and blank lines aside."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return sorted(line for line in lines if line)


def cached_venv(name: str, requirements: list[Path], base: Path | None = None) -> tuple[Path, bool]:
    """(venv, was cached): a venv holding exactly `requirements`, built once per their pins."""
    base = base or cache_dir()
    spec = {
        "builder": BUILDER_VERSION,
        "python": sys.version.split()[0],
        "pip_flags": PIP_FLAGS,
        "requirements": [requirement_lines(p) for p in requirements],
    }
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    target = base / f"{name}-{key}"
    marker = target / ".built"
    with locked(base / f".{name}.lock"):
        if marker.is_file():
            used(marker)
            return target, True
        prune(base, name, keep=target, marker=".built")
        shutil.rmtree(target, ignore_errors=True)  # a build that did not finish
        print(f"\nbuilding {target} from {', '.join(p.name for p in requirements)}...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=300)
        args = [arg for p in requirements for arg in ("-r", str(p))]
        pip = subprocess.run(
            [str(target / "bin" / "python"), "-m", "pip", "install", *PIP_FLAGS, *args],
            capture_output=True,
            text=True,
            timeout=1500,
        )
        if pip.returncode != 0:
            raise AssertionError(
                f"could not build {target} (needs PyPI):\n{pip.stdout[-2000:]}{pip.stderr[-3000:]}"
            )
        marker.write_text(json.dumps(spec))  # last: marks a finished build
        return target, False
