"""Every migration upgrades a database that holds data written at the revision before it.

Starting from an empty database, the test steps through the revisions one at
a time. At each one it writes a row into every table that exists there (every
column filled, foreign keys pointing at that round's rows, values a CHECK
constraint allows), then upgrades to the next revision. A migration that
adds a NOT NULL column without a default, narrows a type, rewrites a
constraint the old rows break, or loses a table's rows fails here; at the
newest revision every row of every round must still be there, and the ORM
must read every one of them.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, inspect, make_url, select, text, types
from sqlalchemy.orm import Session

from tests.services import POSTGRES_URL, service_missing
from tracker.db import migrate
from tracker.db.orm import Base
from tracker.db.session import make_engine

# `state IN ('a', 'b')` as SQLite keeps it; `state::text = ANY (ARRAY['a'::…, …])` on PostgreSQL.
ALLOWED = (
    re.compile(r"(\w+) IN \('([^']*)'"),
    re.compile(r"\(?(\w+)\)?::text = ANY \(\(?ARRAY\['([^']*)'"),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"tracker_steps_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        service_missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def revisions_oldest_first(engine: Engine) -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def allowed_values(engine: Engine, table: str) -> dict[str, str]:
    """The first value each `column IN (...)` CHECK constraint allows."""
    found: dict[str, str] = {}
    for check in inspect(engine).get_check_constraints(table):
        for pattern in ALLOWED:
            match = pattern.search(check["sqltext"])
            if match:
                found[match.group(1)] = match.group(2)
    return found


def value_for(table: Table, column: Any, round_: int, allowed: dict[str, str]) -> Any:
    kind = column.type
    if column.name in allowed:
        return allowed[column.name]
    if isinstance(kind, types.Boolean):
        return False
    if isinstance(kind, types.DateTime):
        return datetime(2019, 6, 24, 8, round_, tzinfo=UTC)
    if isinstance(kind, types.Date):
        return date(2019, 6, 24)
    if isinstance(kind, types.Integer):
        return 50
    if isinstance(kind, types.JSON):
        return []
    if isinstance(kind, types.LargeBinary):
        return f"raw bytes of round {round_}".encode()
    if isinstance(kind, types.String | types.Text):
        value = f"{table.name[:8]}-{column.name[:12]}-r{round_}"
        length = getattr(kind, "length", None)
        return value[-length:] if length else value
    raise AssertionError(f"no value for {table.name}.{column.name} of type {kind!r}")


def write_a_round(engine: Engine, round_: int) -> Counter[str]:
    """One row in every table of the current revision; returns the tables written."""
    metadata = MetaData()
    metadata.reflect(engine)
    written: Counter[str] = Counter()
    ids: dict[str, Any] = {}
    tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
    checks = {t.name: allowed_values(engine, t.name) for t in tables}  # before the write lock
    with engine.begin() as connection:
        for table in tables:
            allowed = checks[table.name]
            row: dict[str, Any] = {}
            for column in table.columns:
                foreign = next(iter(column.foreign_keys), None)
                if foreign is not None:
                    target = foreign.column.table.name
                    row[column.name] = None if target == table.name else ids[target]
                elif column.primary_key and isinstance(column.type, types.Integer):
                    continue  # the database numbers it
                else:
                    row[column.name] = value_for(table, column, round_, allowed)
            result = connection.execute(table.insert().values(**row))
            key = result.inserted_primary_key
            ids[table.name] = key[0] if key else None
            written[table.name] += 1
    return written


def test_every_migration_upgrades_a_database_holding_the_previous_revisions_data(
    empty_engine: Engine,
) -> None:
    revisions = revisions_oldest_first(empty_engine)
    assert len(revisions) >= 5
    expected: Counter[str] = Counter()
    for round_, revision in enumerate(revisions):
        migrate.upgrade(empty_engine, revision)
        assert migrate.current_revision(empty_engine) == revision
        expected.update(write_a_round(empty_engine, round_))
    # At the newest revision: every row of every round is still there...
    with empty_engine.connect() as connection:
        for table, count in expected.items():
            found = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert found == count, f"{table}: {found} rows after the upgrades, {count} written"
    # ...and the models read every one of them.
    with Session(empty_engine) as session:
        for mapper in Base.registry.mappers:
            rows = session.scalars(select(mapper.class_)).all()
            assert len(rows) == expected[mapper.local_table.name], mapper.class_.__name__
    assert migrate.upgrade(empty_engine)[0] == revisions[-1]  # nothing left to do
