"""Named market setups: which markets an agent trains on and which it is scored on.

    default   the built-in synthetic market (constant unit cost)
    sydney    the same demand, unit cost following the real Sydney wholesale price:
              trains on every 30-day window starting 2024-07-01..2025-12-01 (cost
              1.54..1.77 $/L) and is scored on 16 seeded windows of that span. The 2026
              spike (to 2.49 $/L) is left out on purpose: the default demand sells nothing
              above 2.40 $/L, so no price could cover that cost; a market calibrated on
              spike-period data brings its own demand and price grid.
    PATH      a JSON file holding a Market (`Market.to_dict()`), or a calibration report
              (`forecourt calibrate --json`), whose "market" entry is used

A setup also carries the training budget it needs (`config_overrides`, plain data so the
market layer does not import the agents): a market whose cost moves asks more of the agent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rl_core.errors import InvalidMarketError
from rl_core.market.costs import sydney_markets
from rl_core.market.model import Market

SYDNEY_EVAL_WINDOWS = 16


@dataclass(frozen=True)
class MarketSetup:
    name: str
    train: list[Market]
    evaluate: list[Market]
    description: str
    config_overrides: dict = field(default_factory=dict)


def market_setup(spec: str = "default") -> MarketSetup:
    if spec == "default":
        m = Market()
        return MarketSetup("default", [m], [m], "built-in synthetic market, constant cost")
    if spec == "sydney":
        span = {"first_start": "2024-07-01", "last_start": "2025-12-01"}
        return MarketSetup(
            "sydney",
            sydney_markets(**span),
            sydney_markets(**span, n=SYDNEY_EVAL_WINDOWS, seed=123),
            "built-in demand, unit cost = Sydney wholesale (TGP) 30-day windows, 2024-25",
            {"hidden": (128, 128)},
        )
    path = Path(spec)
    if not path.is_file():
        raise InvalidMarketError(
            f"unknown market {spec!r}: use 'default', 'sydney' or a JSON file with a market"
        )
    try:
        data = json.loads(path.read_text())
        market = Market.from_dict(data.get("market", data))
    except (json.JSONDecodeError, TypeError, AttributeError) as exc:
        raise InvalidMarketError(f"{path} does not hold a market: {exc}") from exc
    return MarketSetup(path.stem, [market], [market], f"market from {path}")
