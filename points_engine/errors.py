"""Exception hierarchy of the points engine.

Every message is bilingual (Chinese first, then English) because the messages reach administrators
and the command line unchanged.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class FactsError(EngineError):
    """A facts table cannot be read: missing column, or a value of the wrong type.

    ``row`` is the 1-based row number as in the file (header = row 1, first data row = row 2);
    ``column`` the column name. Either may be None when the error is about the whole file.
    """

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


class StandardError(EngineError):
    """A scoring standard is invalid, unknown, or used with a reference that does not fit it."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class ExpertInputError(EngineError):
    """An expert input lies outside the band the engine computed (it is never clamped)."""

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        band: str | None = None,
        allowed: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(message)
        self.row = row
        self.column = column
        self.band = band
        self.allowed = allowed
