"""Helpers shared by the benchmark scripts: JSON output, machine facts, medians and ratios.

Every benchmark prints exactly one JSON object to stdout (progress goes to stderr) and
writes the same object to `benchmarks/results/<name>.json` (the folder is git-ignored).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def log(*parts: object) -> None:
    """A progress line for the person watching (stderr, so stdout stays one JSON object)."""
    print(*parts, file=sys.stderr, flush=True)


def _clean(value):
    """JSON-safe copy: numpy scalars/arrays to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalar or array
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit(name: str, payload: dict, *, stdout: bool = True) -> Path:
    """Write `payload` to benchmarks/results/<name>.json and print it as one JSON object."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(payload), indent=2)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(text + "\n")
    if stdout:
        print(text, flush=True)
    log(f"[{name}] results written to {path}")
    return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - optional dependency, any import failure means absent
        return None


def machine_facts() -> dict:
    """What the numbers were measured on."""
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    return {
        "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],
        "gpu": torch.cuda.is_available(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "numpy": _version("numpy"),
        "gymnasium": _version("gymnasium"),
        "stable_baselines3": _version("stable_baselines3"),
    }


def set_single_thread() -> int:
    """Pin torch to one intra-op thread (as Forecourt's training does); returns the count."""
    import torch

    torch.set_num_threads(1)
    return torch.get_num_threads()


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None (None when there are none)."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return float(xs[mid]) if len(xs) % 2 else float((xs[mid - 1] + xs[mid]) / 2)


def censored_median(values: Sequence[float | None]) -> float | None:
    """Median where None means "never happened" (+infinity): None if the median is never.

    With three seeds of which two reached a target at 2 s and 4 s, the median is 4 s; if
    only one reached it, the median run never did and the answer is None.
    """
    if not values:
        return None
    xs = sorted(math.inf if v is None else float(v) for v in values)
    mid = len(xs) // 2
    m = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
    return None if math.isinf(m) else float(m)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, None if either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)
