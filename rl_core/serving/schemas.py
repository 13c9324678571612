"""Request and response bodies of `POST /invocations` (one record, or a list of them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_BATCH = 10_000

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class InvocationRequest(BaseModel):
    """One station's question: what should I charge today?"""

    model_config = ConfigDict(strict=True, extra="forbid")

    agent: Literal["demand", "profit"]
    station_id: Annotated[str, Field(min_length=1, max_length=200)]
    yesterday_price: NonNegative = Field(description="price charged yesterday, $/L")
    unit_cost: NonNegative = Field(description="today's unit (wholesale) cost, $/L")
    day: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        0, description="day of the planning horizon (0 = its first day)"
    )
    demand_level: Annotated[float, Field(ge=-1.0, le=3.0, allow_inf_nan=False)] | None = Field(
        None,
        description="the station's demand level (its choke price above the model's price "
        "ceiling, in grid widths); absent: looked up by station_id in the champion's "
        "network, else the network's level",
    )


class InvocationResponse(BaseModel):
    price: float = Field(description="recommended price, $/L")
    expected_volume: float = Field(description="expected litres sold at that price")
    expected_profit: float = Field(description="(price - unit_cost) * expected_volume, $")
    model_version: str
    agent: str
    station_id: str
    station_source: Literal["request", "network", "fallback"] = Field(
        description="where the station's demand level came from"
    )


RequestBody = (
    InvocationRequest
    | Annotated[list[InvocationRequest], Field(min_length=1, max_length=MAX_BATCH)]
)
REQUEST_ADAPTER: TypeAdapter = TypeAdapter(RequestBody)
LIST_ADAPTER: TypeAdapter = TypeAdapter(list[InvocationRequest])
