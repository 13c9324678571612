"""Serving defaults shared by the app and its command line (no heavy imports here)."""

DEFAULT_REFRESH_S = 5.0  # seconds between checks for a new champion
