"""Errors a user can act on. Each message names the problem and, where it can, the fix."""


class ForecourtError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero, without a traceback."""


class InvalidMarketError(ForecourtError, ValueError):
    """Market parameters that cannot describe a fuel market (negative slope, empty grid...)."""


class EmptyDataError(ForecourtError, ValueError):
    """A data window with no usable rows."""


class UnknownAgentError(ForecourtError, ValueError):
    """An agent name other than the known objectives."""


class DataSchemaError(ForecourtError, ValueError):
    """Pricing data whose columns or types do not match the daily schema."""
