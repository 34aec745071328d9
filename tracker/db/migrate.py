"""Running the Alembic migrations from code (`tracker db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

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


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate to the newest revision; returns (revision before, revision after)."""
    config = alembic_config(engine)
    before = current_revision(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head
