"""Expected failures that can be explained to a person. Services raise them; interfaces shape them.

Every API error leaves the platform in one shape: {"message": str, "code": str, "extra": dict}. `Forbidden`
and `NotFound` are also Django's `PermissionDenied` and `Http404`, so a page view that lets them through
answers Django's 403/404 page without translating them.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ApplicationError(Exception):
    code = "application_error"
    status = 400

    def __init__(self, message: str, *, extra: dict[str, object] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        if code is not None:
            self.code = code


class InvalidInput(ApplicationError):
    code = "invalid"
    status = 422


class Unauthenticated(ApplicationError):
    code = "unauthenticated"
    status = 401


class Forbidden(ApplicationError, PermissionDenied):
    code = "forbidden"
    status = 403


class NotFound(ApplicationError, Http404):
    code = "not_found"
    status = 404


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


class TooLarge(ApplicationError):
    code = "too_large"
    status = 413


class Unavailable(ApplicationError):
    """The database is busy past its timeout: try again shortly (503 with Retry-After)."""

    code = "unavailable"
    status = 503


class Throttled(ApplicationError):
    code = "throttled"
    status = 429
