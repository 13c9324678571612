"""The Forecourt page and its sign-in page, rendered from the Jinja templates in templates/.

Autoescaping is on: every `{{ value }}` a template outputs is escaped, so no template or
caller escapes by hand. The escaping is the standard library's `html.escape` (quotes
included, since a value may land in an attribute), the one the page has always used, and
None shows as nothing; markup (the chart, a macro's output) goes in as it is.

The templates are found through the package (`jinja2.PackageLoader`, i.e. importlib), not
through a path relative to the current directory: from plugins/ locally, and from the
unpacked plugins.zip on MWAA.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from . import charts, formatting

ICON = "icon.svg"  # templates/icon.svg, served as it is


def _escape(value: Any) -> Markup:
    """Jinja's `finalize`: what every `{{ expression }}` outputs."""
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    return Markup(html.escape("" if value is None else str(value), quote=True))


@cache
def environment() -> Environment:
    """The page's Jinja environment (built once)."""
    env = Environment(
        loader=PackageLoader(__package__, "templates"),
        autoescape=True,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=formatting.pct,
        num=formatting.num,
        thousands=formatting.thousands,
        p_value=formatting.p_value,
        when=formatting.when,
        badge_class=formatting.badge_class,
        urlquote=quote,
        basename=lambda path: PurePath(str(path)).name,
    )
    env.globals.update(trend_svg=charts.trend_svg, legend=charts.LEGEND)
    return env


def render_page(data: dict, base: str = "") -> str:
    """The whole page from the plugin's `collect()` dict: {"registry", "runs", "errors"}.
    `base` is the path the app is mounted at (/forecourt), for the links it makes."""
    registry = data.get("registry") or {}
    return (
        environment()
        .get_template("page.html")
        .render(
            registry=registry,
            agents=registry.get("agents") or {},
            runs=data.get("runs") or [],
            errors=data.get("errors") or {},
            base=base,
        )
    )


def render_sign_in() -> str:
    """The page shown (with 401) to a browser without a session when there is no login page."""
    return environment().get_template("sign_in.html").render()


def icon_svg() -> str:
    """The nav entry's icon."""
    env = environment()
    source, _, _ = env.loader.get_source(env, ICON)
    return source
