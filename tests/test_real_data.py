"""Real-data ingestion: JSON column mappings, the NSW FuelCheck and single-station files,
a user's own CSV/Parquet, landing files, and the statistics of the real dirt.

Tests that need ../shared/data/real skip with a reason when it is absent; the NSW file
(545k rows) is read once per module.
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import date

import fsspec.implementations.local
import numpy as np
import pandas as pd
import pytest

from rl_core.data.enrich import add_competitor_price, leave_one_out_median, mapping_stations
from rl_core.data.ingest import (
    IngestError,
    ingest,
    ingest_frame,
    landing_path,
    list_landing,
    price_process_stats,
    split_days,
    stats_summary,
    write_landing,
)
from rl_core.data.ingest_cli import add_ingest_parser, default_landing_name
from rl_core.data.mapping import MappingError, available_mappings, load_mapping, validate_mapping
from rl_core.data.real import (
    SINGLE_STATION,
    RealDataNotFoundError,
    apply_mapping,
    load_single_station,
    map_columns,
    read_source,
    real_data_dir,
)
from rl_core.errors import DataSchemaError, EmptyDataError, ForecourtError

REAL = real_data_dir()
NSW_FILE = REAL / "nsw_fuelcheck_daily_prices.csv.gz"
SINGLE_FILE = REAL / SINGLE_STATION["file"]
_SKIP = f"shared real data not found at {REAL} (set FORECOURT_REAL_DATA_DIR)"
needs_nsw = pytest.mark.skipif(not NSW_FILE.is_file(), reason=_SKIP)
needs_single = pytest.mark.skipif(not SINGLE_FILE.is_file(), reason=_SKIP)

# What the shared NSW file holds (measured; see shared/data/README.md).
NSW_ROWS = {"U91": 234_989, "E10": 172_056, "DL": 137_613}
NSW_STATIONS = {"U91": 2_108, "E10": 1_538, "DL": 1_262}
NSW_MISSING_DAYS = ["2026-05-26", "2026-05-27", "2026-07-09"]


@pytest.fixture(scope="module")
def nsw_raw() -> pd.DataFrame:
    if not NSW_FILE.is_file():
        pytest.skip(_SKIP)
    return read_source(NSW_FILE, load_mapping("nsw_fuelcheck"))


@pytest.fixture(scope="module")
def nsw_u91(nsw_raw) -> dict[date, pd.DataFrame]:
    return ingest_frame(nsw_raw, "nsw_fuelcheck")  # U91 is the mapping's default fuel


@pytest.fixture(scope="module")
def u91_stats(nsw_u91) -> dict:
    return price_process_stats(nsw_u91)


def frame_of(frames: dict) -> pd.DataFrame:
    return pd.concat(frames.values(), ignore_index=True)


def write_mapping(tmp_path, mapping: dict, name: str = "mine.json"):
    path = tmp_path / name
    path.write_text(json.dumps(mapping))
    return path


# ---- shipped mappings ------------------------------------------------------------------------
def test_shipped_mappings_are_json_and_valid():
    assert available_mappings() == ["nsw_fuelcheck", "single_station"]
    nsw = load_mapping("nsw_fuelcheck")
    assert nsw["columns"] == {"date": "date", "station_id": "station_code", "price": "price_cents"}
    assert nsw["price_scale"] == 0.01 and nsw["fuel"]["default"] == "U91"
    assert load_mapping("single_station") == SINGLE_STATION
    assert SINGLE_STATION["file"] == "single_station_price_volume_2023_2024.csv"


# ---- NSW FuelCheck ---------------------------------------------------------------------------
@needs_nsw
@pytest.mark.parametrize("fuel", ["U91", "E10", "DL"])
def test_nsw_rows_and_stations_per_fuel(nsw_raw, fuel):
    frames = ingest_frame(nsw_raw, "nsw_fuelcheck", fuel=fuel)
    df = frame_of(frames)
    assert len(df) == NSW_ROWS[fuel]
    assert df["station_id"].nunique() == NSW_STATIONS[fuel]
    assert len(frames) == 115
    assert sum(NSW_ROWS.values()) == len(nsw_raw) == 544_658


@needs_nsw
def test_nsw_cents_become_dollars_per_litre_and_ids_strings(nsw_raw, nsw_u91):
    df = frame_of(nsw_u91)
    assert list(df.columns) == ["date", "station_id", "price"]  # no volume, no unit cost
    assert df["date"].dtype == "datetime64[ns]" and df["price"].dtype == "float64"
    assert pd.api.types.is_string_dtype(df["station_id"])
    raw = nsw_raw[(nsw_raw["fuel_code"] == "U91")]
    first = raw.iloc[0]
    row = (
        nsw_u91[date.fromisoformat(first["date"])]
        .set_index("station_id")
        .loc[first["station_code"]]
    )
    assert row["price"] == pytest.approx(first["price_cents"] / 100)
    assert df["price"].median() == pytest.approx(raw["price_cents"].median() / 100)
    assert 1.5 < df["price"].median() < 2.2
    for day, frame in nsw_u91.items():  # one day per frame, stations sorted and unique
        assert (frame["date"].dt.date == day).all()
        assert frame["station_id"].is_unique


@needs_nsw
def test_nsw_ingest_from_the_file_path_keeps_the_last_days():
    frames = ingest(NSW_FILE, "nsw_fuelcheck", fuel="E10", days=3)
    assert list(frames) == [date(2026, 8, 20), date(2026, 8, 21), date(2026, 8, 22)]
    picked = ingest(NSW_FILE, "nsw_fuelcheck", days=["2026-05-25", "2026-05-26", "2026-05-28"])
    assert list(picked) == [date(2026, 5, 25), date(2026, 5, 28)]  # 05-26 is a missing day


@needs_nsw
def test_stats_report_the_missing_days_and_the_sub_cent_prices(u91_stats, nsw_raw):
    s = u91_stats
    assert (s["days"], s["span_days"], s["first"], s["last"]) == (
        115, 118, "2026-04-27", "2026-08-22"
    )  # fmt: skip
    assert s["missing_days"] == NSW_MISSING_DAYS
    assert (s["rows"], s["stations"]) == (NSW_ROWS["U91"], NSW_STATIONS["U91"])
    # the 0.9-cent price: caught as sub-10-cent, outside the band and far from the day median
    for key in ("sub_10_cents", "outside_band", "below_band", "far_from_day_median"):
        assert s[key]["count"] == 1, key
    assert s["sub_10_cents"]["examples"] == [
        {"date": "2026-04-28", "station_id": "1294", "price": 0.009}
    ]
    assert s["above_band"]["count"] == 0 and s["null_price"] == 0 and s["duplicate_keys"] == 0
    assert s["price_quantiles"]["min"] == 0.009 and s["price_quantiles"]["p01"] > 1.4
    # stations come and go, but every day has close to the usual count
    assert 2_000 < s["stations_per_day"]["min"] <= s["stations_per_day"]["max"] < 2_100
    assert s["low_station_days"] == []
    assert s["stations_present_every_day"] < s["stations"]
    assert s["stations_appeared"] > 100 and s["stations_disappeared"] > 100
    assert len(s["per_day"]) == 115 and sum(d["outside_band"] for d in s["per_day"]) == 1
    assert s["daily_moves"]["max"] == pytest.approx(1.95)  # 1.959 -> 0.009 at station 1294
    text = stats_summary(s)
    assert "3 missing (2026-05-26, 2026-05-27, 2026-07-09)" in text
    assert "1 price(s) under 10 c/L" in text
    # both 0.9-cent prices of the file, one in U91 and one in diesel
    sub = nsw_raw[nsw_raw["price_cents"] < 10]
    assert sorted(sub["fuel_code"]) == ["DL", "U91"] and set(sub["price_cents"]) == {0.9}


@needs_nsw
def test_nsw_wholesale_join_and_its_fuel_guard(nsw_raw):
    from rl_core.data.wholesale import sydney_wholesale

    days = ["2026-08-20", "2026-08-21", "2026-08-22"]
    frames = ingest_frame(nsw_raw, "nsw_fuelcheck", days=days, wholesale=True)
    tgp = sydney_wholesale()
    for frame in frames.values():
        assert frame["unit_cost"].nunique() == 1
    assert frames[date(2026, 8, 21)]["unit_cost"].iloc[0] == tgp["2026-08-21"]
    # Saturday 22 August: no price published, Friday's carries forward
    assert frames[date(2026, 8, 22)]["unit_cost"].iloc[0] == tgp["2026-08-21"]
    with pytest.raises(MappingError, match="unleaded.*not DL"):
        ingest_frame(nsw_raw, "nsw_fuelcheck", fuel="DL", days=1, wholesale=True)


@needs_nsw
def test_nsw_competitor_price_is_the_median_of_the_other_stations_in_the_postcode(nsw_raw):
    frames = ingest_frame(nsw_raw, "nsw_fuelcheck", days=2, competitors_by="postcode")
    day = frame_of(frames)
    assert day["competitor_price"].notna().mean() > 0.85  # most stations have a neighbour
    stations = mapping_stations("nsw_fuelcheck")
    postcode = stations.set_index("station_id")["postcode"]
    one_day = day[day["date"] == day["date"].min()].assign(
        pc=lambda d: d["station_id"].map(postcode)
    )
    busy = one_day["pc"].value_counts().index[0]
    area = one_day[one_day["pc"] == busy]
    for _, row in area.iterrows():
        others = area.loc[area["station_id"] != row["station_id"], "price"]
        assert row["competitor_price"] == pytest.approx(others.median())


def test_leave_one_out_median_matches_brute_force():
    rng = np.random.default_rng(3)
    values = rng.integers(150, 200, size=400).astype(float) / 100
    values[rng.choice(400, 20, replace=False)] = np.nan
    groups = rng.integers(-1, 60, size=400)
    got = leave_one_out_median(values, groups)
    for i in range(400):
        if groups[i] < 0:
            assert np.isnan(got[i])
            continue
        peers = np.flatnonzero((groups == groups[i]) & ~np.isnan(values))
        peers = peers[peers != i]
        want = np.median(values[peers]) if len(peers) else np.nan
        np.testing.assert_allclose(got[i], want, equal_nan=True)


def test_competitor_price_for_a_station_alone_or_unknown_is_missing():
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-01-01"] * 4),
            "station_id": ["a", "b", "c", "zz"],
            "price": [1.8, 2.0, 1.7, 1.9],
        }
    )
    stations = pd.DataFrame({"station_id": ["a", "b", "c"], "postcode": ["2000", "2000", "2600"]})
    out = add_competitor_price(frame, stations)
    assert out["competitor_price"].tolist()[:2] == [2.0, 1.8]
    assert out["competitor_price"].iloc[2:].isna().all()
    with pytest.raises(MappingError, match="no column 'brand'"):
        add_competitor_price(frame, stations, by="brand")


# ---- the single-station file -----------------------------------------------------------------
@needs_single
def test_single_station_ingests_through_its_json_mapping():
    frames = ingest(SINGLE_FILE, "single_station")
    assert len(frames) == 730 and all(len(f) == 1 for f in frames.values())
    df = frame_of(frames)
    assert list(df.columns) == [
        "date", "station_id", "price", "volume", "unit_cost", "competitor_price"
    ]  # fmt: skip
    raw = pd.read_csv(SINGLE_FILE)
    assert df["price"].iloc[0] == pytest.approx(raw["price"].iloc[0] / 100)
    assert df["competitor_price"].iloc[0] == pytest.approx(
        raw[["comp1_price", "comp2_price", "comp3_price"]].iloc[0].mean() / 100
    )
    pd.testing.assert_frame_equal(df, load_single_station())  # the strict path agrees
    stats = price_process_stats(frames)
    assert stats["missing_days"] == [] and stats["coverage"]["volume"] == 1.0


@needs_single
def test_map_columns_stays_strict():
    raw = pd.read_csv(SINGLE_FILE)
    doubled = pd.concat([raw.iloc[:2], raw.iloc[:1]])
    with pytest.raises(DataSchemaError, match="duplicate"):
        map_columns(doubled, SINGLE_STATION, 0.01)
    lenient = apply_mapping(doubled, SINGLE_STATION)  # ingestion keeps it for validation
    assert len(lenient) == 3


# ---- a user's own files ----------------------------------------------------------------------
USER_CSV = (
    "Day;Site;Kind;Fuel;Pump (c/L);Wholesale (c/L)\n"
    "01/07/2026;0042;retail;ULP;189,9;170,1\n"
    "01/07/2026;0043;retail;ULP;192,5;170,1\n"
    "01/07/2026;0042;retail;PDL;210,0;190,0\n"
    "01/07/2026;9999;depot;ULP;150,0;150,0\n"
    "02/07/2026;0042;retail;ULP;185,9;169,0\n"
)
USER_MAPPING = {
    "name": "my stations",
    "description": "semicolon CSV, decimal commas, day-first dates, cents",
    "csv": {"sep": ";", "decimal": ","},
    "date_format": "%d/%m/%Y",
    "columns": {
        "date": "Day",
        "station_id": "Site",
        "price": "Pump (c/L)",
        "unit_cost": "Wholesale (c/L)",
    },
    "price_scale": 0.01,
    "filters": {"Kind": "retail"},
    "fuel": {"column": "Fuel", "default": "ULP"},
}


def test_user_mapping_for_a_hand_made_csv(tmp_path):
    src = tmp_path / "prices.csv"
    src.write_text(USER_CSV)
    mapping = write_mapping(tmp_path, USER_MAPPING)
    frames = ingest(src, mapping)
    assert list(frames) == [date(2026, 7, 1), date(2026, 7, 2)]
    first = frames[date(2026, 7, 1)]
    assert first["station_id"].tolist() == ["0042", "0043"]  # leading zeros kept, depot dropped
    assert first["price"].tolist() == [1.899, 1.925]
    assert first["unit_cost"].tolist() == [1.701, 1.701]
    assert ingest(src, mapping, fuel="PDL")[date(2026, 7, 1)]["price"].tolist() == [2.1]
    assert default_landing_name(load_mapping(mapping), "ULP") == "my_stations-ulp"


def test_user_mapping_for_a_parquet_file(tmp_path):
    src = tmp_path / "prices.parquet"
    pd.DataFrame(
        {
            "day": [date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 2)],
            "site": [7, 8, 7],
            "usd_per_litre": [1.10, 1.15, 1.12],
            "kilolitres": [4.2, 3.9, 4.4],
            "rival_a": [1.09, 1.16, 1.10],
            "rival_b": [1.13, 1.12, 1.14],
        }
    ).to_parquet(src)
    mapping = {
        "columns": {
            "date": "day",
            "station_id": "site",
            "price": "usd_per_litre",
            "volume": "kilolitres",
            "competitor_price": ["rival_a", "rival_b"],
        },
        "volume_scale": 1000,
    }
    frames = ingest(src, write_mapping(tmp_path, mapping))
    day1 = frames[date(2026, 3, 1)]
    assert day1["station_id"].tolist() == ["7", "8"]
    assert day1["volume"].tolist() == [4200.0, 3900.0]
    assert day1["competitor_price"].tolist() == pytest.approx([1.11, 1.14])
    assert "unit_cost" not in day1.columns
    assert ingest(src, mapping)[date(2026, 3, 2)]["price"].tolist() == [1.12]  # a dict works too


# ---- bad mappings and bad sources: clear errors ------------------------------------------------
def test_mapping_with_unknown_keys_is_refused_with_a_suggestion(tmp_path):
    bad = {**USER_MAPPING, "colums": {}, "fuel": {"column": "Fuel", "defualt": "ULP"}}
    with pytest.raises(MappingError) as err:
        load_mapping(write_mapping(tmp_path, bad))
    msg = str(err.value)
    assert "mine.json is not a valid mapping" in msg
    assert "unknown key(s) 'colums' (did you mean 'columns'?)" in msg
    assert "'fuel': unknown key(s) 'defualt' (did you mean 'default'?)" in msg


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"date": "Day", "price": "Pump (c/L)"}}, "required schema column"),
        ({"columns": {**USER_MAPPING["columns"], "litres": "x"}}, "unknown schema column"),
        ({"price_scale": -1}, "'price_scale' must be a positive number"),
        ({"format": "xlsx"}, "'format' must be one of csv, parquet"),
        ({"csv": {"delimiter": ";"}}, "unknown option(s) 'delimiter'"),
        ({"columns": {**USER_MAPPING["columns"], "station_id": ["a", "b"]}}, "not a list"),
        ({"constants": {"station_id": "x"}}, "both in 'columns' and in 'constants'"),
    ],
)
def test_malformed_mappings_name_the_problem(change, message):
    with pytest.raises(MappingError, match="not a valid mapping") as err:
        validate_mapping({**USER_MAPPING, **change})
    assert message in str(err.value)


def test_a_missing_source_column_is_named(tmp_path):
    src = tmp_path / "prices.csv"
    src.write_text(USER_CSV)
    mapping = {**USER_MAPPING, "columns": {**USER_MAPPING["columns"], "price": "Pump price"}}
    with pytest.raises(MappingError) as err:
        ingest(src, mapping)
    msg = str(err.value)
    assert "lacks column(s) 'Pump price' named by mapping 'my stations'" in msg
    assert "'Pump (c/L)'" in msg  # what the file has
    comma = {k: v for k, v in USER_MAPPING.items() if k != "csv"}  # wrong delimiter
    with pytest.raises(MappingError, match="wrong delimiter"):
        ingest(src, comma)


NSW_CSV = "date,station_code,fuel_code,price_cents\n2026-04-27,1,U91,178.9\n"
SINGLE_CSV = "date,price,cost,comp1_price,comp2_price,comp3_price,volume\n"


def test_mapping_names_files_and_fuels_clearly(tmp_path):
    with pytest.raises(MappingError, match="unknown mapping 'nsw'.*nsw_fuelcheck, single_station"):
        load_mapping("nsw")
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"columns": ')
    with pytest.raises(MappingError, match="not valid JSON"):
        load_mapping(broken)
    with pytest.raises(MappingError, match="'LPG' is not one of U91, E10, DL"):
        ingest_frame(pd.read_csv(io.StringIO(NSW_CSV)), "nsw_fuelcheck", fuel="LPG")
    with pytest.raises(MappingError, match="has no fuel column"):
        apply_mapping(pd.read_csv(io.StringIO(SINGLE_CSV)), SINGLE_STATION, fuel="U91")


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", EmptyDataError, "is empty"),
        ("Day;Site;Kind;Fuel;Pump (c/L);Wholesale (c/L)\n", EmptyDataError, "no rows"),
        (USER_CSV.replace("02/07/2026", "2026-07-02"), DataSchemaError, "date format %d/%m/%Y"),
        (
            USER_CSV.replace("185,9", "18S,9"),
            DataSchemaError,
            r"1 value\(s\) are not numbers, e.g. '18S,9'",
        ),
        (USER_CSV.replace("ULP", "LPG"), EmptyDataError, "no rows with Fuel == 'ULP'"),
    ],
)
def test_bad_sources_give_one_clear_error(tmp_path, text, error, message):
    src = tmp_path / "prices.csv"
    src.write_text(text)
    with pytest.raises(error, match=message):
        ingest(src, USER_MAPPING)


def test_undecodable_and_absent_sources(tmp_path):
    src = tmp_path / "prices.csv"
    src.write_bytes(USER_CSV.replace("retail", "r\xe9tail").encode("latin-1"))
    with pytest.raises(DataSchemaError, match="cannot decode .* as utf-8"):
        ingest(src, USER_MAPPING)
    latin = {**USER_MAPPING, "csv": {**USER_MAPPING["csv"], "encoding": "latin-1"}}
    assert len(ingest(src, {**latin, "filters": {"Kind": "r\xe9tail"}})) == 2
    corrupt = tmp_path / "bad.parquet"
    corrupt.write_bytes(b"PAR1 not really")
    with pytest.raises(DataSchemaError, match="cannot read .* as parquet"):
        ingest(corrupt, {"columns": {"date": "d", "station_id": "s", "price": "p"}})
    with pytest.raises(RealDataNotFoundError, match="not found"):
        ingest(tmp_path / "absent.csv", USER_MAPPING)


# ---- landing files ---------------------------------------------------------------------------
def small_frames() -> dict[date, pd.DataFrame]:
    df = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-07-01", "2026-07-01", "2026-07-02", "2026-07-04"]),
            "station_id": ["b", "a", "a", "a"],
            "price": [1.9, 1.8, 1.85, 0.009],
        }
    )
    return split_days(df)


@pytest.mark.parametrize("uri", [False, True])
def test_landing_is_one_file_per_day(tmp_path, uri):
    root = f"file://{tmp_path}" if uri else tmp_path
    frames = small_frames()
    paths = write_landing(root, frames, name="nsw_fuelcheck-u91")
    assert paths == [
        str(tmp_path / f"landing/date={d}/nsw_fuelcheck-u91.parquet")
        for d in ("2026-07-01", "2026-07-02", "2026-07-04")
    ]
    assert paths[0] == landing_path(root, "2026-07-01", "nsw_fuelcheck-u91")
    for path, (day, frame) in zip(paths, frames.items(), strict=True):
        pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
        assert day.isoformat() in path
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["nsw_fuelcheck-u91.parquet"] * 3  # no temp file left behind
    assert list_landing(root) == {d: [p] for d, p in zip(frames, paths, strict=True)}
    # re-delivering a day replaces its file
    fixed = {date(2026, 7, 4): frames[date(2026, 7, 4)].assign(price=1.9)}
    write_landing(root, fixed, name="nsw_fuelcheck-u91")
    assert pd.read_parquet(paths[-1])["price"].tolist() == [1.9]


def test_landing_writes_are_atomic(tmp_path, monkeypatch):
    local = fsspec.implementations.local.LocalFileSystem
    written = []
    real_pipe = local.pipe_file

    def recording_pipe(self, path, value, *args, **kwargs):
        written.append(path)
        return real_pipe(self, path, value, *args, **kwargs)

    def failing_mv(self, *args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(local, "pipe_file", recording_pipe)
    write_landing(tmp_path, {date(2026, 7, 1): small_frames()[date(2026, 7, 1)]})
    folder = tmp_path / "landing" / "date=2026-07-01"
    assert len(written) == 1 and written[0].startswith(f"{folder}/.pricing.parquet.")
    assert written[0].endswith(".tmp")  # bytes go to a hidden temp file, then a rename

    monkeypatch.setattr(local, "mv", failing_mv)
    with pytest.raises(OSError, match="disk gone"):
        write_landing(tmp_path, {date(2026, 7, 2): small_frames()[date(2026, 7, 2)]})
    assert not (tmp_path / "landing" / "date=2026-07-02" / "pricing.parquet").exists()
    assert list((tmp_path / "landing" / "date=2026-07-02").iterdir()) == []  # temp removed
    assert list(list_landing(tmp_path)) == [date(2026, 7, 1)]


def test_landing_refuses_mixed_days_and_bad_names(tmp_path):
    frames = small_frames()
    with pytest.raises(DataSchemaError, match="dated otherwise"):
        write_landing(tmp_path, {date(2026, 7, 1): frames[date(2026, 7, 2)]})
    with pytest.raises(IngestError, match="landing name"):
        write_landing(tmp_path, frames, name="../escape")


# ---- price-process statistics on hand-made dirt ----------------------------------------------
def test_stats_catch_duplicates_nulls_and_a_thin_day():
    rows = []
    for day in pd.date_range("2026-07-01", periods=4):
        n = 4 if day.day == 3 else 10  # half the stations missing on 3 July
        rows += [(day, f"s{i}", 1.80 + i / 100) for i in range(n)]
    df = pd.DataFrame(rows, columns=["date", "station_id", "price"])
    df.loc[len(df)] = (pd.Timestamp("2026-07-04"), "s1", 1.81)  # a duplicate key
    df.loc[len(df)] = (pd.Timestamp("2026-07-04"), "s99", np.nan)
    df.loc[len(df)] = (pd.Timestamp("2026-07-04"), "s98", -1.0)
    s = price_process_stats(split_days(df), band=(1.0, 3.0))
    assert s["low_station_days"] == ["2026-07-03"]
    assert s["duplicate_keys"] == 1 and s["null_price"] == 1
    assert s["non_positive"]["count"] == 1 and s["outside_band"]["count"] == 1
    assert s["stations_disappeared"] == 6 and s["stations_appeared"] == 6 + 2
    assert s["missing_days"] == []
    with pytest.raises(IngestError, match="band"):
        price_process_stats(split_days(df), band=(3.0, 1.0))
    with pytest.raises(EmptyDataError):
        price_process_stats({})


# ---- the CLI (wired into rl_core.cli by add_ingest_parser) --------------------------------------
def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """What `forecourt data ...` does, on a parser holding only `data ingest`."""
    parser = argparse.ArgumentParser(prog="forecourt")
    data = parser.add_subparsers().add_parser("data").add_subparsers()
    add_ingest_parser(data)
    args = parser.parse_args(["data", *argv])
    try:
        payload = args.run(args)
    except ForecourtError as exc:
        return 2, "", str(exc)
    if args.json:
        print(json.dumps(payload, default=str))
    out = capsys.readouterr()
    return 0, out.out, out.err


def test_cli_ingest_writes_landing_files_and_reports_json(tmp_path, capsys):
    src = tmp_path / "prices.csv"
    src.write_text(USER_CSV)
    mapping = write_mapping(tmp_path, USER_MAPPING)
    store = tmp_path / "store"
    rc, out, err = run_cli(
        ["ingest", str(src), "--mapping", str(mapping), "--store", str(store), "--json"], capsys
    )
    assert rc == 0
    payload = json.loads(out.strip().splitlines()[-1])
    assert payload["landing_files"] == 2 and payload["name"] == "my_stations-ulp"
    assert payload["stats"]["rows"] == 3 and payload["stats"]["sub_10_cents"]["count"] == 0
    assert payload["columns"] == ["date", "station_id", "price", "unit_cost"]
    assert (store / "landing/date=2026-07-02/my_stations-ulp.parquet").is_file()
    assert "2 days 2026-07-01..2026-07-02" in err  # human summary on stderr under --json

    rc, out, _ = run_cli(["ingest", str(src), "--mapping", str(mapping), "--dry-run",
                          "--store", str(tmp_path / "dry")], capsys)  # fmt: skip
    assert rc == 0 and "dry run: nothing written" in out and not (tmp_path / "dry").exists()

    rc, _, err = run_cli(["ingest", str(src), "--mapping", "no_such_mapping"], capsys)
    assert rc == 2 and "unknown mapping 'no_such_mapping'" in err


@needs_nsw
def test_cli_ingest_of_nsw_reports_the_dirt(tmp_path, capsys):
    rc, out, _ = run_cli(
        ["ingest", str(NSW_FILE), "--mapping", "nsw_fuelcheck", "--fuel", "DL", "--dry-run"],
        capsys,
    )
    assert rc == 0
    assert "1 price(s) under 10 c/L" in out and "3 missing" in out
    assert "2026-04-28 station 1294: 0.0090 $/L" in out
