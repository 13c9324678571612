"""Backfill: many delivered days validated at once, each accepted or quarantined exactly as
`validate_day` would; and the real NSW FuelCheck prices (price-only, with real dirt)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from rl_core.data.real import real_data_dir
from rl_core.data.store import day_path, list_days, read_day, write_day
from rl_core.errors import ForecourtError
from rl_core.market.model import Market
from rl_core.market.synthetic import generate_history
from rl_core.validation import (
    DeliveryNotFoundError,
    ValidationConfig,
    ValidationFailedError,
    validate_backfill,
    validate_day,
)

START = date(2026, 3, 1)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return generate_history(Market(), n_stations=80, days=16, start=START, seed=7)


def deliver(history: pd.DataFrame, folder: Path, days: range, fmt: str = "parquet") -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for i in days:
        day = START + timedelta(days=i)
        rows = history[history["date"] == pd.Timestamp(day)]
        path = folder / f"pricing-{day}.{fmt}"
        rows.to_parquet(path, index=False) if fmt == "parquet" else rows.to_csv(path, index=False)
        files[day] = path
    return files


def test_clean_backfill_is_one_gx_run_and_lands_every_day(tmp_path, history):
    files = deliver(history, tmp_path / "in", range(16))
    store = tmp_path / "store"
    result = validate_backfill(list(files.values()), store)
    assert result.success and result.gx_runs == 1
    assert list_days(store) == sorted(files) and result.rows == 16 * 80
    pd.testing.assert_frame_equal(
        read_day(store, START + timedelta(days=9)),
        history[history["date"] == pd.Timestamp(START + timedelta(days=9))].reset_index(drop=True),
    )
    last = result.results[-1]
    assert last.reference_days == 15  # the window is this backfill's own accepted days
    assert last.check("price_in_band").details["gx_batch"] == "2026-03-01..2026-03-16"
    report = Path(day_path(store, last.day)).parent / "_validation" / "report.json"
    assert report.is_file()
    [docs] = result.data_docs
    assert Path(docs).is_file() and last.data_docs_uri == docs
    assert "16 accepted, 0 quarantined" in result.summary()


def test_bad_days_are_found_and_quarantined_like_validate_day(tmp_path, history):
    files = deliver(history, tmp_path / "in", range(14))
    price_day, empty_day, half_day, date_day = (START + timedelta(days=i) for i in (5, 7, 9, 11))
    rows = pd.read_parquet(files[price_day])
    rows.loc[rows.index[4], "price"] = 999.0
    rows.to_parquet(files[price_day], index=False)
    files[empty_day].write_bytes(b"")
    pd.read_parquet(files[half_day]).iloc[:30].to_parquet(files[half_day], index=False)
    shifted = pd.read_parquet(files[date_day]).assign(date=pd.Timestamp(date_day) - timedelta(1))
    shifted.to_parquet(files[date_day], index=False)
    copy = tmp_path / "copy-of-bad.parquet"
    shutil.copy(files[price_day], copy)

    store = tmp_path / "store"
    earlier = history[history["date"] == pd.Timestamp(price_day)].assign(price=1.5)
    write_day(store, price_day, earlier)  # an accepted earlier delivery of a bad day
    before = hashlib.sha256(Path(day_path(store, price_day)).read_bytes()).hexdigest()

    result = validate_backfill(list(files.values()), store)

    failed = {r.day: r.failure_names() for r in result.failed}
    assert failed == {
        price_day: ["price_in_band"],
        empty_day: ["readable"],
        half_day: ["station_count"],
        date_day: ["date_is_day"],
    }
    assert len(result.accepted) == 10 and not result.success
    assert set(list_days(store)) == set(result.accepted) | {price_day}
    after = hashlib.sha256(Path(day_path(store, price_day)).read_bytes()).hexdigest()
    assert after == before  # previously accepted data untouched
    for r in result.failed:
        assert Path(r.quarantine_uri).is_file() and Path(r.summary_uri).is_file()
        assert not files[r.day].exists()
    # the failing day got the single-day suite: same examples and Data Docs as validate_day
    bad = next(r for r in result.failed if r.day == price_day)
    assert bad.check("price_in_band").examples[0]["price"] == 999.0
    assert Path(bad.data_docs_uri).is_file()
    with pytest.raises(ValidationFailedError) as single:
        validate_day(copy, price_day, tmp_path / "other-store")
    assert single.value.result.failure_names() == bad.failure_names()
    assert (
        single.value.result.check("price_in_band").examples == bad.check("price_in_band").examples
    )
    # the batch; alone: the 2 failing days and the day the wrong-dated rows duplicate; the rest
    assert result.gx_runs == 5
    with pytest.raises(ValidationFailedError, match="4 of 14 day"):
        result.raise_for_failures()


def test_backfill_canonicalises_ids_and_runs_the_new_checks(tmp_path, history):
    """Ids and economics in a backfill: messy ids are stored canonical, path-like ids and
    kilolitre volumes are quarantined, each with the same checks validate_day would fail."""
    files = deliver(history, tmp_path / "in", range(10))
    messy_day, path_day, kl_day = (START + timedelta(days=i) for i in (3, 5, 7))
    rows = pd.read_parquet(files[messy_day])
    rows.assign(station_id=" " + rows["station_id"].str.lower()).to_parquet(files[messy_day])
    rows = pd.read_parquet(files[path_day])
    rows.loc[rows.index[2], "station_id"] = "../S002"
    rows.to_parquet(files[path_day], index=False)
    rows = pd.read_parquet(files[kl_day])
    rows.assign(volume=rows["volume"] / 1000).to_parquet(files[kl_day], index=False)
    store = tmp_path / "store"

    result = validate_backfill(list(files.values()), store)

    failed = {r.day: r.failure_names() for r in result.failed}
    assert failed == {
        path_day: ["station_id_format"],
        kl_day: ["drift_volume", "volume_scale"],
    }
    assert "kilolitres, not litres?" in result.failed[1].headline()
    stored = read_day(store, messy_day)["station_id"]
    assert stored.tolist() == [f"S{i:03d}" for i in range(80)]
    after = result.results[4].check("station_count").details  # the day after the messy one
    assert after["new_count"] == 0 and after["missing_count"] == 0


def test_problems_with_the_request_change_nothing(tmp_path, history):
    files = deliver(history, tmp_path / "in", range(3))
    store = tmp_path / "store"
    with pytest.raises(DeliveryNotFoundError):
        validate_backfill([*files.values(), tmp_path / "in" / "missing.csv"], store)
    twice = {START: files[START], START + timedelta(days=1): files[START]}
    with pytest.raises(ForecourtError, match="two deliveries for 2026-03-01"):
        validate_backfill(list(twice.values()), store)
    assert not store.exists() and all(p.exists() for p in files.values())


def test_mapping_of_days_to_files(tmp_path, history):
    files = deliver(history, tmp_path / "in", range(2), fmt="csv")
    renamed = {}
    for day, path in files.items():
        renamed[day.isoformat()] = path.rename(path.with_name(f"upload-{day.day}.csv"))
    result = validate_backfill(renamed, tmp_path / "store")
    assert result.success and result.accepted == sorted(files)


# ---- the real NSW FuelCheck prices ---------------------------------------------------------

NSW = real_data_dir() / "nsw_fuelcheck_daily_prices.csv.gz"


@pytest.fixture(scope="module")
def nsw_u91() -> pd.DataFrame:
    if not NSW.is_file():
        pytest.skip(f"{NSW} not found (shared real data)")
    raw = pd.read_csv(NSW, dtype={"station_code": str})
    u91 = raw[raw["fuel_code"] == "U91"]
    return pd.DataFrame(
        {
            "date": u91["date"],
            "station_id": u91["station_code"],
            "price": u91["price_cents"] / 100,  # cents -> $/L
        }
    )


def test_nsw_prices_the_known_defect_is_caught_and_clean_days_pass(tmp_path, nsw_u91):
    folder = tmp_path / "nsw"
    folder.mkdir()
    files = []
    for day in ("2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30"):
        path = folder / f"nsw-u91-{day}.csv"
        nsw_u91[nsw_u91["date"] == day].to_csv(path, index=False)
        files.append(path)
    store = tmp_path / "store"
    config = ValidationConfig.price_only()

    result = validate_backfill(files, store, config)

    assert [r.day for r in result.failed] == [date(2026, 4, 28)]
    bad = result.failed[0]
    assert bad.failure_names() == ["price_in_band"]
    check = bad.check("price_in_band")
    assert check.unexpected_count == 1 and check.element_count > 2000
    assert check.examples[0]["station_id"] == "1294" and check.examples[0][
        "price"
    ] == pytest.approx(0.009)
    assert result.accepted == [date(2026, 4, 27), date(2026, 4, 29), date(2026, 4, 30)]
    day = read_day(store, "2026-04-30")
    assert len(day) > 2000 and day["volume"].isna().all()
    last = result.results[-1]
    assert last.check("station_count").status == "passed"  # vs the 2 accepted days before
    assert last.check("drift_price").status in ("passed", "warning")  # a real market moves
