"""The database schema: migrations match the models, times stay UTC-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from tracker.db import migrate
from tracker.db.orm import Base, Programme


def test_migrations_and_models_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_safe_to_run_again(engine: Engine) -> None:
    head = migrate.head_revision(engine)
    assert migrate.upgrade(engine) == (head, head)


def _programme(**overrides: object) -> Programme:
    values: dict[str, object] = {
        "slug": "p",
        "name": "P",
        "starts_on": date(2019, 5, 19),
        "ends_on": date(2019, 5, 23),
        "timezone": "Asia/Shanghai",
        "language": "zh-CN",
        "country": "CN",
        "created_at": datetime(2019, 5, 1, tzinfo=UTC),
        "updated_at": datetime(2019, 5, 1, tzinfo=UTC),
    }
    values.update(overrides)
    return Programme(**values)


def test_datetimes_come_back_aware_in_utc(session_factory: sessionmaker[Session]) -> None:
    shanghai = timezone(timedelta(hours=8))
    with session_factory.begin() as session:
        session.add(_programme(created_at=datetime(2019, 6, 23, 9, 30, tzinfo=shanghai)))
    with session_factory() as session:
        stored = session.query(Programme).one().created_at
    assert stored == datetime(2019, 6, 23, 1, 30, tzinfo=UTC)
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session_factory.begin() as session:
        session.add(_programme(created_at=datetime(2019, 6, 23, 9, 30)))  # noqa: DTZ001
