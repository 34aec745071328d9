"""`tracker backup FILE` and `tracker restore FILE`."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.runtime import Runtime
from tracker.db import backup as backups
from tracker.db import migrate


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Back up the database into FILE, safely while the service runs.

    SQLite: a consistent copy through SQLite's online backup API. PostgreSQL:
    prints the pg_dump command for the configured database (run it yourself;
    the password comes from PGPASSWORD or ~/.pgpass, never from this output).
    """
    runtime = Runtime.from_environment()
    engine = runtime.engine
    if engine.dialect.name == "postgresql":
        dump, _ = backups.postgres_commands(engine.url, file)
        click.echo("PostgreSQL is backed up with its own tool; run:")
        click.echo(f"  {dump}")
        return
    runtime.require_current_schema()
    result = backups.backup_sqlite(engine, file)
    click.echo(
        f"backed up {backups.sqlite_path(engine)} to {result.path} "
        f"({result.size:,} bytes, schema revision {result.revision})"
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore a backup made by `tracker backup` into a new, empty database.

    SQLite: FILE is copied into the file TRACKER_DATABASE_URL names, which must
    not hold data yet. PostgreSQL: prints the pg_restore command (into a new
    database created with `createdb`). Then run `tracker db upgrade` if the
    backup is older than this version of the tracker.
    """
    runtime = Runtime.from_environment()
    engine = runtime.engine
    if engine.dialect.name == "postgresql":
        _, restore = backups.postgres_commands(engine.url, file)
        click.echo("PostgreSQL is restored with its own tool, into a new empty database; run:")
        click.echo(f"  {restore}")
        click.echo("then `tracker db upgrade`.")
        return
    result = backups.restore_sqlite(engine, file)
    click.echo(f"restored {file} into {result.path} (schema revision {result.revision})")
    if result.revision != migrate.head_revision(engine):
        click.echo("the backup is from an older version: run `tracker db upgrade` next")


def register(group: click.Group) -> None:
    group.add_command(backup_command)
    group.add_command(restore_command)
