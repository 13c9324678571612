"""The inference server: SageMaker's container contract on FastAPI.

    GET  /ping          200 when every configured agent has a champion loaded, else 503
    POST /invocations   JSON record (or list of records) -> recommended price, volume, profit
    POST /refresh       check the source for new champions now (also done every
                        `refresh_interval` seconds by a background thread)

Hot swap: a new champion is loaded and warmed up completely before one dict reference is
replaced; a request reads that reference once, so it finishes on the model it started
with, and no request waits for or fails because of a swap. A champion that fails to load
leaves the previous one in service.
Invalid requests get a 4xx JSON {"error": message}; never a 5xx.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rl_core.market.model import OBJECTIVES, check_objective
from rl_core.serving.predictor import LoadedModel
from rl_core.serving.schemas import (
    LIST_ADAPTER,
    MAX_BATCH,
    REQUEST_ADAPTER,
    InvocationRequest,
    InvocationResponse,
)
from rl_core.serving.settings import DEFAULT_REFRESH_S
from rl_core.serving.sources import ModelSource

log = logging.getLogger("rl_core.serving")

JSON_TYPES = ("application/json",)
MAX_BODY_BYTES = 8 * 1024 * 1024  # a full batch of MAX_BATCH records is about 1.3 MB


class ModelHolder:
    """The champions in service, one immutable `LoadedModel` per agent, swapped atomically."""

    def __init__(self, source: ModelSource, agents: Iterable[str] = OBJECTIVES) -> None:
        self.source = source
        self.agents = tuple(check_objective(a) for a in agents)
        self._models: dict[str, LoadedModel] = {}
        self._errors: dict[str, str] = {}
        self._failed: dict[str, str | None] = {}
        self._lock = threading.Lock()  # one refresh at a time; readers never take it
        self.swaps = 0

    def get(self, agent: str) -> LoadedModel | None:
        return self._models.get(agent)

    def versions(self) -> dict[str, str | None]:
        models = self._models
        return {a: (models[a].version if a in models else None) for a in self.agents}

    def problems(self) -> dict[str, str]:
        """Why each agent without a champion has none (empty when all are in service)."""
        models = self._models
        return {
            a: self._errors.get(a, "no champion in the model source yet")
            for a in self.agents
            if a not in models
        }

    def refresh(self, force: bool = False) -> dict[str, str | None]:
        """Load any champion whose version changed; returns the versions in service."""
        with self._lock:
            for agent in self.agents:
                self._refresh_one(agent, force)
        return self.versions()

    def _refresh_one(self, agent: str, force: bool) -> None:
        current = self._models.get(agent)
        try:
            version = self.source.version(agent)
        except Exception as exc:  # noqa: BLE001 - a flaky source must not stop serving
            self._errors[agent] = f"cannot ask {self.source!r} for the champion: {exc}"
            log.warning("%s: %s", agent, self._errors[agent])
            return
        if version is None:
            if current is None:
                self._errors[agent] = f"no champion for {agent!r} in {self.source!r}"
            return  # keep serving what we have: an alias moving away is not a reason to stop
        if current is not None and current.version == version:
            return
        if not force and self._failed.get(agent) == version:
            return  # this version failed to load; retried when it changes or on demand
        try:
            loaded = self.source.load(agent)
            if loaded is None:
                raise LookupError("the champion disappeared while loading")
            bundle, loaded_version = loaded
            if bundle.agent != agent:
                raise ValueError(f"bundle {bundle.path} is a {bundle.agent!r} policy")
            model = LoadedModel.load(bundle, loaded_version)
        except Exception as exc:  # noqa: BLE001 - keep the old champion in service
            self._failed[agent] = version
            self._errors[agent] = f"champion {version} failed to load: {exc}"
            log.error("%s: %s", agent, self._errors[agent])
            return
        self._models = {**self._models, agent: model}  # the one atomic swap
        self._errors.pop(agent, None)
        self._failed.pop(agent, None)
        self.swaps += 1
        log.info(
            "%s: serving version %s (was %s)",
            agent,
            model.version,
            current.version if current else None,
        )


class Refresher:
    """A daemon thread that calls `holder.refresh()` every `interval` seconds."""

    def __init__(self, holder: ModelHolder, interval: float) -> None:
        self.holder, self.interval = holder, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="champion-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.holder.refresh()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("champion refresh failed")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _describe(exc: ValidationError | RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        parts.append(f"{loc or 'body'}: {err.get('msg')}")
    more = len(exc.errors()) - 5
    return "invalid request: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def create_app(
    source: ModelSource,
    agents: Sequence[str] = OBJECTIVES,
    refresh_interval: float | None = DEFAULT_REFRESH_S,
) -> FastAPI:
    """The app serving `agents` from `source`; `refresh_interval` None disables polling."""
    holder = ModelHolder(source, agents)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        torch.set_num_threads(1)  # tiny networks: threads only add latency
        holder.refresh()
        refresher = None
        if refresh_interval is not None and refresh_interval > 0:
            refresher = Refresher(holder, refresh_interval)
            refresher.start()
        try:
            yield
        finally:
            if refresher is not None:
                refresher.stop()

    app = FastAPI(
        title="Forecourt pricing",
        description="Recommended fuel prices from the champion policies (SageMaker contract).",
        lifespan=lifespan,
    )
    app.state.holder = holder

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return _error(422, _describe(exc))

    @app.get("/ping")
    async def ping():
        problems = holder.problems()
        if problems:
            return JSONResponse(
                {"status": "unavailable", "problems": problems, "versions": holder.versions()},
                status_code=503,
            )
        return {"status": "ok", "versions": holder.versions()}

    @app.post("/refresh")
    def refresh():  # sync: loading a policy runs in the thread pool, not the event loop
        versions = holder.refresh(force=True)
        return {"versions": versions, "problems": holder.problems()}

    @app.post(
        "/invocations",
        responses={200: {"model": InvocationResponse}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": REQUEST_ADAPTER.json_schema()}},
            }
        },
    )
    async def invocations(request: Request):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in JSON_TYPES:
            return _error(415, f"content type {ctype or 'missing'!r}: send application/json")
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _error(413, f"body of {declared} bytes is over {MAX_BODY_BYTES}")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"body of {len(body)} bytes is over {MAX_BODY_BYTES}")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, nesting
            return _error(400, f"malformed JSON: {exc}")
        if isinstance(payload, list):
            if not 1 <= len(payload) <= MAX_BATCH:
                return _error(422, f"a batch holds 1 to {MAX_BATCH} records, got {len(payload)}")
        elif not isinstance(payload, dict):
            return _error(422, "the body must be a JSON object or a list of objects")
        try:
            if isinstance(payload, list):
                parsed = LIST_ADAPTER.validate_python(payload)
            else:
                parsed = InvocationRequest.model_validate(payload)
        except ValidationError as exc:
            return _error(422, _describe(exc))
        records = parsed if isinstance(parsed, list) else [parsed]
        answers, status = _answer(holder, records)
        if status != 200:
            return _error(status, answers)
        content = answers if isinstance(parsed, list) else answers[0]
        return Response(json.dumps(content), media_type="application/json")

    return app


def _answer(holder: ModelHolder, records: list[InvocationRequest]):
    """Price the records, one forward pass per agent; (answers, 200) or (message, status)."""
    out: list[dict | None] = [None] * len(records)
    by_agent: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_agent.setdefault(r.agent, []).append(i)
    for agent, idx in by_agent.items():
        if agent not in holder.agents:
            return f"agent {agent!r} is not served here (serving {', '.join(holder.agents)})", 422
        model = holder.get(agent)  # read once: a swap during this request does not affect it
        if model is None:
            why = holder.problems().get(agent, "not loaded")
            return f"no champion loaded for {agent!r}: {why}", 503
        rs = [records[i] for i in idx]
        day = np.fromiter((r.day for r in rs), np.int64, len(rs))
        yp = np.fromiter((r.yesterday_price for r in rs), np.float64, len(rs))
        uc = np.fromiter((r.unit_cost for r in rs), np.float64, len(rs))
        problems = model.check(day, yp, uc)
        if problems:
            where = ""
            if len(records) > 1:
                first = next(i for i, r in zip(idx, rs, strict=True) if _bad(model, r))
                where = f" (record {first}, station {records[first].station_id!r})"
            return "invalid request" + where + ": " + "; ".join(problems), 422
        levels, sources = model.resolve_levels(
            [r.station_id for r in rs], [r.demand_level for r in rs]
        )
        pred = model.predict(day, yp, uc, levels)
        for k, (i, r) in enumerate(zip(idx, rs, strict=True)):
            out[i] = {
                "price": round(float(pred.price[k]), 6),
                "expected_volume": float(pred.expected_volume[k]),
                "expected_profit": float(pred.expected_profit[k]),
                "model_version": model.version,
                "agent": agent,
                "station_id": r.station_id,
                "station_source": sources[k],
            }
    return out, 200


def _bad(model: LoadedModel, r: InvocationRequest) -> bool:
    return bool(model.check([r.day], [r.yesterday_price], [r.unit_cost]))
