"""Cached figures: read from the cache while their version is unchanged, computed again once a write that bumps
the version commits; nothing is cached without a version row."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.models import F

from twincity.core import caching
from twincity.core.audit import audit_entries_write, audit_record, audit_row, audit_rows_write
from twincity.core.models import AuditEntry, CacheVersion


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_figure_is_computed_once_per_version(db, django_capture_on_commit_callbacks):
    compute = Counter()
    assert caching.cached(caching.REGISTRY, "n", compute) == 1
    assert caching.cached(caching.REGISTRY, "n", compute) == 1
    with django_capture_on_commit_callbacks(execute=True):
        caching.version_bump(caching.REGISTRY)
    assert caching.cached(caching.REGISTRY, "n", compute) == 2
    assert caching.cached(caching.REGISTRY, "n", compute) == 2


def test_the_version_is_bumped_only_when_the_write_commits(db, django_capture_on_commit_callbacks):
    before = caching.version_of(caching.REGISTRY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        caching.version_bump(caching.REGISTRY)
        assert caching.version_of(caching.REGISTRY) == before
    assert len(callbacks) == 1
    callbacks[0]()
    assert caching.version_of(caching.REGISTRY) == before + 1


def test_a_rolled_back_write_bumps_nothing(db, django_capture_on_commit_callbacks):
    before = caching.version_of(caching.REGISTRY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                caching.version_bump(caching.REGISTRY)
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    assert caching.version_of(caching.REGISTRY) == before


def test_every_audited_write_bumps_the_registry(db, django_capture_on_commit_callbacks):
    entry = AuditEntry(action="create", object_type="core.auditentry", object_id="1")
    entry.pk = 1
    before = caching.version_of(caching.REGISTRY)
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=None, action="create", instance=entry, after={"x": 1})
    assert caching.version_of(caching.REGISTRY) == before + 1
    with django_capture_on_commit_callbacks(execute=True):
        audit_rows_write([audit_row(at=entry.at, actor=None, action="update", object_type="core.auditentry",
                                    object_id=1, object_repr="", changes={"x": {"before": 1, "after": 2}},
                                    context="", subject="core.auditentry:1")])
    assert caching.version_of(caching.REGISTRY) == before + 2
    with django_capture_on_commit_callbacks(execute=True):
        audit_entries_write([AuditEntry(action="delete", object_type="core.auditentry", object_id="1"), None])
    assert caching.version_of(caching.REGISTRY) == before + 3
    # An update that changed nothing records nothing and bumps nothing.
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=None, action="update", instance=entry, before={"x": 1}, after={"x": 1})
        audit_rows_write([])
        audit_entries_write([None])
    assert caching.version_of(caching.REGISTRY) == before + 3


def test_without_a_version_row_nothing_is_cached_and_a_bump_creates_it(db, django_capture_on_commit_callbacks):
    CacheVersion.objects.all().delete()
    compute = Counter()
    assert caching.cached(caching.REGISTRY, "n", compute) == 1
    assert caching.cached(caching.REGISTRY, "n", compute) == 2
    with django_capture_on_commit_callbacks(execute=True):
        caching.version_bump(caching.REGISTRY)
    assert caching.version_of(caching.REGISTRY) == 1
    assert caching.cached(caching.REGISTRY, "n", compute) == 3
    assert caching.cached(caching.REGISTRY, "n", compute) == 3


@pytest.mark.django_db(transaction=True)
def test_a_bump_skips_while_another_writer_is_bumping_instead_of_queueing_on_the_row():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises its writers anyway")
    caching._bump(caching.REGISTRY)
    version = caching.version_of(caching.REGISTRY)
    locked, release = threading.Event(), threading.Event()

    def other_writer_bumping():
        try:
            with transaction.atomic():
                CacheVersion.objects.select_for_update().get(name=caching.REGISTRY)
                locked.set()
                release.wait(10)
                CacheVersion.objects.filter(name=caching.REGISTRY).update(version=F("version") + 1)
        finally:
            connection.close()

    other = threading.Thread(target=other_writer_bumping)
    other.start()
    assert locked.wait(10)
    started = time.monotonic()
    caching._bump(caching.REGISTRY)
    waited = time.monotonic() - started
    assert (waited < 1, caching.version_of(caching.REGISTRY)) == (True, version)  # skipped, not queued
    release.set()
    other.join(10)
    assert caching.version_of(caching.REGISTRY) == version + 1  # the other's bump, committed after ours
    caching._bump(caching.REGISTRY)
    assert caching.version_of(caching.REGISTRY) == version + 2
