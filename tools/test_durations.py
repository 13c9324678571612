"""Per-file test durations from a pytest JUnit report: what `make test` spends its time on.

    python -m tools.test_durations var/test-results.xml            # the slowest files
    python -m tools.test_durations var/test-results.xml --all      # every file (markdown)
    python -m tools.test_durations var/test-results.xml --write    # update tests/durations.json

A file's time is the sum of its tests' setup, call and teardown (JUnit's `time`), so module
fixtures count once, in the test that first uses them. tests/durations.json is what
tests/conftest.py orders the run by (longest first, for the parallel workers); refresh it
with `--write` after a change moves a file's time by more than a little.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

DURATIONS = Path(__file__).resolve().parents[1] / "tests" / "durations.json"


def per_file(report: Path) -> dict[str, dict[str, float]]:
    """{"tests/test_x.py": {"seconds": s, "tests": n}} from a JUnit XML report."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SystemExit(f"cannot read the JUnit report {report}: {exc}") from None
    files: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "tests": 0})
    for case in root.iter("testcase"):
        module = case.get("classname", "").split("::")[0]
        # classname is the dotted module, plus a class for tests in classes
        parts = module.split(".")
        while parts and not parts[-1].startswith("test_"):
            parts.pop()
        name = "/".join(parts) + ".py" if parts else module
        files[name]["seconds"] += float(case.get("time", 0) or 0)
        files[name]["tests"] += 1
    return dict(sorted(files.items(), key=lambda kv: -kv[1]["seconds"]))


def table(files: dict[str, dict[str, float]], limit: int | None) -> str:
    total = sum(f["seconds"] for f in files.values())
    rows = list(files.items())[:limit] if limit else list(files.items())
    lines = ["| file | tests | seconds | share |", "|---|---:|---:|---:|"]
    lines += [
        f"| {name} | {int(f['tests'])} | {f['seconds']:.1f} | {f['seconds'] / total:.1%} |"
        for name, f in rows
    ]
    count = int(sum(f["tests"] for f in files.values()))
    lines.append(f"| all {len(files)} files | {count} | {total:.1f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("report", type=Path, help="pytest --junitxml output")
    p.add_argument("--all", action="store_true", help="every file, not the 10 slowest")
    p.add_argument("--write", action="store_true", help=f"update {DURATIONS.name}")
    args = p.parse_args(argv)
    files = per_file(args.report)
    if not files:
        print(f"{args.report}: no test cases", file=sys.stderr)
        return 1
    print("Test time per file (sum of setup, call and teardown; workers run files side by side):")
    print(table(files, None if args.all else 10))
    if args.write:
        DURATIONS.write_text(
            json.dumps({k: round(v["seconds"], 1) for k, v in files.items()}, indent=1) + "\n"
        )
        print(f"wrote {DURATIONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
