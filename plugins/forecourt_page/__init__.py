"""What the Forecourt page looks like: forecourt_plugin.py's routes render it from here.

- `render`: the Jinja environment and the pages (`render_page`, `render_sign_in`,
  `icon_svg`), from the templates in templates/ (HTML, the stylesheet, the icon);
- `charts`: the SVG trend chart, pure functions;
- `formatting`: numbers and times as the page shows them.

Only Jinja2 and MarkupSafe (both Airflow dependencies): no Airflow, no FastAPI, no rl_core.
This package is a library on sys.path, not a plugin: the plugins folder's .airflowignore
keeps Airflow's plugin manager from importing its files as plugin modules.
"""

from .render import icon_svg, render_page, render_sign_in

__all__ = ["icon_svg", "render_page", "render_sign_in"]
