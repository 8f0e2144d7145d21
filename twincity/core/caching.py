"""Figures computed from many rows (the home page's counts, a run's rankings), cached and invalidated by the
writes that change them.

A figure is cached under its key and the current *version* of what it is computed from (a name such as
REGISTRY). The version is a row of the database (`CacheVersion`), not a cache entry, so every process (each web
server process, each worker) reads the same value whatever the cache backend is (LocMem is per process). A write
bumps the version after its transaction commits (`version_bump`): a page that reads the new version therefore
computes the figure from data that include the write, and one that read the old version stores its figure under
the old version, which nobody reads any more. Each figure also expires after `FIGURE_SECONDS`, the bound on how
stale it can be after a write that went around the services (a shell, a restore, `seed_demo`'s bulk load).

Who bumps what:

- REGISTRY: every audited write (`twincity.core.audit` bumps it whenever it records an entry: the pages, the API,
  the imports and the services all record theirs), so the registry's counts, the flagged declarations and the
  rankings' groups (which group by the enterprises' current city and cluster) follow every change.
- A scoring run's results never change once it is done; its rankings are keyed by the run and its finish time,
  so a run that finishes (or is retried) has new keys of its own.
- A finished result's explanation and what its page renders of it are keyed the same way (the result, the run's
  finish time, the engines), under REGISTRY too: a result changed around the services is shown anew after the
  next audited write.
"""

import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet

from twincity.core.models import CacheVersion

REGISTRY = "registry"
FIGURE_SECONDS = 600
PREFIX = "twincity:figure"
_MISSING = object()


def version_of(name: str) -> int | None:
    """The current version of `name`; None when the database holds no version row (tables emptied by a
    transactional test, a database restored from an older backup): then nothing is cached."""
    return CacheVersion.objects.filter(name=name).values_list("version", flat=True).first()


def _bump(name: str) -> None:
    if connection.vendor == "postgresql" and _bump_unless_bumping(name):
        return
    if not CacheVersion.objects.filter(name=name).update(version=F("version") + 1):
        try:
            with transaction.atomic():
                CacheVersion.objects.create(name=name, version=1)
        except IntegrityError:  # created by another process in between
            CacheVersion.objects.filter(name=name).update(version=F("version") + 1)


def _bump_unless_bumping(name: str) -> bool:
    """PostgreSQL: bump unless another writer holds the row, i.e. is bumping it right now (SKIP LOCKED). Its
    bump commits after ours would have — after our write committed —, so a figure cached under the version read
    before it is dropped all the same; skipping spares every writer of the platform a queue on one row. False when
    there is no row to bump (the caller creates it)."""
    table = CacheVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "version" = "version" + 1 WHERE "name" = '
            f'(SELECT "name" FROM "{table}" WHERE "name" = %s FOR UPDATE SKIP LOCKED)', [name])
        if cursor.rowcount:
            return True
    return CacheVersion.objects.filter(name=name).exists()


def version_bump(name: str = REGISTRY) -> None:
    """Invalidate every figure computed from `name` once the current transaction commits (at once outside a
    transaction); a transaction rolled back bumps nothing."""
    transaction.on_commit(lambda: _bump(name))


def cached[T](name: str, key: str, compute: Callable[[], T], *, seconds: int = FIGURE_SECONDS) -> T:
    """The figure `key`, computed from what `name` versions: from the cache while the version is unchanged."""
    version = version_of(name)
    if version is None:
        return compute()
    # The database's name keeps two databases that share one cache (Redis) apart.
    full_key = f"{PREFIX}:{connection.settings_dict['NAME']}:{name}:{version}:{key}"
    value = cache.get(full_key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(full_key, value, seconds)
    return value


def cached_count(name: str, queryset: QuerySet) -> int:
    """`queryset.count()`, cached under its SQL while `name`'s version is unchanged: only for rows that every
    write bumping `name` covers (the registry's enterprises, the audit trail)."""
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:  # .none()
        return 0
    key = hashlib.sha256(f"{queryset.model._meta.label}|{sql}|{params!r}".encode()).hexdigest()
    return cached(name, f"count:{key}", queryset.count)
