"""Real data through the loop (`forecourt study`): ingest -> validate -> calibrate -> train,
on the shared real files, with the report, its plots and per-station prices."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rl_core.cli import main
from rl_core.data.real import real_data_dir
from rl_core.study.run import run_study

NSW = real_data_dir() / "nsw_fuelcheck_daily_prices.csv.gz"
SINGLE = real_data_dir() / "single_station_price_volume_2023_2024.csv"
PNG = b"\x89PNG\r\n\x1a\n"


def _needs(path):
    return pytest.mark.skipif(not path.is_file(), reason=f"{path} not found (shared real data)")


def _artefacts_are_complete(result):
    folder = result.folder
    record = json.loads((folder / "study.json").read_text())  # strict JSON (no NaN)
    assert record["source"] == result.source
    for plot in record["plots"]:
        assert (folder / plot).read_bytes()[:8] == PNG, plot
    report = result.report.read_text()
    for plot in record["plots"]:
        assert f"]({plot})" in report
    prices = pd.read_csv(folder / "recommendations.csv")
    assert prices["station_id"].is_unique
    json.loads((folder / "network.json").read_text())
    return record, report, prices


@_needs(SINGLE)
def test_single_station_study_reports_the_fit_and_says_what_it_could_not_find(tmp_path):
    result = run_study("single-station", tmp_path / "s", agents=("profit",), env_steps=60_000)
    record, report, prices = _artefacts_are_complete(result)
    assert record["validation"]["accepted"] and not record["validation"]["quarantined"]
    cal = record["calibration"]
    assert cal["method"] == "volume"
    # the file's volume follows the price relative to the competitors, not yesterday's price
    assert "no yesterday-price effect detected" in cal["summary"]
    assert cal["coefficients"]["competitor_coef"]["p"] < 0.05
    # the fit's optimum lies above every price the station ever charged: said, not hidden
    assert record["prices"]["profit"]["optimum_at_ceiling"] == 1
    assert "top of the observed price range" in report
    assert record["training"]["profit"]["fraction_of_optimum"] >= 0.99
    assert len(prices) == 1 and prices.loc[0, "station_id"] == "SINGLE-STATION"


@_needs(NSW)
def test_nsw_study_prices_every_station_from_real_prices_under_stated_assumptions(tmp_path):
    result = run_study("nsw", tmp_path / "nsw", agents=("profit",), env_steps=200_000)
    record, report, prices = _artefacts_are_complete(result)
    # the one known defect (0.9 c/L at station 1294) is quarantined, every other day kept
    assert [q["day"] for q in record["validation"]["quarantined"]] == ["2026-04-28"]
    assert record["validation"]["quarantined"][0]["failed"] == ["price_in_band"]
    cal = record["calibration"]
    assert cal["method"] == "price-only" and cal["stations"] > 2_000
    assert "ASSUMED" in report
    # every fallback the docs name shows up on real dirt, and nobody is dropped
    assert {"own", "shrunk", "network"} <= set(cal["station_sources"])
    assert sum(cal["station_sources"].values()) == cal["stations"] == len(prices)
    # the data pass most of a cost change through, the model half of it: reported
    diag = cal["diagnostics"]
    assert diag["pass_through_levels"] > 0.7 > diag["pass_through_model"]
    # one agent for 2,000+ stations; stations priced apart where the optimum is
    training = record["training"]["profit"]
    assert training["fraction_of_optimum"] >= 0.98  # 200k steps; 0.9903 at the daily 600k
    assert record["prices"]["profit"]["distinct"] >= 4
    assert prices.groupby(prices["demand_level"] > 0)["profit_price"].mean().is_monotonic_increasing
    assert record["new_station"]["source"] == "network"


def test_cli_refuses_bad_requests_before_any_work(tmp_path, capsys):
    assert main(["study", "nsw", "--agents", "price", "--out", str(tmp_path / "x")]) == 2
    assert "choose from demand, profit" in capsys.readouterr().err
    args = ["study", "single-station", "--volume", "9000", "--out", str(tmp_path / "y")]
    assert main(args) == 2
    assert "--volume applies to price-only sources" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()
    with pytest.raises(SystemExit):
        main(["study", "texas"])
