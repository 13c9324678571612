"""Registry errors a user can act on (the CLI prints them as one line, exit status 2)."""

from rl_core.errors import ForecourtError


class RegistryError(ForecourtError):
    """A registry operation that cannot be done as asked (unknown version, no champion...)."""


class ChampionChangedError(RegistryError):
    """The champion moved between the evaluation and the promotion (compare-and-set failed)."""
