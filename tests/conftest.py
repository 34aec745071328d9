"""Shared fixtures: real databases (SQLite and PostgreSQL), fresh for every test.

Each run migrates one template database per engine; each test gets its own
copy (a file copy for SQLite, CREATE DATABASE … TEMPLATE for PostgreSQL), so
tests may commit freely and never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.dovecot import DovecotServer, start_dovecot
from tests.services import POSTGRES_URL, service_missing
from tracker.db.migrate import upgrade
from tracker.db.session import make_engine, make_session_factory

TEST_SECRET_KEY = "test-secret-key-for-signing-reply-tokens"
_RUN = uuid.uuid4().hex[:8]
_counter = itertools.count()


def _admin_engine() -> Engine:
    return make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are copied from."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        admin.dispose()
        service_missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.orig}")
    name = f"tracker_tpl_{_RUN}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    raw = engine.raw_connection()  # a checkpoint cannot run inside a transaction
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database of each engine."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "tracker.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"tracker_t_{_RUN}_{next(_counter)}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def tracker_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running `tracker` against the test database, in a scratch folder."""
    for key in list(os.environ):
        if key.startswith("TRACKER_"):
            monkeypatch.delenv(key)
    env = {
        "TRACKER_DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
        "TRACKER_FROM": "Programme Office <followup@example.org>",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A fresh private Dovecot with an empty INBOX, plaintext IMAP on 127.0.0.1."""
    with start_dovecot() as server:
        yield server
