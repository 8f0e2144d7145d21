"""What every domain's API shares: the error schema, pagination with real bounds, and the statuses an
operation documents."""

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, NinjaAPI, Schema
from ninja.openapi.schema import OpenAPISchema
from ninja.pagination import LimitOffsetPagination
from pydantic import BeforeValidator, WithJsonSchema

from twincity.core.caching import REGISTRY, cached_count


class ErrorOut(Schema):
    """The one error shape of the whole API."""

    message: str
    code: str
    extra: dict


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


# A date as `format: date` documents it: ISO text only (pydantic alone also takes 0, or a datetime's text).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def decimal_text(pattern: str) -> tuple[BeforeValidator, Callable[[dict], None]]:
    """For a Decimal input that also takes text: (the validator holding text to `pattern`, the `json_schema_extra`
    of its Field documenting it). pydantic alone documents any text as valid and then refuses most of it. Put the
    range in the annotation before the validator, so it reaches the number's schema:
    `Annotated[Decimal, Field(gt=…, lt=…), validator]`.
    `pattern` states the range in digits, e.g. `^-?\\d{1,12}(\\.\\d+)?$` for |x| < 10^12."""
    regex = re.compile(pattern)

    def checked(value: object) -> object:
        if isinstance(value, str) and not regex.fullmatch(value):
            raise ValueError(f"expected a number, or text matching {pattern}")
        return value

    def documented(schema: dict) -> None:
        for branch in schema.get("anyOf", []):
            if branch.get("type") == "string":
                branch["pattern"] = pattern
            documented(branch)

    return BeforeValidator(checked), documented


def _json_int(value: object) -> object:
    if isinstance(value, (str, bool)):
        raise ValueError("expected a JSON integer")
    return value


# An integer as JSON Schema's `integer` is: a number without a fraction (12 or 12.0), never "12" or true.
JsonInt = Annotated[int, BeforeValidator(_json_int)]


# ISO 8601 as `since`/`until` take it: a date-time (with or without its UTC offset) or a date, of a real day
# (29 February aside) in the years 1000–8999, so no offset can carry it out of Python's range.
ISO_DATETIME_PATTERN = (r"^[1-8]\d{3}-((0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
                        r"([Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$")


def _iso_datetime(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and re.fullmatch(ISO_DATETIME_PATTERN, value)):
        return value
    raise ValueError("expected an ISO 8601 date-time or date")


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime), WithJsonSchema(
    {"type": "string", "pattern": ISO_DATETIME_PATTERN, "description": "ISO 8601 date-time or date"})]


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


# What any operation may answer, whatever it does: 401 (no or a bad token or session), 422 (a request its schema
# refuses) and 503 (the database stayed busy past its timeout; with Retry-After, see `DocumentedAPI`).
ANY_OPERATION = (401, 422, 503)


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error responses an operation documents, each with the one error schema, on top of `ANY_OPERATION`:
    `response={200: ThingOut, **errors(403, 404)}`. Operations that write also answer 403 (a browser session
    without its CSRF token), so they name it."""
    return dict.fromkeys(sorted({*ANY_OPERATION, *statuses}), ErrorOut)


RETRY_AFTER = {
    "description": "seconds to wait before sending the request again",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def _merge_response(declared: dict, extra: dict) -> None:
    """An operation's `openapi_extra` response (a file's media types) merged into the one django-ninja wrote
    (under the same status as an int key: left apart, the JSON document would hold the status twice)."""
    content = declared.setdefault("content", {})
    for media_type, entry in extra.get("content", {}).items():
        content[media_type] = {**content.get(media_type, {}), **entry}
    declared.update({key: value for key, value in extra.items() if key != "content"})


class DocumentedAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document states what django-ninja's `response=` cannot: every 503 carries
    Retry-After, every operation with a body answers 400 to one that cannot be parsed, and the media types of
    files (`openapi_extra={"responses": {"200": {"content": {...}}}}`) join the JSON response."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(**kwargs)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})  # keyed by int status, as django-ninja writes them
                for key in [key for key in responses if isinstance(key, str) and key.isdigit()]:
                    _merge_response(responses.setdefault(int(key), {}), responses.pop(key))
                if 503 in responses:
                    responses[503] = {**responses[503], "headers": {"Retry-After": RETRY_AFTER}}
                if "requestBody" in operation and 422 in responses:
                    # A body that cannot be parsed at all (not JSON, a broken upload) answers 400, same shape.
                    responses.setdefault(400, {**responses[422], "description": "Bad Request"})
        return schema
