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


class InvocationResponse(BaseModel):
    price: float = Field(description="recommended price, $/L")
    expected_volume: float = Field(description="expected litres sold at that price")
    expected_profit: float = Field(description="(price - unit_cost) * expected_volume, $")
    model_version: str
    agent: str
    station_id: str


RequestBody = (
    InvocationRequest
    | Annotated[list[InvocationRequest], Field(min_length=1, max_length=MAX_BATCH)]
)
REQUEST_ADAPTER: TypeAdapter = TypeAdapter(RequestBody)
LIST_ADAPTER: TypeAdapter = TypeAdapter(list[InvocationRequest])
