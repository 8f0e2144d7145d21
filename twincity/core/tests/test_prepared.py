"""Queries compiled once (twincity.core.prepared): the same rows as the ORM's, values converted as the ORM
converts them, and the shapes it cannot prepare refused at their first run."""

from datetime import UTC, datetime, timedelta

import pytest

from twincity.core.models import AuditEntry
from twincity.core.prepared import Prepared, PreparedError

T0 = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
SAMPLES = {"kind": ("a", "b"), "since": (T0, T0 + timedelta(hours=1))}


def recent(*, kind: str, since: datetime):
    return (AuditEntry.objects.filter(object_type=kind, at__gte=since).order_by("at", "pk")
            .values_list("pk", "at", "object_id", "changes"))


@pytest.mark.django_db
def test_the_rows_and_their_values_are_the_orms():
    for i in range(6):
        AuditEntry.objects.create(at=T0 + timedelta(minutes=30 * i), action="update",
                                  object_type="enterprises.enterprise" if i % 2 else "points.run", object_id=str(i),
                                  changes={"人数": {"before": i, "after": i + 1}})
    prepared = Prepared(recent, **SAMPLES)
    for kind in ("enterprises.enterprise", "points.run", "nothing"):
        for since in (T0, T0 + timedelta(minutes=30), T0 + timedelta(minutes=31), T0 + timedelta(days=1)):
            rows = prepared.rows(kind=kind, since=since)
            assert rows == list(recent(kind=kind, since=since))
    [first, *_] = prepared.rows(kind="enterprises.enterprise", since=T0)
    assert (first[1], first[3]) == (T0 + timedelta(minutes=30), {"人数": {"before": 1, "after": 2}})  # aware, parsed


@pytest.mark.django_db
def test_a_query_whose_sql_depends_on_a_value_is_refused():
    def shape_follows_value(*, kind: str, since: datetime):
        queryset = AuditEntry.objects.filter(at__gte=since)
        return (queryset.filter(object_type=kind) if kind == "a" else queryset.filter(object_id=kind)).values_list("pk")

    with pytest.raises(PreparedError, match="depends on the value of 'kind'"):
        Prepared(shape_follows_value, **SAMPLES).rows(kind="a", since=T0)


@pytest.mark.django_db
def test_a_value_the_orm_transforms_is_refused():
    def contains(*, kind: str, since: datetime):
        return AuditEntry.objects.filter(object_type__contains=kind, at__gte=since).values_list("pk")

    with pytest.raises(PreparedError, match="'kind' is not prepared as the ORM prepares it"):
        Prepared(contains, **SAMPLES).rows(kind="a", since=T0)
