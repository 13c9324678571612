"""The validation stage end to end: a catalogue of bad deliveries, each rejected with a clear
error, quarantined with its report, and the store's accepted data left untouched; clean and
corrected deliveries accepted into the store."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rl_core.data.store import day_path, list_days, read_day, write_day
from rl_core.market.model import Market
from rl_core.market.synthetic import generate_history
from rl_core.validation import (
    DeliveryNotFoundError,
    ValidationConfig,
    ValidationFailedError,
    validate_day,
    validate_frame,
)

DAY = date(2026, 1, 15)
STATIONS = 100
HISTORY_DAYS = 14  # 2026-01-01 .. 2026-01-14: the trailing window


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    """15 days x 100 stations from the default market; the last day is the one delivered."""
    return generate_history(Market(), n_stations=STATIONS, days=HISTORY_DAYS + 1, seed=3)


@pytest.fixture(scope="module")
def template_store(tmp_path_factory, history) -> Path:
    """A store holding the trailing window and an earlier accepted delivery of DAY."""
    root = tmp_path_factory.mktemp("template") / "store"
    for day, rows in history.groupby("date"):
        write_day(root, day.date(), rows)
    return root


@pytest.fixture
def store(tmp_path, template_store) -> Path:
    root = tmp_path / "store"
    shutil.copytree(template_store, root)
    return root


@pytest.fixture
def clean(history) -> pd.DataFrame:
    return history[history["date"] == pd.Timestamp(DAY)].reset_index(drop=True)


@pytest.fixture
def landing(tmp_path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


def sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def csv_bytes(df: pd.DataFrame, **kw) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, **kw)
    return buf.getvalue().encode(kw.pop("encoding", "utf-8"))


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def with_rows(df: pd.DataFrame, rows: list[int], **values) -> pd.DataFrame:
    out = df.copy()
    for column, value in values.items():
        if out[column].dtype.kind in "fiM" and not isinstance(value, int | float):
            out[column] = out[column].astype(object)
        out.loc[rows, column] = value
    return out


# ---- the catalogue of bad deliveries -------------------------------------------------------
# name -> (file name, bytes from the clean day, failed checks, words the error must contain)


def _text_price(df):
    out = df.copy()
    out["price"] = [f"${p:.3f}" for p in out["price"]]
    return csv_bytes(out)


def _duplicate(df):
    return csv_bytes(pd.concat([df, df.iloc[[7]]], ignore_index=True))


def _wrong_date(df):
    return csv_bytes(df.assign(date=pd.Timestamp("2026-01-14")))


def _half_missing(df):
    return parquet_bytes(df.iloc[: STATIONS // 2])


def _truncated_parquet(df):
    data = parquet_bytes(df)
    return data[: len(data) // 2]


def _corrupt_parquet(df):
    data = bytearray(parquet_bytes(df))
    data[8:400] = b"\x00" * 392  # footer intact, column chunks overwritten
    return bytes(data)


def _case_duplicate(df):
    twin = df.iloc[[7]].assign(station_id=" s007 ")  # S007 again, in another case and padded
    return parquet_bytes(pd.concat([df, twin], ignore_index=True))


def _path_like_ids(df):
    bad = ["../etc/passwd", "a/b", "C:\\x", " .hidden", "   ", "S\x00X", "X" * 65]
    out = df.copy()
    out.loc[3 : 3 + len(bad) - 1, "station_id"] = bad
    return parquet_bytes(out)


def _price_cost_swapped(df):
    return csv_bytes(df.assign(price=df["unit_cost"], unit_cost=df["price"]))


def _latin1(df):
    out = df.copy()
    out["station_id"] = out["station_id"].str.replace("S00", "Café-", regex=False)
    return csv_bytes(out).decode().encode("latin-1")


CATALOGUE = {
    "missing_column": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df.drop(columns=["volume"])),
        ["volume_present"],
        ["column volume is missing"],
    ),
    "price_as_text": (
        "pricing-2026-01-15.csv",
        _text_price,
        ["price_type"],
        ["price_type"],
    ),
    "duplicate_keys": (
        "pricing-2026-01-15.csv",
        _duplicate,
        ["date_station_unique"],
        ["date_station_unique (2 of 101 rows"],
    ),
    "wrong_date": (
        "pricing-2026-01-15.csv",
        _wrong_date,
        ["date_is_day"],
        ["date_is_day (100 of 100 rows"],
    ),
    "negative_price": (
        "pricing-2026-01-15.parquet",
        lambda df: parquet_bytes(with_rows(df, [3, 9], price=-1.799)),
        ["price_positive", "price_in_band"],
        ["price_positive (2 of 100 rows"],
    ),
    "zero_price": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [4], price=0.0)),
        ["price_positive", "price_in_band"],
        ["price_positive (1 of 100 rows"],
    ),
    "nan_station_id": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [5], station_id=None)),
        ["station_id_not_null"],
        ["station_id_not_null (1 of 100 rows"],
    ),
    "nan_date": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [6], date="not a date")),
        ["date_parseable"],
        ["date_parseable (1 of 100 rows"],
    ),
    "nan_price": (
        "pricing-2026-01-15.parquet",
        lambda df: parquet_bytes(with_rows(df, [1, 2, 3], price=np.nan)),
        ["price_not_null"],
        ["price_not_null (3 of 100 rows"],
    ),
    "huge_outlier": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [11], price=999.0)),
        ["price_in_band"],
        ["price_in_band (1 of 100 rows"],
    ),
    "nsw_style_cents": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [12], price=0.009)),
        ["price_in_band"],
        ["price_in_band (1 of 100 rows"],
    ),
    "negative_volume": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [13], volume=-50.0)),
        ["volume_non_negative"],
        ["volume_non_negative (1 of 100 rows"],
    ),
    "unit_cost_in_cents": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df.assign(unit_cost=df["unit_cost"] * 100)),
        ["unit_cost_in_band", "price_above_cost"],
        [
            "unit_cost_in_band (100 of 100 rows",
            "price_above_cost (100 of 100 rows (100%) below cost: cost in cents, prices in",
        ],
    ),
    "price_and_cost_swapped": (
        "pricing-2026-01-15.csv",
        _price_cost_swapped,
        ["price_above_cost", "drift_price"],
        ["price_above_cost (89 of 100 rows (89%) below cost: price and unit_cost swapped?)"],
    ),
    "case_duplicate_station": (
        "pricing-2026-01-15.parquet",
        _case_duplicate,
        ["date_station_unique"],
        ["date_station_unique (2 of 101 rows"],
    ),
    "path_like_station_ids": (
        "pricing-2026-01-15.parquet",
        _path_like_ids,
        ["station_id_format"],
        ["station_id_format (7 of 100 rows"],
    ),
    "volume_in_kilolitres": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df.assign(volume=df["volume"] / 1000)),
        ["drift_volume", "volume_scale"],
        ["volume_scale (median 6.594 L is 0.000984x the window's 6,702 L: kilolitres, not"],
    ),
    "volume_is_revenue_in_cents": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df.assign(volume=df["volume"] * df["price"] * 100)),
        ["volume_plausible", "drift_volume", "volume_scale"],
        ["volume_scale (median", "174x the window's 6,702 L: another unit or revenue, not"],
    ),
    "unit_cost_missing_values": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(with_rows(df, [0, 1], unit_cost=np.nan)),
        ["unit_cost_not_null"],
        ["unit_cost_not_null (2 of 100 rows"],
    ),
    "half_the_stations_missing": (
        "pricing-2026-01-15.parquet",
        _half_missing,
        ["station_count"],
        ["station_count (50 stations vs a norm of 100, 50% short, 50 missing)"],
    ),
    "volume_in_gallons": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df.assign(volume=df["volume"] / 3.785)),
        ["drift_volume"],
        ["drift_volume (KS"],
    ),
    "empty_file": ("pricing-2026-01-15.csv", lambda df: b"", ["readable"], ["empty (0 bytes)"]),
    "header_only": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df.iloc[:0]),
        ["readable"],
        ["has a header", "no data rows"],
    ),
    "truncated_parquet": (
        "pricing-2026-01-15.parquet",
        _truncated_parquet,
        ["readable"],
        ["truncated Parquet"],
    ),
    "corrupt_parquet": (
        "pricing-2026-01-15.parquet",
        _corrupt_parquet,
        ["readable"],
        ["corrupt Parquet"],
    ),
    "utf16": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df).decode().encode("utf-16"),
        ["readable"],
        ["UTF-16"],
    ),
    "latin1": (
        "pricing-2026-01-15.csv",
        _latin1,
        ["readable"],
        ["not valid utf-8", "latin-1"],
    ),
    "semicolons": (
        "pricing-2026-01-15.csv",
        lambda df: csv_bytes(df, sep=";"),
        ["readable"],
        ["wrong delimiter", "';'"],
    ),
}


@pytest.mark.parametrize("case", sorted(CATALOGUE))
def test_bad_delivery_is_rejected_quarantined_and_store_untouched(case, store, clean, landing):
    name, make, failed, words = CATALOGUE[case]
    data = make(clean)
    src = landing / name
    src.write_bytes(data)
    accepted = day_path(store, DAY)
    before = sha(accepted)
    days_before = list_days(store)

    with pytest.raises(ValidationFailedError) as err:
        validate_day(src, store_root=store)

    message = str(err.value)
    for check in failed:
        assert check in message
    for word in words:
        assert word in message, message
    result = err.value.result
    assert sorted(result.failure_names()) == sorted(failed), result.summary()
    assert "Traceback" not in message

    # moved, byte for byte, to <store>/quarantine/date=2026-01-15/<stamp>-<name>
    assert not src.exists()
    moved = Path(err.value.quarantine_uri)
    assert moved.parent == store / "quarantine" / "date=2026-01-15"
    assert moved.name.endswith(f"-{name}") and moved.read_bytes() == data
    report_dir = Path(f"{moved}.validation")
    report = json.loads((report_dir / "report.json").read_text())
    assert report["valid"] is False and sorted(report["failed"]) == sorted(failed)
    summary = (report_dir / "summary.txt").read_text()
    for check in failed:
        assert f"FAIL {check}" in summary
    if failed != ["readable"]:  # GX ran: its result and Data Docs are beside the file
        assert (report_dir / "data_docs" / "index.html").is_file()
        assert len(report["great_expectations"]["results"]) >= 20

    # the accepted data for the day and every other day are as they were
    assert sha(accepted) == before
    assert list_days(store) == days_before
    assert not (store / "pricing" / "date=2026-01-15" / "_validation").exists()


def test_examples_show_the_delivered_rows(store, clean, landing):
    src = landing / "2026-01-15.csv"
    src.write_bytes(csv_bytes(with_rows(clean, [11], price=999.0)))
    with pytest.raises(ValidationFailedError) as err:
        validate_day(src, store_root=store)
    check = err.value.result.check("price_in_band")
    assert check.unexpected_count == 1 and check.element_count == 100
    assert check.examples[0]["row"] == 12
    assert check.examples[0]["station_id"] == "S011" and check.examples[0]["price"] == 999.0
    assert "e.g. row 12: date=2026-01-15, station_id=S011, price=999," in (
        err.value.result.summary()
    )


def test_path_like_ids_are_shown_as_delivered(store, clean, landing):
    src = landing / "pricing-2026-01-15.parquet"
    src.write_bytes(_path_like_ids(clean))
    with pytest.raises(ValidationFailedError) as err:
        validate_day(src, store_root=store, config=ValidationConfig(example_rows=7))
    check = err.value.result.check("station_id_format")
    delivered = ["../etc/passwd", "a/b", "C:\\x", " .hidden", "   ", "S\x00X", "X" * 65]
    assert [e["station_id"] for e in check.examples] == delivered
    summary = err.value.result.summary()
    assert "station_id=../etc/passwd," in summary
    assert "station_id=S\\x00X," in summary and "\x00" not in summary  # escaped, not raw


def test_messy_but_valid_ids_are_accepted_and_stored_canonical(store, clean, landing):
    """Padded and lower-case ids are the same stations: accepted, stored upper-case, and
    matched against the trailing window (no station reported missing or new)."""
    messy = clean.assign(station_id=[f" {s.lower()}\t" for s in clean["station_id"]])
    src = landing / "pricing-2026-01-15.parquet"
    src.write_bytes(parquet_bytes(messy))
    result = validate_day(src, store_root=store)
    assert result.success, result.summary()
    stations = result.check("station_count").details
    assert stations["missing_count"] == 0 and stations["new_count"] == 0
    assert read_day(store, DAY)["station_id"].tolist() == clean["station_id"].tolist()


def test_stored_days_with_old_style_ids_count_as_the_same_stations(tmp_path, history, clean):
    """A store written before ids were canonical (lower case) is compared canonically."""
    store = tmp_path / "store"
    for day, rows in history[history["date"] < pd.Timestamp(DAY)].groupby("date"):
        write_day(store, day.date(), rows.assign(station_id=rows["station_id"].str.lower()))
    src = tmp_path / "pricing-2026-01-15.parquet"
    src.write_bytes(parquet_bytes(clean))
    stations = validate_day(src, store_root=store).check("station_count").details
    assert stations["missing_count"] == 0 and stations["new_count"] == 0


@pytest.mark.parametrize("ids", [[" st-001 ", "ST-002"], ["ST-001", "st-002"]])
def test_st_001_in_any_case_is_stored_as_ST_001(tmp_path, ids):
    day = pd.DataFrame(
        {
            "date": "2026-01-15",
            "station_id": ids,
            "price": 1.8,
            "volume": 5000.0,
            "unit_cost": 1.6,
        }
    )
    src = tmp_path / "pricing-2026-01-15.parquet"
    src.write_bytes(parquet_bytes(day))
    result = validate_day(src, store_root=tmp_path / "store")
    assert result.success, result.summary()
    assert read_day(tmp_path / "store", DAY)["station_id"].tolist() == ["ST-001", "ST-002"]


def test_same_station_in_two_cases_is_a_duplicate(tmp_path):
    day = pd.DataFrame(
        {
            "date": "2026-01-15",
            "station_id": ["st-001", "ST-001 "],
            "price": [1.8, 1.9],
            "volume": 5000.0,
            "unit_cost": 1.6,
        }
    )
    src = tmp_path / "pricing-2026-01-15.csv"
    src.write_bytes(csv_bytes(day))
    with pytest.raises(ValidationFailedError, match=r"date_station_unique \(2 of 2 rows"):
        validate_day(src, store_root=tmp_path / "store")
    assert list_days(tmp_path / "store") == []


def test_volume_scale_without_a_window_uses_the_absolute_band(clean):
    ok = validate_frame(clean, DAY)
    assert ok.success and ok.check("volume_scale").details["basis"] == "absolute"
    kilolitres = validate_frame(clean.assign(volume=clean["volume"] / 1000), DAY)
    assert kilolitres.failure_names() == ["volume_scale"]
    assert "outside 50..100,000 L: kilolitres, not litres?" in kilolitres.headline()
    zero = validate_frame(clean.assign(volume=0.0), DAY)
    assert "missing volumes as 0?" in zero.headline()


def test_economic_checks_need_their_columns(clean):
    result = validate_frame(
        clean[["date", "station_id", "price"]], DAY, ValidationConfig.price_only()
    )
    names = [c.name for c in result.checks]
    assert result.success and "price_above_cost" not in names and "volume_scale" not in names


def test_full_schema_day_has_30_checks(history, clean):
    result = validate_frame(clean, DAY, reference=history[history["date"] < pd.Timestamp(DAY)])
    assert len(result.checks) == 30 and result.success  # docs/data.md states the count


def test_missing_column_names_the_close_match(store, clean, landing):
    src = landing / "2026-01-15.csv"
    src.write_bytes(csv_bytes(clean.rename(columns={"price": "Price"})))
    with pytest.raises(ValidationFailedError) as err:
        validate_day(src, store_root=store)
    result = err.value.result
    assert "did you mean 'Price'" in result.check("price_present").message
    # expectations on the absent column are reported as not evaluated, not as noise
    assert result.check("price_in_band").error == "column price is missing"
    assert "Not evaluated" in result.summary()


def test_clean_day_passes_and_lands_in_the_store(tmp_path, history, clean, landing):
    store = tmp_path / "store"
    for day, rows in history[history["date"] < pd.Timestamp(DAY)].groupby("date"):
        write_day(store, day.date(), rows)
    src = landing / "pricing-2026-01-15.csv"
    src.write_bytes(csv_bytes(clean))

    result = validate_day(src, store_root=store)

    assert result.success and result.failures == [] and result.warnings == []
    assert result.reference_days == HISTORY_DAYS
    assert {c.status for c in result.checks} == {"passed"}
    stored = read_day(store, DAY)
    pd.testing.assert_frame_equal(stored, clean, check_exact=False, rtol=1e-12)
    folder = store / "pricing" / "date=2026-01-15" / "_validation"
    assert result.stored_uri == str(day_path(store, DAY))
    assert json.loads((folder / "report.json").read_text())["valid"] is True
    assert "VALID" in (folder / "summary.txt").read_text()
    index = folder / "data_docs" / "index.html"
    assert result.data_docs_uri == str(index) and index.is_file()
    pages = list((folder / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 1 and "price_in_band" not in pages[0].read_text()  # GX's own text
    assert "inside the plausible band" in pages[0].read_text()  # our descriptions
    assert src.exists()  # an accepted delivery stays where it was delivered
    assert not (store / "quarantine").exists()


def test_redelivery_after_bad_deliveries(store, clean, landing):
    bad = landing / "pricing-2026-01-15.csv"
    bad.write_bytes(csv_bytes(with_rows(clean, [0], price=-1.0)))
    with pytest.raises(ValidationFailedError) as first:
        validate_day(bad, store_root=store)
    bad.write_bytes(csv_bytes(clean.iloc[:10]))
    with pytest.raises(ValidationFailedError) as second:
        validate_day(bad, store_root=store)
    # the second bad delivery did not overwrite the first
    assert first.value.quarantine_uri != second.value.quarantine_uri
    quarantined = sorted((store / "quarantine" / "date=2026-01-15").glob("*.csv"))
    assert len(quarantined) == 2

    fixed = clean.assign(price=clean["price"] + 0.01)
    good = landing / "pricing-2026-01-15.csv"
    good.write_bytes(csv_bytes(fixed))
    result = validate_day(good, store_root=store)
    assert result.success
    assert read_day(store, DAY)["price"].tolist() == pytest.approx(fixed["price"].tolist())
    again = validate_day(good, store_root=store)  # idempotent
    assert again.success
    assert read_day(store, DAY)["price"].tolist() == pytest.approx(fixed["price"].tolist())
    assert len(sorted((store / "quarantine" / "date=2026-01-15").glob("*.csv"))) == 2


def test_shifted_prices_warn_with_figures_and_pass(store, clean, landing):
    src = landing / "pricing-2026-01-15.csv"
    src.write_bytes(csv_bytes(clean.assign(price=clean["price"] + 0.15)))
    result = validate_day(src, store_root=store)
    assert result.success
    [warning] = result.warnings
    assert warning.name == "drift_price"
    assert warning.details["psi"] > 0.25 and 0.3 < warning.details["ks"] < 0.9
    assert f"PSI {warning.details['psi']:.3f} > 0.25" in warning.message
    assert "WARN drift_price" in result.summary()


def test_drift_hard_limit_is_configurable(store, clean, landing):
    src = landing / "pricing-2026-01-15.csv"
    src.write_bytes(csv_bytes(clean.assign(price=clean["price"] + 0.15)))
    strict = ValidationConfig(drift_psi_fail=1.0)
    with pytest.raises(ValidationFailedError, match=r"drift_price \(PSI \d\.\d+ > 1\)"):
        validate_day(src, store_root=store, config=strict)


def test_day_comes_from_the_date_column_when_the_path_has_none(store, clean, landing):
    src = landing / "delivery.csv"
    src.write_bytes(csv_bytes(clean))
    assert validate_day(src, store_root=store).day == DAY


def test_explicit_day_overrides_and_wrong_day_is_caught(store, clean, landing):
    src = landing / "delivery.csv"
    src.write_bytes(csv_bytes(clean))
    with pytest.raises(ValidationFailedError, match="date_is_day"):
        validate_day(src, "2026-01-16", store_root=store)
    assert (store / "quarantine" / "date=2026-01-16").is_dir()


def test_missing_file_is_a_usage_error_not_a_quarantine(store):
    with pytest.raises(DeliveryNotFoundError, match="no file at"):
        validate_day(store / "nope.csv", store_root=store)
    assert not (store / "quarantine").exists()


def test_unreadable_file_without_a_day_goes_to_unknown(store, landing):
    src = landing / "delivery.csv"
    src.write_bytes(b"")
    with pytest.raises(ValidationFailedError, match="empty"):
        validate_day(src, store_root=store)
    assert len(list((store / "quarantine" / "date=unknown").glob("*-delivery.csv"))) == 1


def test_store_copy_that_fails_is_copied_not_moved(store):
    own = Path(day_path(store, DAY))
    before = sha(own)
    with pytest.raises(ValidationFailedError):
        validate_day(own, store_root=store, config=ValidationConfig(price_max=1.0))
    assert own.exists() and sha(own) == before
    assert len(list((store / "quarantine" / "date=2026-01-15").glob("*pricing.parquet"))) == 1


def test_file_uri_store_and_source(store, clean, landing):
    src = landing / "pricing-2026-01-15.parquet"
    src.write_bytes(parquet_bytes(clean))
    result = validate_day(src.as_uri(), store_root=store.as_uri())
    assert result.success and read_day(store, DAY).shape == clean.shape


def test_price_only_data_is_validatable(tmp_path, clean, landing):
    src = landing / "prices-2026-01-15.csv"
    src.write_bytes(csv_bytes(clean[["date", "station_id", "price"]]))
    with pytest.raises(ValidationFailedError, match="volume_present"):
        validate_day(src, store_root=tmp_path / "a")
    src.write_bytes(csv_bytes(clean[["date", "station_id", "price"]]))
    result = validate_day(src, store_root=tmp_path / "b", config=ValidationConfig.price_only())
    assert result.success
    stored = read_day(tmp_path / "b", DAY)
    assert stored["volume"].isna().all() and stored["price"].notna().all()
    assert any("stored without volume, unit_cost" in n for n in result.notes)


def test_validate_frame_in_memory(history, clean):
    reference = history[history["date"] < pd.Timestamp(DAY)]
    ok = validate_frame(clean, DAY, reference=reference)
    assert ok.success and ok.reference_days == HISTORY_DAYS and ok.stored_uri is None
    assert type(ok.gx_result).__name__ == "ExpectationSuiteValidationResult"
    assert ok.gx_result.success is True

    bad = validate_frame(clean.iloc[:40], DAY, reference=reference)
    assert bad.failure_names() == ["station_count"]
    assert bad.check("station_count").details["missing"] == [f"S{i:03d}" for i in range(40, 100)]
    no_window = validate_frame(clean.iloc[:40], DAY)
    assert no_window.success and no_window.check("station_count").status == "skipped"
    json.dumps(bad.to_dict())  # the report is plain JSON


def test_any_fsspec_store(clean, landing):
    """A non-local store (fsspec's memory://, standing in for s3://): same code path."""
    import fsspec

    fs = fsspec.filesystem("memory")
    root = "memory://validation-test-store"
    try:
        fs.pipe_file("/validation-landing/pricing-2026-01-15.csv", csv_bytes(clean))
        ok = validate_day("memory://validation-landing/pricing-2026-01-15.csv", store_root=root)
        assert ok.success and ok.stored_uri.startswith("memory://")
        assert fs.exists(ok.data_docs_uri) and list_days(root) == [DAY]
        local = landing / "pricing-2026-01-15.csv"
        local.write_bytes(csv_bytes(with_rows(clean, [0], price=-1.0)))
        with pytest.raises(ValidationFailedError) as err:
            validate_day(local, store_root=root)  # moved across file systems
        assert not local.exists() and fs.cat_file(err.value.quarantine_uri) == csv_bytes(
            with_rows(clean, [0], price=-1.0)
        )
        assert read_day(root, DAY)["price"].min() > 0  # the accepted day is untouched
    finally:
        for folder in ("/validation-test-store", "/validation-landing"):
            if fs.exists(folder):
                fs.rm(folder, recursive=True)
