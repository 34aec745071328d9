"""Running the Alembic migrations from code (`tracker db upgrade`, tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from tracker.errors import ConfigError
from tracker.resources import bundled


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to `engine`'s database.

    Built from the bundled `alembic.ini` (in the package in a wheel, at the top
    of the source tree otherwise), whose `script_location` is the `migrations`
    folder beside it.
    """
    config = Config(str(bundled("alembic.ini")))
    migrations = Path(config.get_main_option("script_location") or "")
    if not (migrations / "env.py").is_file():
        raise ConfigError(f"the migrations folder is missing: {migrations}: reinstall the tracker")
    config.attributes["database_url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to the newest revision (or `revision`); returns (revision before, after)."""
    config = alembic_config(engine)
    before = current_revision(engine)
    with engine.connect() as connection, foreign_keys_deferred(connection), connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        check_foreign_keys(connection)
    after = current_revision(engine)
    assert after is not None
    return before, after


@contextmanager
def foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while migrations run, on again after.

    Batch mode changes a SQLite table by copying it, dropping the original and
    renaming the copy. With foreign keys enforced, that DROP deletes every row
    that refers to the table through ON DELETE CASCADE (a programme's
    participants, their actions, reminders and updates): the data of a
    database upgraded in place would be lost. The pragma only takes effect
    outside a transaction, so it is set on the driver's connection before
    SQLAlchemy begins one; `check_foreign_keys` proves the result consistent.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def check_foreign_keys(connection: Connection) -> None:
    """On SQLite, fail the migration (it is rolled back) if a row refers to nothing."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise ConfigError(
            f"the migration left {len(broken)} rows referring to nothing "
            f"(first: {table} row {rowid} -> {parent}); the database is unchanged"
        )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head
