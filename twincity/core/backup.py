"""Backup and restore of the whole database, for both engines the platform runs on.

- PostgreSQL: ``pg_dump --format=custom`` / ``pg_restore`` (the tools must be on ``PATH``, of a version at least
  the server's). The dump holds schema and data, without owners or grants, so it restores into any database.
- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``), a consistent copy taken while the platform
  runs; restoring copies it back page by page into the live file.

A restore replaces the whole database. It refuses to write over a database that already has tables unless
``force`` is given: then the archive's tables replace theirs in one transaction and tables it does not have
are dropped (PostgreSQL), or the file is overwritten in one step (SQLite).
The file's first bytes tell which engine wrote it; a PostgreSQL dump is not restored into SQLite or back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    bytes: int
    tables: int


def _connection(alias: str):
    return connections[alias]


def engine_of(alias: str = DEFAULT_DB_ALIAS) -> str:
    vendor = _connection(alias).vendor
    if vendor not in {"postgresql", "sqlite"}:
        raise BackupError(f"backup supports PostgreSQL and SQLite, not {vendor}")
    return vendor


def file_engine(path: Path) -> str:
    """Which engine wrote the backup file at path (by its first bytes)."""
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump custom-format archive")


def table_names(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    connection = _connection(alias)
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


# --- PostgreSQL -------------------------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not on PATH: install PostgreSQL's client tools (Debian: postgresql-client)")
    return found


def _pg_env_and_args(alias: str) -> tuple[dict[str, str], list[str]]:
    """libpq environment and connection arguments for the alias's settings (the password never on the command
    line, where other users could read it)."""
    settings = _connection(alias).settings_dict
    env = dict(os.environ)
    args = []
    if settings.get("HOST"):
        args += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", str(settings["USER"])]
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                             ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY")):
        value = (settings.get("OPTIONS") or {}).get(option)
        if value:
            env[variable] = str(value)
    args += ["--dbname", str(settings["NAME"])]
    return env, args


def _run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({completed.returncode}): {completed.stderr.strip()}")


def _pg_backup(alias: str, target: Path) -> None:
    env, args = _pg_env_and_args(alias)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl", "--file", str(target), *args], env)


def _pg_dump_tables(source: Path) -> set[str]:
    """The tables a custom-format archive holds (from its table of contents)."""
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True,
                             check=False)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read {source}: {listing.stderr.strip()}")
    names = set()
    for line in listing.stdout.splitlines():
        # e.g. "215; 1259 16390 TABLE public accounts_user postgres"
        parts = line.split()
        if not line.startswith(";") and len(parts) >= 6 and parts[3] == "TABLE":
            names.add(parts[5])
    return names


def _pg_restore(alias: str, source: Path, existing: list[str]) -> None:
    connection = _connection(alias)
    # Tables the archive does not have (from a later migration, say) would survive the restore and contradict
    # its migration history: they go first. The archive's own tables are dropped and recreated by pg_restore
    # --clean inside its single transaction, so a restore that fails leaves them as they were.
    extra = sorted(set(existing) - _pg_dump_tables(source))
    if extra:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(quote(name) for name in extra) + " CASCADE")
    connection.close()
    env, args = _pg_env_and_args(alias)
    clean = ["--clean", "--if-exists"] if existing else []
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error", *clean,
          *args, str(source)], env)


# --- SQLite -----------------------------------------------------------------------------------------------------


def _sqlite_raw(alias: str) -> sqlite3.Connection:
    connection = _connection(alias)
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("backup and restore cannot run inside a transaction")
    return connection.connection


def _sqlite_backup(alias: str, target: Path) -> None:
    destination = sqlite3.connect(target)
    try:
        _sqlite_raw(alias).backup(destination)
        # A self-contained file: no WAL beside it.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def _sqlite_restore(alias: str, source: Path) -> None:
    origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        result = origin.execute("PRAGMA quick_check").fetchone()
        if not result or result[0] != "ok":
            raise BackupError(f"{source} fails SQLite's integrity check: {result}")
        origin.backup(_sqlite_raw(alias))
    finally:
        origin.close()
    # The copied header says journal_mode=DELETE; the platform's connections set WAL again when they open.
    _connection(alias).close()


# --- the two operations -----------------------------------------------------------------------------------------


def backup(path: Path | str, *, alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write a consistent copy of the whole database to path (replaced atomically if it exists)."""
    path = Path(path)
    engine = engine_of(alias)
    tables = len(table_names(alias))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target, then renamed: a failed backup never leaves a half file under the real name.
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        os.unlink(temporary)
        if engine == "postgresql":
            _pg_backup(alias, Path(temporary))
        else:
            _sqlite_backup(alias, Path(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return BackupResult(path=path, engine=engine, bytes=path.stat().st_size, tables=tables)


def restore(path: Path | str, *, force: bool = False, alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Replace the whole database with the backup at path. Refuses a database that has tables, unless force."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    engine = engine_of(alias)
    written_by = file_engine(path)
    if written_by != engine:
        raise BackupError(f"{path} is a {written_by} backup; this platform's database is {engine}")
    existing = table_names(alias)
    if existing and not force:
        shown = ", ".join(existing[:5]) + (", …" if len(existing) > 5 else "")
        raise BackupError(
            f"the database is not empty ({len(existing)} tables: {shown}); a restore replaces all of it. "
            "Restore into an empty database, or pass --force to replace this one."
        )
    if engine == "postgresql":
        _pg_restore(alias, path, existing)
    else:
        _sqlite_restore(alias, path)
    return BackupResult(path=path, engine=engine, bytes=path.stat().st_size, tables=len(table_names(alias)))
