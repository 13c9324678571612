"""Forecourt's library: data -> validation -> market -> envs -> evaluation -> agents -> training.

Each subpackage imports only from the ones to its left, so any stage can run on its own.
"""

__version__ = "0.1.0"
