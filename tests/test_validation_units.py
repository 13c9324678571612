"""Validation building blocks without a store: reading files, drift figures, station counts,
the configuration."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rl_core.errors import ForecourtError
from rl_core.validation import (
    DataReadError,
    DeliveryNotFoundError,
    InvalidValidationConfigError,
    ValidationConfig,
)
from rl_core.validation.drift import drift_checks, ks_statistic, psi
from rl_core.validation.economics import below_cost_check, volume_scale_check
from rl_core.validation.frame import parse_dates, prepare_frame
from rl_core.validation.ids import canonical_station_ids, station_id_pattern
from rl_core.validation.reader import infer_day, parse_bytes, read_delivery
from rl_core.validation.reference import DayProfile, TrailingWindow, profile_day, sketch
from rl_core.validation.stations import station_check

CSV = (
    b"date,station_id,price,volume,unit_cost\n"
    b"2026-01-15,S1,1.80,5000,1.6\n"
    b"2026-01-15,S2,1.7,0,1.6\n"
)


def parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


# ---- reader -----------------------------------------------------------------------------


def test_reads_csv_gzip_and_parquet_alike():
    a = parse_bytes(CSV, "x.csv")
    b = parse_bytes(gzip.compress(CSV), "x.csv.gz")
    c = parse_bytes(parquet(a), "x.parquet")
    d = parse_bytes(parquet(a), "mislabelled.csv")  # the PAR1 magic wins over the name
    for frame in (b, c, d):
        pd.testing.assert_frame_equal(frame, a)
    assert a["station_id"].tolist() == ["S1", "S2"]


def test_station_ids_stay_text():
    frame = parse_bytes(b"date,station_id,price\n2026-01-15,007,1.8\n", "x.csv")
    assert frame["station_id"].tolist() == ["007"]


def test_utf8_bom_is_fine():
    frame = parse_bytes(b"\xef\xbb\xbf" + CSV, "x.csv")
    assert list(frame.columns)[0] == "date"


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"", "x.csv", "empty (0 bytes)"),
        (b"  \n\n", "x.csv", "only whitespace"),
        (b"date,station_id,price\n", "x.csv", "has a header (date, station_id, price) but no data"),
        (CSV.decode().encode("utf-16"), "x.csv", "UTF-16 encoded"),
        (CSV.decode().encode("utf-16-le"), "x.csv", "NUL bytes"),
        ("date,station_id\n2026-01-15,Zürich\n".encode("cp1252"), "x.csv", "latin-1/cp1252"),
        (CSV.replace(b",", b";"), "x.csv", "wrong delimiter"),
        (CSV.replace(b",", b"\t"), "x.csv", "looks '\\t'-separated"),
        (b"a,b\n1,2\n3,4,5,6\n", "x.csv", "not a well-formed CSV"),
        (b"PAR1" + b"\x00" * 64, "x.parquet", "truncated Parquet"),
        (b"PAR1" + b"\x00" * 64 + b"PAR1", "x.parquet", "corrupt Parquet"),
        (CSV, "x.parquet", "not a Parquet file"),
        (gzip.compress(CSV, mtime=0)[:20], "x.csv.gz", "truncated or corrupt gzip"),
    ],
)
def test_unreadable_bytes_name_the_problem(data, name, words):
    with pytest.raises(DataReadError) as err:
        parse_bytes(data, name)
    assert words in str(err.value)
    assert name in str(err.value)
    assert isinstance(err.value, ForecourtError)


def test_truncated_parquet_footer(tmp_path):
    data = parquet(parse_bytes(CSV, "x.csv"))
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(DataReadError, match="truncated Parquet"):
        read_delivery(path)


def test_other_encoding_and_delimiter_can_be_configured(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(CSV.replace(b",", b";").replace(b"S1", "Zürich".encode("latin-1")))
    frame = read_delivery(path, encoding="latin-1", delimiter=";").frame
    assert frame["station_id"].tolist() == ["Zürich", "S2"]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DeliveryNotFoundError, match="no file at"):
        read_delivery(tmp_path / "nope.csv")
    with pytest.raises(DeliveryNotFoundError, match="is a folder"):
        read_delivery(tmp_path)


def test_infer_day_prefers_the_path():
    frame = pd.DataFrame({"date": ["2026-01-14", "2026-01-14", "2026-01-13"]})
    assert infer_day("s3://b/landing/date=2026-01-15/part.csv", frame) == date(2026, 1, 15)
    assert infer_day("/x/pricing-2026-01-15.csv", frame) == date(2026, 1, 15)
    assert infer_day("/x/pricing_20260115.parquet", frame) == date(2026, 1, 15)
    assert infer_day("/x/pricing.csv", frame) == date(2026, 1, 14)  # the most common date
    assert infer_day("/x/pricing_20261399.csv") is None  # not a real date
    assert infer_day("/x/pricing.csv") is None


def test_dates_parse_to_midnight_and_bad_ones_to_nat():
    raw = pd.Series(["2026-01-15", "2026-01-15T23:30:00+10:00", "15/01/2026", None, "x"])
    parsed = parse_dates(raw)
    assert parsed.dtype == "datetime64[ns]"
    assert parsed.iloc[:2].tolist() == [pd.Timestamp("2026-01-15")] * 2
    assert parsed.iloc[2:].isna().all()


def test_prepare_frame_changes_representation_not_values():
    raw = parse_bytes(b"date,station_id,price\n2026-01-15,S1,1.8\n2026-01-15,S2,$1.7\n", "x.csv")
    frame = prepare_frame(raw)
    assert frame["station_id"].dtype == object and frame["price"].tolist() == ["1.8", "$1.7"]


# ---- station ids ------------------------------------------------------------------------


def test_canonical_ids_are_trimmed_upper_case_text():
    raw = pd.Series([" st-001 ", "ST-001", "s2\t", None, 1.5], dtype=object)
    assert canonical_station_ids(raw).tolist() == ["ST-001", "ST-001", "S2", None, 1.5]
    assert canonical_station_ids(pd.Series([7, 1294])).tolist() == ["7", "1294"]
    nullable = canonical_station_ids(pd.Series([7, None], dtype="Int64"))
    assert nullable.tolist() == ["7", None]
    for other in ([1.5, 2.5], [b"s1 "]):  # no text: left for the type check to report
        column = pd.Series(other, dtype=object)
        assert canonical_station_ids(column) is column


def test_prepare_frame_canonicalises_ids():
    raw = parse_bytes(b"date,station_id,price\n2026-01-15, s1 ,1.8\n", "x.csv")
    assert prepare_frame(raw)["station_id"].tolist() == ["S1"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("S000", True),
        ("1294", True),
        ("SINGLE-STATION", True),
        ("A_B.C-1", True),
        ("X" * 64, True),
        ("X" * 65, False),
        ("", False),
        (".HIDDEN", False),
        ("A..B", False),
        ("../ETC", False),
        ("A/B", False),
        ("A\\B", False),
        ("A\x00B", False),
        ("A\nB", False),
        ("AB\n", False),
        ("CAFÉ", False),
        ("A B", False),
    ],
)
def test_station_id_pattern(value, ok):
    assert pd.Series([value]).str.contains(station_id_pattern(64)).iloc[0] == ok


# ---- economics --------------------------------------------------------------------------


def _day(n: int = 100, price: float = 1.8, cost: float = 1.6, volume: float = 7000.0):
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {
            "station_id": [f"S{i}" for i in range(n)],
            "price": price + rng.normal(0, 0.05, n),
            "unit_cost": np.full(n, cost),
            "volume": volume * rng.uniform(0.5, 1.5, n),
        }
    )


@pytest.mark.parametrize(
    ("price", "cost", "status", "short"),
    [
        (1.8, 1.6, "passed", None),
        (1.8, 160.0, "failed", "cost in cents, prices in dollars?"),
        (1.8, 6.1, "failed", "cost or price in another unit?"),
        (1.6, 1.8, "failed", "price and unit_cost swapped?"),
    ],
)
def test_below_cost_names_the_likely_cause(price, cost, status, short):
    check = below_cost_check(_day(price=price, cost=cost), ValidationConfig())
    assert check.status == status and check.kind == "economics"
    if short:
        assert check.brief.endswith(short) and "100 of 100 rows (100%)" in check.brief
        assert check.examples[0]["row"] == 1 and set(check.examples[0]) == {
            "row",
            "station_id",
            "price",
            "unit_cost",
        }


def test_below_cost_threshold_is_a_share_of_the_rows():
    day = _day()
    day.loc[:59, "unit_cost"] = 2.5  # 60% below cost
    assert below_cost_check(day, ValidationConfig()).status == "failed"
    assert below_cost_check(day, ValidationConfig(max_below_cost_share=0.7)).status == "passed"
    day["unit_cost"] = np.nan
    assert below_cost_check(day, ValidationConfig()).status == "skipped"


@pytest.mark.parametrize(
    ("scale", "status", "short"),
    [
        (1.0, "passed", None),
        (3.785, "passed", None),  # gallons: left to the drift check
        (1 / 1000, "failed", "kilolitres, not litres?"),
        (1000, "failed", "millilitres, not litres?"),
        (180, "failed", "another unit or revenue, not litres?"),
    ],
)
def test_volume_scale_against_the_window(scale, status, short):
    check = volume_scale_check(_day(volume=7000 * scale), _window(5, 50), ValidationConfig())
    assert check.status == status and check.details["reference_days"] == 5
    assert check.details["reference_median"] == pytest.approx(7000, rel=0.05)
    if short:
        assert check.brief.endswith(short)


def test_volume_scale_without_a_window_is_absolute_and_configurable():
    ok = volume_scale_check(_day(), None, ValidationConfig())
    assert ok.status == "passed" and ok.details["basis"] == "absolute"
    strict = ValidationConfig(volume_median_max=5000.0)
    assert volume_scale_check(_day(), TrailingWindow(), strict).status == "failed"
    no_volumes = _day().assign(volume=np.nan)
    assert volume_scale_check(no_volumes, None, ValidationConfig()).status == "skipped"
    text = _day().assign(volume="lots")
    assert volume_scale_check(text, None, ValidationConfig()).status == "skipped"


# ---- drift ------------------------------------------------------------------------------


def test_ks_statistic_matches_scipy():
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.2, 1.0, 5.0):
        a = np.sort(rng.normal(size=700))
        b = np.sort(rng.normal(shift, 1.3, size=313).round(1))  # ties too
        assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_psi_is_small_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    ref = np.sort(rng.normal(size=20_000))
    same, shifted, far = (np.sort(rng.normal(m, size=10_000)) for m in (0.0, 0.5, 3.0))
    assert psi(ref, same) < 0.01
    assert 0.1 < psi(ref, shifted) < psi(ref, far)
    const = np.full(100, 1.6)
    assert psi(const, const) == pytest.approx(0.0)  # a point mass has one bin edge


def test_sketch_keeps_quantiles():
    values = np.arange(10_001, dtype=float)
    s = sketch(values, 101)
    assert len(s) == 101 and s[0] == 0 and s[-1] == 10_000 and s[50] == 5_000
    assert sketch(values[:50], 101) is not None and len(sketch(values[:50], 101)) == 50


def _window(days: int, n: int, loc: float = 1.8, seed: int = 0) -> TrailingWindow:
    rng = np.random.default_rng(seed)
    config = ValidationConfig()
    profiles = []
    for i in range(days):
        frame = pd.DataFrame(
            {
                "station_id": [f"S{j}" for j in range(n)],
                "price": rng.normal(loc, 0.1, n),
                "volume": rng.normal(7000, 500, n),
            }
        )
        profiles.append(profile_day(date(2026, 1, 1 + i), frame, config))
    return TrailingWindow(profiles)


def test_drift_warns_then_fails_with_figures():
    window = _window(10, 200)
    rng = np.random.default_rng(5)
    today = pd.DataFrame({"price": rng.normal(1.8, 0.1, 200), "volume": rng.normal(7000, 500, 200)})
    ok = {c.column: c for c in drift_checks(today, window, ValidationConfig())}
    assert ok["price"].status == "passed" and ok["price"].details["ks"] < 0.2

    today["price"] += 0.08
    warn = {c.column: c for c in drift_checks(today, window, ValidationConfig())}
    assert warn["price"].status == "warning" and warn["volume"].status == "passed"
    assert "PSI" in warn["price"].message and warn["price"].details["reference_days"] == 10

    today["price"] *= 100  # cents instead of dollars
    fail = {c.column: c for c in drift_checks(today, window, ValidationConfig())}
    assert fail["price"].status == "failed" and fail["price"].details["ks"] == 1.0
    assert "KS 1.000 > 0.9 (hard limit)" in fail["price"].message


def test_drift_skips_without_enough_data():
    today = pd.DataFrame({"price": [1.8] * 10, "volume": [1.0] * 10})
    checks = drift_checks(today, _window(3, 200), ValidationConfig())
    assert {c.status for c in checks} == {"skipped"} and "too few values" in checks[0].message
    checks = drift_checks(today, None, ValidationConfig())
    assert checks[0].message == "no trailing data in the store"


# ---- stations ---------------------------------------------------------------------------


def _profiles(sets: list[set[str]]) -> TrailingWindow:
    return TrailingWindow(
        DayProfile(date(2026, 1, 1 + i), len(s), frozenset(s), {}) for i, s in enumerate(sets)
    )


def test_station_check_lists_missing_and_fails_past_the_shortfall():
    all10 = {f"S{i}" for i in range(10)}
    window = _profiles([all10, all10, all10 - {"S9"}, all10 | {"X"}])
    ok = station_check(frozenset(all10 - {"S1"}), window, ValidationConfig())
    assert ok.status == "passed" and ok.details["missing"] == ["S1"]
    assert "missing 1: S1" in ok.message
    bad = station_check(frozenset({"S0", "S1", "S2", "S3", "NEW"}), window, ValidationConfig())
    assert bad.status == "failed" and bad.details["missing_count"] == 6
    assert bad.details["new"] == ["NEW"] and bad.details["shortfall"] == 0.5
    # X was seen on 1 of 4 days: not expected, so not reported missing
    assert "X" not in bad.details["missing"]
    lenient = station_check(
        frozenset({"S0", "S1", "S2", "S3", "S4"}),
        window,
        ValidationConfig(max_station_shortfall=0.6),
    )
    assert lenient.status == "passed"


def test_station_check_without_history_is_skipped():
    check = station_check(frozenset({"S0"}), TrailingWindow(), ValidationConfig())
    assert check.status == "skipped"


# ---- config -----------------------------------------------------------------------------


def test_config_round_trips_and_rejects_nonsense(tmp_path):
    config = ValidationConfig.price_only(price_max=4.0, drift_columns=("price",))
    assert config.required_columns == ("date", "station_id", "price")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config.to_dict()))
    assert ValidationConfig.from_json(path) == config
    for bad in (
        {"price_min": 5, "price_max": 1},
        {"drift_ks_fail": 1.5},
        {"drift_psi_warn": 2, "drift_psi_fail": 1},
        {"max_station_shortfall": 1.2},
        {"station_id_max_length": 0},
        {"max_below_cost_share": 0},
        {"max_below_cost_share": 1.5},
        {"volume_scale_max_ratio": 1.0},
        {"volume_median_min": 100, "volume_median_max": 10},
        {"volume_median_min": -1},
        {"drift_columns": ["station_id"]},
        {"encoding": "no-such-codec"},
        {"no_such_key": 1},
    ):
        with pytest.raises(InvalidValidationConfigError):
            ValidationConfig.from_dict(bad)
    path.write_text("{not json")
    with pytest.raises(InvalidValidationConfigError, match="not JSON"):
        ValidationConfig.from_json(path)
