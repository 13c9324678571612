"""Real dirt end to end: NSW FuelCheck -> mapping -> landing files -> GX validation.

The two halves of the data stage joined as the daily DAG joins them, on all 115 real days:
the known defect (station 1294 priced U91 at 0.9 c/L on 2026-04-28) is quarantined with a
report naming it, and every other day is accepted into the store.
"""

from datetime import date

import pytest

from rl_core.data.ingest import ingest, list_landing, write_landing
from rl_core.data.real import real_data_dir
from rl_core.data.store import list_days
from rl_core.validation import (
    ValidationConfig,
    ValidationFailedError,
    validate_backfill,
    validate_day,
)

NSW = real_data_dir() / "nsw_fuelcheck_daily_prices.csv.gz"
DEFECT_DAY = date(2026, 4, 28)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    if not NSW.is_file():
        pytest.skip(f"{NSW} not found (shared real data)")
    root = tmp_path_factory.mktemp("store")
    frames = ingest(NSW, "nsw_fuelcheck", fuel="U91")
    write_landing(root, frames)
    return root, frames


def test_every_real_day_lands_once(landing):
    root, frames = landing
    assert len(frames) == 115  # 118-day span, 3 days never published
    assert len(list_landing(root)) == 115


def test_the_defect_is_quarantined_and_every_other_day_accepted(landing):
    root, frames = landing
    config = ValidationConfig.price_only()
    landed = {day: path for day, (path,) in list_landing(root).items()}
    # the defect day as the daily DAG validates a day: validate_day, alone
    with pytest.raises(ValidationFailedError) as failed:
        validate_day(landed.pop(DEFECT_DAY), DEFECT_DAY, root, config)
    exc = failed.value
    assert exc.result.failure_names() == ["price_in_band"]
    assert "price_in_band" in str(exc)
    check = exc.result.check("price_in_band")
    assert check.unexpected_count == 1
    assert check.examples[0]["station_id"] == "1294"
    assert check.examples[0]["price"] == pytest.approx(0.009)
    # nothing lost: the delivery sits in quarantine with its report beside it
    assert exc.quarantine_uri and "quarantine/date=2026-04-28" in exc.quarantine_uri
    # every other day through the same checks, batched as a backfill (one GX run per ~50
    # days instead of one per day: test_validation_backfill holds the two paths equal)
    result = validate_backfill(landed, root, config)
    assert result.success, result.summary()
    accepted = list_days(root)
    assert len(accepted) == 114 and DEFECT_DAY not in accepted
