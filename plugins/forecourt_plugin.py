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
"""

from __future__ import annotations

import html
import logging
import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
    return HTMLResponse(
        _document("Forecourt: sign in", "<p>Sign in to Airflow to see this page.</p>"),
        status_code=401,
    )


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


@app.get("/icon.svg")
def icon() -> Response:
    return Response(
        ICON_SVG, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#6b7280" '
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M3 22V5a2 2 0 0 1 2-2h7a2 2 0 0 1 2 2v17"/><path d="M2 22h13"/>'
    '<path d="M5 9h7"/><path d="M14 12h2a2 2 0 0 1 2 2v3a1.5 1.5 0 0 0 3 0V9l-3-3"/></svg>'
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


# ---- rendering -------------------------------------------------------------------------------


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pct(x: Any, signed: bool = False, digits: int = 2) -> str:
    if not _finite(x):
        return "–"
    return f"{x:+.{digits}%}" if signed else f"{x:.{digits}%}"


def num(x: Any, digits: int = 1) -> str:
    return f"{x:,.{digits}f}" if _finite(x) else "–"


def when(iso: Any) -> str:
    """2026-11-24T02:13:05+00:00 -> 2026-11-24 02:13 UTC."""
    if not iso:
        return "–"
    s = str(iso)
    if len(s) >= 16 and s[10] == "T":
        return f"{s[:10]} {s[11:16]}" + (" UTC" if s.endswith(("+00:00", "Z")) else "")
    return s


def _badge(outcome: Any) -> str:
    if not outcome:
        return "–"
    cls = "".join(c for c in str(outcome).lower() if c.isalnum() or c == "-")
    return f'<span class="badge b-{cls}">{esc(outcome)}</span>'


def _file_link(base: str, area: str, rel: str | None, label: str, path: str | None = None) -> str:
    if rel:
        return f'<a href="{esc(base)}/files/{esc(area)}/{esc(quote(rel))}">{esc(label)}</a>'
    if path:  # recorded elsewhere (another machine's disk): show where
        return f'<span class="path" title="{esc(path)}">{esc(Path(path).name)}</span>'
    return "–"


_COLORS = {
    "promoted": "#2e7d32",
    "kept": "#757575",
    "rejected": "#c62828",
    None: "#1565c0",
}


def _axis(low: float, high: float) -> tuple[float, float, float]:
    """A y range around [low, high] on round ticks (1, 2, 2.5 or 5 x 10^k), 3 to 6 of them."""
    span = max(high - low, 0.004)
    raw = span / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag + 1e-12)
    lo = math.floor(low / step + 1e-9) * step
    hi = math.ceil(high / step - 1e-9) * step
    if low - lo < 0.2 * step:  # keep the lowest point off the frame
        lo -= step
    return lo, hi, step


def trend_svg(points: list[dict], agent: str, width: int = 900, height: int = 240) -> str:
    """Fraction of the optimum over versions as an inline SVG (no script, no fonts to load)."""
    pts = [p for p in points if _finite(p.get("fraction_of_optimum"))]
    label = f"{agent}: fraction of the optimum by version"
    head = (
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(label)}">'
        f"<title>{esc(label)}</title>"
    )
    if not pts:
        return (
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            'class="muted">no evaluated versions yet</text></svg>'
        )
    left, right, top, bottom = 60, 16, 14, 34
    w, h = width - left - right, height - top - bottom
    ys = [p["fraction_of_optimum"] for p in pts]
    lo, hi, step = _axis(min(ys), max(max(ys), 1.0))

    def x_of(i: int) -> float:
        return left + (w / 2 if len(pts) == 1 else i * w / (len(pts) - 1))

    def y_of(v: float) -> float:
        return top + (hi - v) / (hi - lo) * h

    out = [head, f'<rect x="{left}" y="{top}" width="{w}" height="{h}" class="plot"/>']
    digits = next(d for d in range(4) if abs(round(step * 100, d) - step * 100) < 1e-9 or d == 3)
    for k in range(round((hi - lo) / step) + 1):
        v = lo + k * step
        y = y_of(v)
        out.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{esc(pct(v, digits=digits))}</text>"
        )
    if lo <= 1.0 <= hi:
        y = y_of(1.0)
        out.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="optimum"/>'
            f'<text x="{left + w - 4}" y="{y - 4:.1f}" text-anchor="end" class="tick">'
            "exact optimum</text>"
        )
    every = max(1, math.ceil(len(pts) / 12))
    for i, p in enumerate(pts):
        if i % every == 0 or i == len(pts) - 1:
            out.append(
                f'<text x="{x_of(i):.1f}" y="{top + h + 18}" text-anchor="middle" class="tick">'
                f"v{esc(p['version'])}</text>"
            )
    line = " ".join(
        f"{x_of(i):.1f},{y_of(p['fraction_of_optimum']):.1f}" for i, p in enumerate(pts)
    )
    out.append(f'<polyline points="{line}" class="line"/>')
    for i, p in enumerate(pts):
        x, y = x_of(i), y_of(p["fraction_of_optimum"])
        color = _COLORS.get(p.get("decision"), _COLORS[None])
        tip = (
            f"v{p['version']}: {pct(p['fraction_of_optimum'])} of the optimum, total reward "
            f"{num(p.get('total_reward'))}; status {p.get('status') or '–'}; decision "
            f"{p.get('decision') or 'none'}"
        )
        cls = "pt champion" if p.get("champion") else "pt"
        out.append(
            f'<g class="{cls}" data-version="{esc(p["version"])}"><title>{esc(tip)}</title>'
            + (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" class="ring"/>'
                if p.get("champion")
                else ""
            )
            + f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{color}"/></g>'
        )
    out.append(
        f'<text x="{left + w / 2}" y="{height - 2}" text-anchor="middle" class="tick">'
        "registered version</text></svg>"
    )
    return "".join(out)


def _legend() -> str:
    items = [
        ("promoted", "promoted"),
        ("kept", "kept"),
        ("rejected", "rejected"),
        (None, "no decision"),
    ]
    spans = "".join(
        f'<span><i style="background:{_COLORS[k]}"></i>{esc(text)}</span>' for k, text in items
    )
    return f'<div class="legend">{spans}<span><i class="ringkey"></i>champion</span></div>'


def _champion(a: dict) -> str:
    c = a.get("champion_info")
    if not a.get("champion"):
        return '<p class="champ none">No champion in service.</p>'
    if not c:
        return f'<p class="champ">Champion: <b>v{esc(a["champion"])}</b></p>'
    window = c.get("data_window") or {}
    trained = (
        f"; trained on {esc(window.get('first_day'))} to {esc(window.get('last_day'))}"
        if window.get("first_day")
        else ""
    )
    return (
        f'<p class="champ">Champion: <b class="champion-version">v{esc(c["version"])}</b> '
        f"({esc(pct(c.get('fraction_of_optimum')))} of the optimum, total reward "
        f"{esc(num(c.get('total_reward')))}; promoted {esc(when(c.get('promoted_at')))}{trained})"
        "</p>"
    )


def _guardrails(checks: list[dict]) -> str:
    if not checks:
        return "–"
    return " ".join(
        f'<span class="g {"ok" if g.get("passed") else "fail"}" title="{esc(g.get("detail"))}">'
        f"{'✓' if g.get('passed') else '✗'} {esc(g.get('name'))}</span>"
        for g in checks
    )


def _decisions(a: dict, base: str) -> str:
    rows = a.get("decisions") or []
    if not rows:
        return '<p class="muted">No decisions recorded yet.</p>'
    body = []
    for d in rows:
        report = _file_link(base, "reports", d.get("report_relpath"), "report", d.get("report"))
        plot_rel = d.get("report_relpath")
        if plot_rel and plot_rel.endswith(".md"):
            report += " " + _file_link(base, "reports", plot_rel[:-3] + ".png", "plot")
        body.append(
            "<tr>"
            f"<td>v{esc(d['version'])}</td><td>{esc(when(d.get('at')))}</td>"
            f"<td>{_badge(d.get('outcome'))}</td><td>{esc(d.get('baseline') or '–')}</td>"
            f'<td class="n">{esc(pct(d.get("relative_improvement"), signed=True))}</td>'
            f'<td class="n">{esc(pct(d.get("ci_low"), signed=True))}</td>'
            f'<td class="n">{esc(pct(d.get("margin")))}</td>'
            f'<td class="n">{esc(_p(d.get("p_value")))}</td>'
            f"<td>{_guardrails(d.get('guardrails') or [])}</td>"
            f'<td class="reason">{esc(d.get("reason") or "")}</td><td>{report}</td>'
            "</tr>"
        )
    return (
        '<table class="decisions"><thead><tr><th>version</th><th>decided</th><th>outcome</th>'
        "<th>baseline</th><th>improvement</th><th>95% lower bound</th><th>margin</th><th>p</th>"
        "<th>guardrails</th><th>reason</th><th>evidence</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


def _p(x: Any) -> str:
    return f"{x:.3g}" if _finite(x) else "–"


def _versions(a: dict) -> str:
    rows = a.get("versions") or []
    if not rows:
        return '<p class="muted">No versions registered yet.</p>'
    body = []
    for v in rows:
        window = v.get("data_window") or {}
        hp = v.get("hyperparameters") or {}
        steps = hp.get("total_env_steps")
        body.append(
            f'<tr class="{"is-champion" if v.get("champion") else ""}">'
            f"<td>v{esc(v['version'])}{' ★' if v.get('champion') else ''}</td>"
            f"<td>{esc(when(v.get('created')))}</td><td>{esc(v.get('status') or '–')}</td>"
            f'<td class="n">{esc(pct(v.get("fraction_of_optimum")))}</td>'
            f'<td class="n">{esc(num(v.get("total_reward")))}</td>'
            f"<td>{_badge((v.get('decision') or {}).get('outcome'))}</td>"
            f"<td>{esc(window.get('first_day') or '–')} – {esc(window.get('last_day') or '–')}</td>"
            f'<td class="n">{esc(f"{steps:,}" if isinstance(steps, int) else "–")}</td>'
            "</tr>"
        )
    return (
        "<table><thead><tr><th>version</th><th>registered</th><th>status</th>"
        "<th>of optimum</th><th>total reward</th><th>decision</th><th>data window</th>"
        "<th>env steps</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def _history(a: dict) -> str:
    rows = a.get("history") or []
    if not rows:
        return '<p class="muted">The champion alias has not moved yet.</p>'
    body = "".join(
        "<tr>"
        f"<td>{esc(when(h.get('at')))}</td><td>{_badge(h.get('action'))}</td>"
        f"<td>v{esc(h.get('version'))}</td>"
        f"<td>{'v' + esc(h['previous']) if h.get('previous') else 'none'}</td>"
        f'<td class="reason">{esc(h.get("reason") or "")}</td></tr>'
        for h in rows
    )
    return (
        "<table><thead><tr><th>when</th><th>action</th><th>champion</th><th>before</th>"
        f"<th>reason</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _agent_section(agent: str, a: dict, base: str) -> str:
    shown = len(a.get("versions") or [])
    more = f" (latest {shown} of {a.get('n_versions')})" if a.get("n_versions", 0) > shown else ""
    error = f'<p class="error">{esc(a["error"])}</p>' if a.get("error") else ""
    return (
        f'<section class="agent" id="agent-{esc(agent)}"><h2>{esc(agent)} agent '
        f'<span class="muted">{esc(a.get("name"))}</span></h2>{error}{_champion(a)}'
        "<h3>Fraction of the optimum by version</h3>"
        f"{trend_svg(a.get('trend') or [], agent)}{_legend()}"
        '<p class="note">Each version evaluated on the market it was trained on (exact '
        "optimum = 100%); decisions compare champion and challenger on the same scenarios.</p>"
        f"<h3>Latest decisions</h3>{_decisions(a, base)}"
        f"<h3>Champion alias history</h3>{_history(a)}"
        f"<h3>Versions{esc(more)}</h3>{_versions(a)}</section>"
    )


def _run_agent(agent: str, r: dict) -> str:
    parts = []
    if r.get("trials"):
        parts.append(f"{r['trials']} trials, best {pct(r.get('best_fraction_of_optimum'))}")
    if r.get("registered_version"):
        parts.append(f"registered v{r['registered_version']}")
    if r.get("decision"):
        parts.append(
            f"{r['decision']} ({pct(r.get('relative_improvement'), signed=True)}, lower bound "
            f"{pct(r.get('ci_low'), signed=True)})"
        )
    text = esc("; ".join(parts)) if parts else '<span class="muted">not reached</span>'
    action = _badge(r.get("action")) if r.get("action") else ""
    champ = (
        f" champion v{esc(r['champion_version'])}"
        if r.get("champion_version")
        else (" no champion" if r.get("action") else "")
    )
    return f"<div><b>{esc(agent)}</b>: {text} {action}{champ}</div>"


def _runs(runs: list[dict], base: str) -> str:
    if not runs:
        return '<p class="muted">No run reports yet.</p>'
    body = []
    for r in runs:
        agents = "".join(_run_agent(k, v) for k, v in (r.get("agents") or {}).items())
        if r.get("error"):
            agents = f'<span class="error">{esc(r["error"])}</span>'
        status = str(r.get("status") or "")
        cls = "ok" if status == "complete" else "fail" if status.startswith("stopped") else "warn"
        links = " ".join(
            x
            for x in (
                _file_link(base, "runs", r.get("report_md"), "report")
                if r.get("report_md")
                else "",
                _file_link(base, "runs", r.get("report_png"), "plot")
                if r.get("report_png")
                else "",
            )
            if x
        )
        body.append(
            f'<tr><td>{esc(r.get("day"))}</td><td class="path">{esc(r.get("run_id"))}</td>'
            f'<td class="{cls}">{esc(status)}</td><td>{agents or "–"}</td>'
            f"<td>{links or '–'}</td></tr>"
        )
    return (
        "<table><thead><tr><th>day</th><th>run</th><th>status</th><th>agents</th>"
        "<th>report</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def render_page(data: dict, base: str = "") -> str:
    """The whole page from `collect()`'s dict; `base` is the app's mount path (/forecourt)."""
    reg = data.get("registry") or {}
    errors = data.get("errors") or {}
    parts = ['<header><h1>Forecourt <span class="muted">pricing agents</span></h1>']
    meta = []
    if reg.get("generated_at"):
        meta.append(f"as of {esc(when(reg['generated_at']))}")
    if reg.get("tracking_uri"):
        meta.append(f'registry <span class="path">{esc(reg["tracking_uri"])}</span>')
    meta.append(f'<a href="{esc(base)}/api/overview">JSON</a>')
    parts.append(f'<p class="muted">{" · ".join(meta)}</p></header>')
    if errors.get("registry"):
        parts.append(f'<p class="error">Registry unavailable: {esc(errors["registry"])}</p>')
    elif reg and not reg.get("registry_exists", True):
        parts.append('<p class="muted">No model has been registered yet.</p>')
    agents = reg.get("agents") or {}
    nav = " ".join(f'<a href="#agent-{esc(a)}">{esc(a)}</a>' for a in agents)
    if nav:
        parts.append(f'<nav>{nav} <a href="#runs">daily runs</a></nav>')
    for agent, a in agents.items():
        parts.append(_agent_section(agent, a, base))
    parts.append('<section id="runs"><h2>Latest daily runs</h2>')
    if errors.get("runs"):
        parts.append(f'<p class="error">Run reports unavailable: {esc(errors["runs"])}</p>')
    parts.append(_runs(data.get("runs") or [], base) + "</section>")
    return _document("Forecourt", "".join(parts))


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


_CSS = """
:root{--fg:#1f2933;--muted:#6b7280;--bg:#fff;--line:#e5e7eb;--panel:#f9fafb;--link:#1d4ed8}
@media (prefers-color-scheme: dark){:root{--fg:#e5e7eb;--muted:#9ca3af;--bg:#111827;
--line:#374151;--panel:#1f2937;--link:#93c5fd}}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 6px;
border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:14px;margin:18px 0 6px}
a{color:var(--link)}nav a{margin-right:12px}
.muted,.note{color:var(--muted)}.note{font-size:12px;margin:2px 0}
.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.error{color:#b91c1c;background:#fef2f2;border:1px solid #fecaca;padding:6px 10px;
border-radius:4px}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600;font-size:12px;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.reason{max-width:420px;font-size:12px}
tr.is-champion td{background:rgba(46,125,50,.08)}
.g{display:inline-block;white-space:nowrap;margin-right:6px}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;
background:#e5e7eb;color:#111827}
.b-promoted,.b-promote,.b-forced{background:#c8e6c9;color:#1b5e20}
.b-kept{background:#e0e0e0;color:#424242}.b-rejected{background:#ffcdd2;color:#b71c1c}
.b-rollback{background:#ffe0b2;color:#e65100}.b-dry-run{background:#e3f2fd;color:#0d47a1}
.ok{color:#2e7d32}.fail{color:#c62828}.warn{color:#b45309}
.champ{font-size:15px}.champ.none{color:var(--muted)}
svg.trend{max-width:100%;height:auto;display:block}
svg .plot{fill:var(--panel);stroke:var(--line)}svg .grid{stroke:var(--line)}
svg .optimum{stroke:#2e7d32;stroke-dasharray:5 4}
svg .tick{fill:var(--muted);font-size:11px}svg text.muted{fill:var(--muted)}
svg .line{fill:none;stroke:var(--muted);stroke-width:1.5}
svg .ring{fill:none;stroke:var(--fg);stroke-width:2}
.legend{font-size:12px;color:var(--muted);margin:2px 0}
.legend span{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;
vertical-align:-1px}
.legend i.ringkey{border:2px solid var(--fg);width:8px;height:8px;background:none}
"""
