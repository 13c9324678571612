"""What the Forecourt page looks like; forecourt_plugin.py's routes render it from here.

- `charts`: the SVG trend chart, pure functions;
- `formatting`: numbers and times as the page shows them.

Only Jinja2 and MarkupSafe (both Airflow dependencies): no Airflow, no FastAPI, no rl_core.
This package is a library on sys.path, not a plugin: the plugins folder's .airflowignore
keeps Airflow's plugin manager from importing its files as plugin modules.
"""
