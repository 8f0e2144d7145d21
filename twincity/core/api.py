"""What every domain's API shares: the error schema, pagination with real bounds, and the statuses an
operation documents."""

from datetime import datetime

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from twincity.core.caching import REGISTRY, cached_count


class ErrorOut(Schema):
    """The one error shape of the whole API."""

    message: str
    code: str
    extra: dict


class Pagination(LimitOffsetPagination):
    """`limit`/`offset` with upper bounds, so an absurd value is a 422 and never a database overflow (500)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=2**31 - 1)


class RegistryPagination(Pagination):
    """`Pagination` whose count is cached until an audited write commits (twincity.core.caching.cached_count):
    for lists of the registry and of the audit trail, which every such write versions. Same parameters, same
    answer."""

    def _items_count(self, queryset) -> int:
        return cached_count(REGISTRY, queryset)


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str | None = Field(None, alias="actor.username")
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict
    context: str


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error responses an operation documents, each with the one error schema:
    `response={200: ThingOut, **errors(401, 404, 422)}`."""
    return dict.fromkeys(statuses, ErrorOut)
