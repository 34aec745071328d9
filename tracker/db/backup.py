"""Backups: SQLite's online backup API, and the commands to use on PostgreSQL.

A SQLite backup is taken page by page through SQLite's own backup API, so it
is consistent even while `tracker run` or an MTA's `ingest` writes: it is the
database as one transaction saw it. It is written beside the target under a
temporary name and renamed at the end, so an interrupted backup never leaves
a file that looks complete.

A restore copies a backup into the configured database through the same API,
only into a database that holds no programme, message or reminder yet (a
restore never silently replaces data), and only from a file that is a
tracker database (it has Alembic's revision table and passes SQLite's
integrity check).

PostgreSQL is backed up by its own tools; the tracker prints the `pg_dump` and
`pg_restore` command lines for the configured database, without the password
(give it in `PGPASSWORD` or `~/.pgpass`).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from tracker.errors import TrackerError

# Tables whose rows mean a database is in use (a restore refuses to replace them).
_DATA_TABLES = ("programmes", "participants", "reminders", "inbound_messages", "updates")


class BackupError(TrackerError):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupResult:
    path: Path
    size: int
    revision: str | None


def sqlite_path(engine: Engine) -> Path:
    """The file of a SQLite engine's database (an in-memory database has none)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("the database is in memory: there is no file to back up or restore")
    return Path(database)


def backup_sqlite(engine: Engine, target: Path) -> BackupResult:
    """Copy the live SQLite database into `target` (which must not exist yet)."""
    source_path = sqlite_path(engine)
    if not source_path.is_file():
        raise BackupError(f"the database file does not exist: {source_path}")
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"the folder does not exist: {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        source = sqlite3.connect(source_path, timeout=30)
        try:
            destination = sqlite3.connect(partial)
            try:
                source.backup(destination)
                # A self-contained file: no write-ahead log beside it.
                destination.execute("PRAGMA journal_mode = DELETE")
            finally:
                destination.close()
        finally:
            source.close()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {error}") from None
    return BackupResult(path=target, size=target.stat().st_size, revision=_revision_of(target))


def restore_sqlite(engine: Engine, source: Path) -> BackupResult:
    """Copy the backup `source` into the configured (empty or new) SQLite database."""
    target = sqlite_path(engine)
    revision = _check_backup(source)
    if target.exists() and _holds_data(engine):
        raise BackupError(
            f"the database {target} already holds data: restore into a new database "
            "(set TRACKER_DATABASE_URL to a new file, or move this one away first)"
        )
    engine.dispose()  # no pooled connection may keep the old pages
    try:
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            destination = sqlite3.connect(target)
            try:
                backup.backup(destination)
                destination.execute("PRAGMA journal_mode = WAL")
            finally:
                destination.close()
        finally:
            backup.close()
    except sqlite3.Error as error:
        raise BackupError(f"the restore failed: {error}") from None
    return BackupResult(path=target, size=target.stat().st_size, revision=revision)


def _check_backup(source: Path) -> str:
    """The Alembic revision of a backup file, or a clear refusal."""
    if not source.is_file():
        raise BackupError(f"no such backup file: {source}")
    with source.open("rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{source} is not a tracker backup (not a SQLite database)")
    try:
        connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            (check,) = connection.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise BackupError(f"{source} is damaged (SQLite's check says: {check})")
            revision = _revision(connection)
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{source} cannot be read as a backup: {error}") from None
    if revision is None:
        raise BackupError(f"{source} is not a tracker backup (it has no schema revision)")
    return revision


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _revision_of(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _revision(connection)
    finally:
        connection.close()


def _holds_data(engine: Engine) -> bool:
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return any(
            connection.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
            for table in _DATA_TABLES
            if table in present
        )


def postgres_commands(url: URL, file: Path) -> tuple[str, str]:
    """The `pg_dump` and `pg_restore` command lines for this database, without its password."""
    options: list[str] = []
    if url.host:
        options += ["--host", url.host]
    if url.port:
        options += ["--port", str(url.port)]
    if url.username:
        options += ["--username", url.username]
    database = url.database or ""
    dump = ["pg_dump", "--format=custom", *options, "--file", str(file), database]
    restore = ["pg_restore", "--no-owner", "--exit-on-error", *options, "--dbname", database]
    return shlex.join(dump), shlex.join([*restore, str(file)])
