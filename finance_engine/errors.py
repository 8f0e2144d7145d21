"""Errors of the finance engine (bilingual messages: Chinese first, then English)."""

from __future__ import annotations


class FinanceEngineError(Exception):
    """Base class of every error the finance engine raises on purpose."""


class ProductError(FinanceEngineError, ValueError):
    """A product definition is invalid (``errors`` lists each problem as "path: 中文 / English")."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class FactsError(FinanceEngineError, ValueError):
    """The enterprise facts cannot be used: a missing ``id`` column, a value of the wrong type."""
