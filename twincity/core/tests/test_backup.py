"""Backup and restore round trip: the data after `restore` equals the data at `backup`, on the engine the suite runs
on (SQLite by default, PostgreSQL in CI's second stage with DATABASE_URL set)."""

import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from twincity.core import backup
from twincity.core.models import AuditEntry
from twincity.testing import Cast

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _tools():
    if connection.vendor == "postgresql":
        missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
        if missing:
            pytest.skip(f"PostgreSQL client tools not on PATH: {', '.join(missing)} (Debian: postgresql-client)")
    elif connection.vendor != "sqlite":
        pytest.skip(f"backup supports PostgreSQL and SQLite, not {connection.vendor}")


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table the platform's models have, in primary-key order."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            rows[model._meta.label] = list(model._default_manager.order_by("pk").values_list())
    return rows


def _data(cast: Cast) -> None:
    from twincity.enterprises.models import AnnualDeclaration

    AnnualDeclaration.objects.create(enterprise=cast.alice_co, fiscal_year=2025, employees=80, sales="1234.5")
    AuditEntry.objects.create(action="update", object_type="enterprises.enterprise",
                              object_id=cast.alice_co.credit_code, object_repr="备份测试 before the backup",
                              changes={"name": {"before": "a", "after": "b"}})


def test_round_trip_restores_exactly_the_data_backed_up(tmp_path: Path):
    cast = Cast.create()
    _data(cast)
    before = snapshot()
    assert sum(len(rows) for rows in before.values()) > 20

    call_command("backup", str(tmp_path / "twincity.backup"))
    assert backup.file_engine(tmp_path / "twincity.backup") == connection.vendor

    # Changes after the backup: all undone by the restore.
    cast.alice_co.name = "changed after the backup"
    cast.alice_co.save()
    AuditEntry.objects.all().delete()
    AuditEntry.objects.create(action="create", object_type="x.y", object_id="1", object_repr="after")
    assert snapshot() != before

    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(tmp_path / "twincity.backup"))
    call_command("restore", str(tmp_path / "twincity.backup"), "--force")
    connection.close()
    assert snapshot() == before

    # The restored database goes on working: new rows get fresh keys (sequences restored on PostgreSQL).
    entry = AuditEntry.objects.create(action="create", object_type="x.y", object_id="2", object_repr="restored")
    assert entry.pk > max(pk for pk, *_ in before["core.AuditEntry"])


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    with pytest.raises(CommandError, match="neither a SQLite database nor a pg_dump"):
        call_command("restore", str(bogus), "--force")
    with pytest.raises(CommandError, match="no backup file"):
        call_command("restore", str(tmp_path / "missing.backup"))


def test_a_backup_of_the_other_engine_is_refused(tmp_path: Path):
    other = tmp_path / "other.backup"
    other.write_bytes(backup.PGDUMP_MAGIC + b"\x00" * 64 if connection.vendor == "sqlite"
                      else backup.SQLITE_MAGIC + b"\x00" * 64)
    with pytest.raises(CommandError, match="backup; this platform's database is"):
        call_command("restore", str(other), "--force")
