"""Errors of the validation stage (all `ForecourtError`s: one line, no traceback, in the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rl_core.errors import ForecourtError

if TYPE_CHECKING:
    from rl_core.validation.result import ValidationResult


class InvalidValidationConfigError(ForecourtError, ValueError):
    """A validation threshold that makes no sense (a band with min >= max, a KS limit > 1...)."""


class DeliveryNotFoundError(ForecourtError, FileNotFoundError):
    """The file to validate is not there: nothing was delivered, so nothing is quarantined."""


class DataReadError(ForecourtError, ValueError):
    """A delivered file that cannot be read as a pricing table (empty, corrupt, bad encoding)."""


class ValidationFailedError(ForecourtError):
    """The day's data failed validation: it was quarantined and nothing downstream may run.

    `result` holds every check, `quarantine_uri` where the delivered file went.
    """

    def __init__(self, message: str, result: ValidationResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def quarantine_uri(self) -> str | None:
        return self.result.quarantine_uri if self.result is not None else None
