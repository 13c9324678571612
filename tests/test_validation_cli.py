"""`forecourt data validate`: exit codes 0 / 1 / 2, the human summary, `--json` last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import rl_core.cli as forecourt_cli
from rl_core.data.store import list_days, write_day
from rl_core.market.model import Market
from rl_core.market.synthetic import generate_history
from rl_core.validation.cli import add_validate_parser

DAY = date(2026, 1, 8)

# Until rl_core/cli.py wires the command in, the tests add it the same way it will:
# `add_validate_parser(<the "data" sub-parsers>)`.
WIRE = textwrap.dedent(
    """
    import rl_core.cli as _cli
    from rl_core.validation.cli import add_validate_parser as _add

    def _with_validate(_build=_cli.build_parser):
        parser = _build()
        data = parser._subparsers._group_actions[0].choices["data"]
        sub = data._subparsers._group_actions[0]
        if "validate" not in sub.choices:
            _add(sub)
        return parser
    """
)


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    original = forecourt_cli.build_parser

    def build():
        parser = original()
        data = parser._subparsers._group_actions[0].choices["data"]
        sub = data._subparsers._group_actions[0]
        if "validate" not in sub.choices:
            add_validate_parser(sub)
        return parser

    monkeypatch.setattr(forecourt_cli, "build_parser", build)


@pytest.fixture
def setup(tmp_path):
    history = generate_history(Market(), n_stations=60, days=8, seed=1)
    store = tmp_path / "store"
    for day, rows in history[history["date"] < pd.Timestamp(DAY)].groupby("date"):
        write_day(store, day.date(), rows)
    day = history[history["date"] == pd.Timestamp(DAY)]
    landing = tmp_path / "landing"
    landing.mkdir()
    good = landing / "pricing-2026-01-08.csv"
    day.to_csv(good, index=False)
    bad = landing / "bad-2026-01-08.csv"
    day.assign(price=day["price"].where(day["station_id"] != "S003", 999.0)).to_csv(
        bad, index=False
    )
    return store, good, bad


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_valid_file_exits_0_with_summary(setup, capsys):
    store, good, _ = setup
    assert forecourt_cli.main(["data", "validate", str(good), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "VALID" in out and "Stored:" in out
    assert DAY in list_days(store)


def test_valid_file_json_is_the_last_line(setup, capsys):
    store, good, _ = setup
    code = forecourt_cli.main(["data", "validate", str(good), "--store", str(store), "--json"])
    captured = capsys.readouterr()
    payload = last_json(captured.out)
    assert code == 0 and payload["valid"] is True and payload["day"] == "2026-01-08"
    assert payload["failed"] == [] and Path(payload["stored_uri"]).is_file()
    assert "VALID" in captured.err  # the human summary moved to stderr


def test_invalid_file_exits_1_summary_and_quarantine(setup, capsys):
    store, _, bad = setup
    with pytest.raises(SystemExit) as exit_:
        forecourt_cli.main(["data", "validate", str(bad), "--store", str(store), "--json"])
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    payload = last_json(captured.out)
    assert payload["valid"] is False and payload["failed"] == ["price_in_band"]
    assert Path(payload["quarantine_uri"]).is_file() and not bad.exists()
    assert "FAIL price_in_band" in captured.err and "station_id=S003, price=999" in captured.err
    assert "forecourt: validation failed:" in captured.err
    assert DAY not in list_days(store)


@pytest.mark.parametrize(
    "args",
    [
        ["data", "validate", "/no/such/file.csv"],
        ["data", "validate", "{good}", "--config", "/no/such/config.json"],
    ],
)
def test_usage_errors_exit_2_with_one_line(setup, capsys, args):
    store, good, _ = setup
    args = [a.format(good=good) for a in args] + ["--store", str(store), "--json"]
    assert forecourt_cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("forecourt: error:") and len(captured.err.splitlines()) == 1
    assert "error" in last_json(captured.out)
    assert good.exists() and not (store / "quarantine").exists()


def test_bad_day_argument_is_a_usage_error(setup, capsys):
    store, good, _ = setup
    with pytest.raises(SystemExit) as exit_:
        forecourt_cli.main(["data", "validate", str(good), "--day", "08/01/2026"])
    assert exit_.value.code == 2


def test_folder_is_a_backfill(setup, capsys, tmp_path):
    store, good, bad = setup
    bad.unlink()
    folder = good.parent
    history = generate_history(Market(), n_stations=60, days=10, seed=1)
    for day in (date(2026, 1, 9), date(2026, 1, 10)):
        history[history["date"] == pd.Timestamp(day)].to_parquet(
            folder / f"pricing-{day}.parquet", index=False
        )
    code = forecourt_cli.main(["data", "validate", str(folder), "--store", str(store), "--json"])
    payload = last_json(capsys.readouterr().out)
    assert code == 0 and payload["days"] == 3 and len(payload["accepted"]) == 3
    assert forecourt_cli.main(["data", "validate", str(folder), "--day", "2026-01-08"]) == 2
    assert "--day applies to one file" in capsys.readouterr().err


def test_real_process_exit_code_and_nothing_in_home(setup, tmp_path):
    """As a user runs it: a real interpreter, exit status 1, and $HOME left empty."""
    store, _, bad = setup
    home = tmp_path / "home"
    home.mkdir()
    script = WIRE + textwrap.dedent(
        """
        _cli.build_parser = _with_validate
        raise SystemExit(_cli.main(sys.argv[1:]))
        """
    )
    env = {**os.environ, "HOME": str(home), "FORECOURT_HOME": str(tmp_path / "fh")}
    env.pop("GX_ANALYTICS_ENABLED", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n" + script,
            "data",
            "validate",
            str(bad),
            "--store",
            str(store),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert last_json(proc.stdout)["failed"] == ["price_in_band"]
    assert "Traceback" not in proc.stderr
    assert list(home.iterdir()) == []  # GX wrote nothing into the home directory
