"""Keyset ("seek") pagination: the next page starts after the last row shown, found through the ordering's index,
so page 4,000 costs what page 1 costs (an OFFSET reads and drops every row before the page).

A cursor names the row a page starts after (or ends before): the values of the ordering's fields in that row,
ending with the primary key, so the order is total. It is opaque to clients (URL-safe base64 of JSON) and
checked when read: a cursor that does not decode, or that was made for another ordering, is refused with
`InvalidCursor`, which callers answer as bad input (or treat as the first page).

Nulls sort last in either direction (`F(...).asc(nulls_last=True)`), on every database, so a cursor's null
values have one meaning.
"""

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Key:
    name: str
    descending: bool

    @classmethod
    def parse(cls, term: str) -> "Key":
        return cls(term.removeprefix("-"), term.startswith("-"))

    def order(self, reverse: bool = False) -> OrderBy:
        descending = self.descending != reverse
        # Nulls last in the page's own direction; a backward page reads in the opposite direction.
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        return OrderBy(F(self.name), descending=descending, **nulls)


@dataclass
class KeysetPage:
    """One page: its rows, and the cursors of the pages after and before it (None when there is none)."""

    object_list: list
    next_cursor: str | None
    previous_cursor: str | None
    keys: tuple[Key, ...] = field(repr=False, default=())

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def _keys(ordering: Sequence[str]) -> tuple[Key, ...]:
    """The ordering's keys, the primary key last (ascending unless the ordering names it, "-pk" or "-id")."""
    keys = [Key("pk", key.descending) if key.name in ("pk", "id") else key for key in map(Key.parse, ordering)]
    if not keys or keys[-1].name != "pk":
        keys.append(Key("pk", False))
    return tuple(key for i, key in enumerate(keys) if key.name != "pk" or i == len(keys) - 1)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return {"d": value.isoformat()}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"d"} and isinstance(value["d"], str):
        text = value["d"]
        return datetime.datetime.fromisoformat(text) if "T" in text else datetime.date.fromisoformat(text)
    return value


def encode(keys: Sequence[Key], values: Sequence[Any]) -> str:
    payload = {"o": [("-" if k.descending else "") + k.name for k in keys], "v": [_plain(v) for v in values]}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(keys: Sequence[Key], cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        values = [_typed(v) for v in payload["v"]]
        ordering = payload["o"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor("invalid cursor") from exc
    if ordering != [("-" if k.descending else "") + k.name for k in keys] or len(values) != len(keys):
        raise InvalidCursor("cursor of another ordering")
    if values[-1] is None:
        raise InvalidCursor("invalid cursor")
    return values


def _after(keys: Sequence[Key], values: Sequence[Any], *, reverse: bool) -> Q:
    """Rows strictly after `values` in the keys' order (strictly before with `reverse`), nulls last."""
    condition = Q(pk__in=[])  # nothing is after the last key's value but what the ties allow
    for key, value in reversed(list(zip(keys, values, strict=True))):
        descending = key.descending != reverse
        if value is None:
            # Forward, nothing is after null (nulls are last) but its ties; backward every non-null is before.
            beyond = Q(pk__in=[]) if not reverse else Q(**{f"{key.name}__isnull": False})
            same = Q(**{f"{key.name}__isnull": True})
        else:
            beyond = Q(**{f"{key.name}__{'lt' if descending else 'gt'}": value})
            if not reverse:
                beyond |= Q(**{f"{key.name}__isnull": True})
            same = Q(**{key.name: value})
        condition = beyond | (same & condition)
    first, value = keys[0], values[0]
    if value is not None:
        # The same condition's bound on the first key alone, so the database can seek its index.
        descending = first.descending != reverse
        bound = Q(**{f"{first.name}__{'lte' if descending else 'gte'}": value})
        if not reverse:
            bound |= Q(**{f"{first.name}__isnull": True})
        condition &= bound
    return condition


def keyset_page(queryset: QuerySet, ordering: Sequence[str], *, size: int, after: str | None = None,
                before: str | None = None) -> KeysetPage:
    """The page of `size` rows of `queryset` in `ordering` (field names, "-" for descending; the primary key is
    the last key, ascending unless named) that starts after the cursor `after`, or ends before the cursor `before`, or the first page."""
    keys = _keys(ordering)
    names = [k.name for k in keys]
    reverse = before is not None and after is None
    qs = queryset.order_by(*(k.order(reverse) for k in keys))
    if after is not None:
        qs = qs.filter(_after(keys, decode(keys, after), reverse=False))
    elif before is not None:
        qs = qs.filter(_after(keys, decode(keys, before), reverse=True))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()

    def cursor(row) -> str:
        return encode(keys, [getattr(row, "pk" if n == "pk" else n) for n in names])

    if not rows:
        return KeysetPage([], None, None, keys)
    next_cursor: str | None
    previous_cursor: str | None
    if reverse:
        next_cursor = cursor(rows[-1])
        previous_cursor = cursor(rows[0]) if more else None
    else:
        next_cursor = cursor(rows[-1]) if more else None
        previous_cursor = cursor(rows[0]) if after is not None else None
    return KeysetPage(rows, next_cursor, previous_cursor, keys)


@dataclass
class NumberedPage:
    """A page of a list with its number and the number of pages (a count the caller gives, often cached), whose
    links to the next and previous pages are cursors (`after` / `before`), the page number riding along for the
    display only. `?page=N` alone (an old link, a typed URL) is read with an offset, clamped to the last page."""

    object_list: list
    number: int
    count: int
    num_pages: int
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def next_page_number(self) -> int:
        return min(self.number + 1, self.num_pages)

    @property
    def previous_page_number(self) -> int:
        return max(self.number - 1, 1)


def numbered_page(queryset: QuerySet, ordering: Sequence[str], params, *, size: int, count: int) -> NumberedPage:
    """The page that `params` (request.GET: `after` or `before` a cursor, `page` a number) asks for; a bad cursor
    or number gives the first page."""
    num_pages = max(1, -(-count // size))
    try:
        number = min(max(int(params.get("page") or 1), 1), num_pages)
    except (TypeError, ValueError):
        number = 1
    after, before = params.get("after") or None, params.get("before") or None
    keys = _keys(ordering)
    page: KeysetPage | None = None
    if after or before:
        try:
            page = keyset_page(queryset, ordering, size=size, after=after, before=before)
        except (InvalidCursor, ValidationError, ValueError, TypeError):  # forged: values of the wrong type
            number = 1
        else:
            if not page.object_list:  # past either end (rows deleted meanwhile): start over
                page, number = None, 1
            elif page.previous_cursor is None:
                number = 1
    if page is None and number > 1:
        rows = list(queryset.order_by(*(k.order() for k in keys))[(number - 1) * size: number * size + 1])
        more = len(rows) > size
        rows = rows[:size]
        names = [k.name for k in keys]

        def cursor(row) -> str:
            return encode(keys, [getattr(row, name) for name in names])

        page = KeysetPage(rows, cursor(rows[-1]) if rows and more else None, cursor(rows[0]) if rows else None,
                          keys)
    if page is None:
        page = keyset_page(queryset, ordering, size=size)
    return NumberedPage(page.object_list, number, count, num_pages, page.next_cursor, page.previous_cursor)
