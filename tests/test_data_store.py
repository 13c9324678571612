"""The pricing schema and the date-partitioned store (plain paths and file:// URIs)."""

from __future__ import annotations

from datetime import date

import fsspec.implementations.local
import pandas as pd
import pytest

from rl_core.data.schema import coerce_pricing_frame
from rl_core.data.store import day_path, list_days, read_day, read_window, write_day
from rl_core.errors import DataSchemaError, EmptyDataError


def day_frame(day: str, stations: tuple[str, ...] = ("A", "B"), price: float = 1.8):
    return pd.DataFrame(
        {
            "date": [day] * len(stations),
            "station_id": list(stations),
            "price": [price] * len(stations),
            "volume": [5000] * len(stations),  # ints: coerced to float
            "unit_cost": [1.6] * len(stations),
        }
    )


def all_files(tmp_path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())


# ---- schema ------------------------------------------------------------------------------
def test_coerce_gives_schema_dtypes_and_drops_extra_columns():
    raw = day_frame("2026-01-02").assign(note="x", competitor_price=[1.75, 1.85])
    out = coerce_pricing_frame(raw)
    assert list(out.columns) == [
        "date", "station_id", "price", "volume", "unit_cost", "competitor_price"
    ]  # fmt: skip
    assert out["date"].dtype == "datetime64[ns]"
    assert out["date"].iloc[0] == pd.Timestamp("2026-01-02")
    assert out["volume"].dtype == "float64" and out["volume"].iloc[0] == 5000.0
    assert out["station_id"].tolist() == ["A", "B"]


def test_coerce_names_every_missing_column():
    with pytest.raises(DataSchemaError, match="volume, unit_cost"):
        coerce_pricing_frame(day_frame("2026-01-02").drop(columns=["volume", "unit_cost"]))


def test_coerce_names_bad_types():
    bad = day_frame("2026-01-02").assign(price=["cheap", "dear"], date=["soon", "later"])
    with pytest.raises(DataSchemaError) as err:
        coerce_pricing_frame(bad)
    assert "price: expected numbers" in str(err.value)
    assert "date: not parseable" in str(err.value)
    assert "volume" not in str(err.value)


def test_coerce_rejects_duplicate_station_days():
    twice = day_frame("2026-01-02", stations=("A", "A"))
    with pytest.raises(DataSchemaError, match="duplicate .*2026-01-02 / A"):
        coerce_pricing_frame(twice)


# ---- store -------------------------------------------------------------------------------
@pytest.mark.parametrize("as_uri", [False, True], ids=["path", "file-uri"])
def test_write_read_round_trip_under_date_partition(tmp_path, as_uri):
    root = tmp_path.as_uri() if as_uri else str(tmp_path)
    path = write_day(root, date(2026, 1, 2), day_frame("2026-01-02"))
    assert all_files(tmp_path) == ["pricing/date=2026-01-02/pricing.parquet"]
    assert path == day_path(root, "2026-01-02")
    pd.testing.assert_frame_equal(
        read_day(root, "2026-01-02"), coerce_pricing_frame(day_frame("2026-01-02"))
    )


def test_write_replaces_day_and_leaves_no_temp_files(tmp_path):
    write_day(tmp_path, "2026-01-02", day_frame("2026-01-02", price=1.8))
    write_day(tmp_path, "2026-01-02", day_frame("2026-01-02", price=1.9))
    assert all_files(tmp_path) == ["pricing/date=2026-01-02/pricing.parquet"]
    assert read_day(tmp_path, "2026-01-02")["price"].tolist() == [1.9, 1.9]


def test_failed_write_keeps_old_day_and_leaves_no_temp_file(tmp_path, monkeypatch):
    write_day(tmp_path, "2026-01-02", day_frame("2026-01-02", price=1.8))

    def crash(self, *args, **kwargs):
        raise OSError("disk vanished")

    # The move is the commit point: a crash before it must not touch the day's file.
    monkeypatch.setattr(fsspec.implementations.local.LocalFileSystem, "mv", crash)
    with pytest.raises(OSError, match="disk vanished"):
        write_day(tmp_path, "2026-01-02", day_frame("2026-01-02", price=1.9))
    assert all_files(tmp_path) == ["pricing/date=2026-01-02/pricing.parquet"]
    assert read_day(tmp_path, "2026-01-02")["price"].tolist() == [1.8, 1.8]


def test_write_rejects_rows_of_another_day(tmp_path):
    with pytest.raises(DataSchemaError, match="2026-01-03"):
        write_day(tmp_path, "2026-01-02", day_frame("2026-01-03"))
    assert all_files(tmp_path) == []


def test_list_days_is_sorted_and_ignores_stray_files(tmp_path):
    for day in ("2026-01-05", "2026-01-02", "2026-01-03"):
        write_day(tmp_path, day, day_frame(day))
    stray = tmp_path / "pricing" / "date=2026-01-04"
    stray.mkdir()
    (stray / ".pricing.parquet.dead.tmp").write_bytes(b"half a file")  # a killed writer
    assert list_days(tmp_path) == [date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 5)]
    assert list_days(tmp_path / "nowhere") == []


def test_read_window_is_trailing_and_inclusive(tmp_path):
    for day in ("2026-01-01", "2026-01-02", "2026-01-04", "2026-01-05"):
        write_day(tmp_path, day, day_frame(day))
    window = read_window(tmp_path, date(2026, 1, 4), days=3)  # 01-02..01-04, 01-03 missing
    assert sorted(window["date"].dt.strftime("%Y-%m-%d").unique()) == [
        "2026-01-02",
        "2026-01-04",
    ]
    assert len(window) == 4


def test_empty_window_names_window_and_root(tmp_path):
    write_day(tmp_path, "2026-01-01", day_frame("2026-01-01"))
    with pytest.raises(EmptyDataError) as err:
        read_window(tmp_path, "2026-02-10", days=7)
    assert "2026-02-04..2026-02-10" in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_read_missing_day_is_a_clear_error(tmp_path):
    with pytest.raises(EmptyDataError, match="no pricing data for 2026-01-09"):
        read_day(tmp_path, "2026-01-09")
