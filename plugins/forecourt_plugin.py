"""The "Forecourt" page of the Airflow 3 UI: champions, decisions, alias history, trends, runs.

A FastAPI app mounted by the Airflow API server at /forecourt (`fastapi_apps`), with a nav
entry (`external_views`, Airflow >= 3.1; ignored by 3.0) that shows it inside the UI:

    GET /forecourt/                 the page: server-rendered HTML, inline SVG, no JavaScript
    GET /forecourt/api/overview     the same data as JSON
    GET /forecourt/files/reports/…  a decision report (markdown, PNG) under $FORECOURT_HOME/reports
    GET /forecourt/files/runs/…     a daily run report under $FORECOURT_HOME/runs
    GET /forecourt/icon.svg         the nav icon

Data: `rl_core.registry.overview.registry_overview` (MLflow registry: tags and aliases) and
`rl_core.pipeline.run_reports.recent_runs` (report.json of the daily runs), imported inside
the handlers only, so this file imports without torch or MLflow (an MWAA scheduler loads
every plugin and has neither). The API server needs rl_core, MLflow and the same
FORECOURT_HOME / FORECOURT_MLFLOW_TRACKING_URI as the workers.

Access: a plugin's FastAPI app is not protected by Airflow (a mounted app inherits none of
the API's dependencies), so every route here checks the caller itself, with Airflow's own
auth manager: the JWT from `Authorization: Bearer` or the UI's `_token` cookie, and
permission to view plugins (AccessView.PLUGINS). A browser without a session is sent to
the login page; the JSON API answers 401.

This module holds the routes, the access check and the data; what the page looks like
(Jinja templates, the SVG chart, the number formats) is the forecourt_page package next to
it, which the plugins folder's .airflowignore keeps Airflow from loading as a plugin.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

# Airflow puts the plugins folder on sys.path (on MWAA: the unpacked plugins.zip), which is
# where forecourt_page is; this file also works when imported from its path alone (tests)
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)

from forecourt_page import icon_svg, render_page, render_sign_in  # noqa: E402

log = logging.getLogger(__name__)

URL_PREFIX = "/forecourt"
DEFAULT_LIMIT = 10
_FILE_TYPES = {".md": "text/plain; charset=utf-8", ".png": "image/png", ".json": "application/json"}
_MAX_TEXT = 2_000_000  # bytes of a report shown at most
_NO_STORE = {"Cache-Control": "no-store"}


# ---- access ----------------------------------------------------------------------------------


class _NotSignedIn(Exception):
    """No valid credentials on the request: a browser goes to the login page, an API call 401."""


async def authorize(request: Request) -> None:
    """Allow only a user the Airflow auth manager lets view plugins (FastAPI dependency)."""
    user, token = _trusted_user(request), _token(request)
    if user is None and not token:
        raise _NotSignedIn()
    try:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

        manager = get_auth_manager()
    except (ImportError, RuntimeError) as exc:  # not running inside an Airflow API server
        raise HTTPException(503, "Airflow's auth manager is not available") from exc
    if user is None:
        from jwt import InvalidTokenError  # PyJWT, an Airflow dependency

        try:
            user = await manager.get_user_from_token(token)
        except (InvalidTokenError, HTTPException) as exc:  # expired, revoked, invalid
            raise _NotSignedIn() from exc
    if not manager.is_authorized_view(access_view=AccessView.PLUGINS, user=user):
        raise HTTPException(403, "Forbidden: this user may not view plugins")


def _token(request: Request) -> str:
    """An explicit `Authorization: Bearer` token wins over the UI's session cookie."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get("_token", "")


def _trusted_user(request: Request):
    """The user Airflow's JWTRefreshMiddleware already resolved from the cookie (newer 3.x)."""
    if request.headers.get("authorization"):
        return None  # an explicit credential decides
    try:
        from airflow.api_fastapi.core_api.security import USER_INJECTED_BY_TRUSTED_MIDDLEWARE
    except ImportError:
        return None
    user = getattr(request.state, "user", None)
    via = getattr(request.state, "user_authenticated_via", None)
    return user if via is USER_INJECTED_BY_TRUSTED_MIDDLEWARE else None


# ---- data ------------------------------------------------------------------------------------


def collect(limit: int = DEFAULT_LIMIT) -> dict:
    """Registry overview and latest run reports; an error in one leaves the other."""
    out: dict[str, Any] = {"registry": None, "runs": [], "errors": {}}
    try:
        from rl_core.registry.overview import registry_overview

        out["registry"] = registry_overview(limit)
    except Exception as exc:  # MLflow missing, tracking server down, ...
        log.exception("Forecourt page: reading the registry failed")
        out["errors"]["registry"] = f"{type(exc).__name__}: {exc}"
    try:
        from rl_core.pipeline.run_reports import recent_runs

        out["runs"] = recent_runs(limit)
    except Exception as exc:
        log.exception("Forecourt page: reading the run reports failed")
        out["errors"]["runs"] = f"{type(exc).__name__}: {exc}"
    return out


def _base_folder(area: str) -> Path:
    from rl_core import paths

    if area == "reports":
        return paths.reports_dir()
    if area == "runs":
        return paths.home() / "runs"
    raise HTTPException(404, "Not Found")


# ---- the app ---------------------------------------------------------------------------------

app = FastAPI(
    title="Forecourt",
    description="Champions, decisions and daily runs of the Forecourt pricing agents.",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


@app.exception_handler(_NotSignedIn)
async def _not_signed_in(request: Request, exc: _NotSignedIn) -> Response:
    page_path = request.scope.get("root_path", "").rstrip("/") + "/"
    if request.url.path not in (page_path, page_path.rstrip("/")):  # the API, a file
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    try:
        from airflow.api_fastapi.app import get_auth_manager

        login = get_auth_manager().get_url_login(next_url=str(request.url))
    except Exception:
        login = None
    if login:
        return RedirectResponse(login, status_code=307)
    return HTMLResponse(render_sign_in(), status_code=401)


@app.get("/", response_class=HTMLResponse, dependencies=[Depends(authorize)])
def page(request: Request, limit: int = Query(DEFAULT_LIMIT, ge=1, le=100)) -> HTMLResponse:
    base = request.scope.get("root_path", "").rstrip("/")
    return HTMLResponse(render_page(collect(limit), base), headers=_NO_STORE)


@app.get("/api/overview", dependencies=[Depends(authorize)])
def overview(limit: int = Query(DEFAULT_LIMIT, ge=1, le=100)) -> JSONResponse:
    return JSONResponse(collect(limit), headers=_NO_STORE)


@app.get("/files/{area}/{path:path}", dependencies=[Depends(authorize)])
def files(area: str, path: str) -> Response:
    root = _base_folder(area).resolve()
    target = (root / path).resolve()
    kind = _FILE_TYPES.get(target.suffix.lower())
    if kind is None or not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(404, "Not Found")
    headers = {"X-Content-Type-Options": "nosniff", **_NO_STORE}
    if target.suffix.lower() == ".png":
        return FileResponse(target, media_type=kind, headers=headers)
    with open(target, "rb") as fh:
        text = fh.read(_MAX_TEXT).decode("utf-8", errors="replace")
    return PlainTextResponse(text, media_type=kind, headers=headers)


ICON_SVG = icon_svg()


@app.get("/icon.svg")
def icon() -> Response:
    return Response(
        ICON_SVG, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


# ---- the plugin ------------------------------------------------------------------------------


class ForecourtPlugin(AirflowPlugin):
    name = "forecourt"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Forecourt"}]
    # the nav entry, shown inside the UI at /plugin/forecourt (Airflow >= 3.1; 3.0 ignores it)
    external_views = [
        {
            "name": "Forecourt",
            "href": f"{URL_PREFIX}/",
            "url_route": "forecourt",
            "destination": "nav",
            "icon": f"{URL_PREFIX}/icon.svg",
            "nav_top_level": True,
        }
    ]
