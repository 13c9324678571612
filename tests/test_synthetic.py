"""The seeded synthetic history: deterministic, shaped like the schema, drawn from the market."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from rl_core.data.schema import coerce_pricing_frame
from rl_core.data.store import list_days, read_window
from rl_core.market.model import Market
from rl_core.market.synthetic import (
    FACTOR_RANGE,
    generate_history,
    station_factors,
    write_history,
)

MARKET = Market()


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return generate_history(MARKET, n_stations=20, days=120, seed=0)


def test_same_seed_same_frame_other_seed_other_frame(history):
    pd.testing.assert_frame_equal(history, generate_history(MARKET, seed=0))
    other = generate_history(MARKET, seed=1)
    assert not np.allclose(history["price"], other["price"])
    assert not np.allclose(history["volume"], other["volume"])


def test_shape_and_schema(history):
    assert len(history) == 20 * 120
    pd.testing.assert_frame_equal(history, coerce_pricing_frame(history))
    assert history["station_id"].nunique() == 20
    days = history["date"].drop_duplicates()
    assert days.iloc[0] == pd.Timestamp("2026-01-01") and len(days) == 120
    assert (days.diff().dropna() == pd.Timedelta(days=1)).all()


def test_prices_stay_in_band_and_move_both_ways(history):
    assert history["price"].between(MARKET.price_min, MARKET.price_max).all()
    moves = history.pivot(index="date", columns="station_id", values="price").diff().iloc[1:]
    # every station both raises and cuts its price, by varying amounts
    assert ((moves > 0).sum() >= 10).all() and ((moves < 0).sum() >= 10).all()
    assert moves.abs().stack().nunique() > 50


def test_volume_is_station_demand_times_mean_one_noise(history):
    factors = station_factors(20, seed=0)
    assert all(FACTOR_RANGE[0] <= f <= FACTOR_RANGE[1] for f in factors.values())
    assert max(factors.values()) - min(factors.values()) > 0.1  # stations really differ
    ratios = []
    for station, rows in history.groupby("station_id"):
        demand = MARKET.demand.replace(base_demand=MARKET.demand.base_demand * factors[station])
        price = rows["price"].to_numpy()
        expected = demand.demand(price[1:], price[:-1])
        ratios.append(rows["volume"].to_numpy()[1:] / expected)
    ratios = np.concatenate(ratios)
    assert (history["volume"] >= 0).all()
    assert ratios.mean() == pytest.approx(1.0, abs=0.01)
    assert ratios.std() == pytest.approx(MARKET.demand.noise_std, rel=0.1)


def test_costs_and_competitor_prices(history):
    assert (history["unit_cost"] == MARKET.unit_cost).all()
    daily_mean = history.groupby("date")["price"].transform("mean")
    gap = history["competitor_price"] - daily_mean
    assert gap.abs().mean() < 0.05 and gap.std() > 0.005  # near the market, but noisy

    path = np.linspace(1.5, 1.7, 30)
    with_path = generate_history(MARKET, n_stations=3, days=30, cost_path=path)
    assert np.allclose(with_path.groupby("date")["unit_cost"].first(), path)
    with pytest.raises(ValueError, match="cost_path must hold 30"):
        generate_history(MARKET, n_stations=3, days=30, cost_path=path[:-1])


def test_write_history_lands_one_file_per_day(tmp_path):
    frame = write_history(tmp_path, MARKET, n_stations=3, days=5, start=date(2026, 3, 30))
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == [
        f"pricing/date={d}/pricing.parquet"
        for d in ("2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03")
    ]
    assert list_days(tmp_path)[-1] == date(2026, 4, 3)
    back = read_window(tmp_path, date(2026, 4, 3), days=5)
    expected = frame.sort_values(["date", "station_id"], ignore_index=True)
    pd.testing.assert_frame_equal(back, expected)
