"""What `UtcDateTime` stores, through its memo, is byte for byte what the
conversion without it stores, on both engines (the memo: `tracker.db.types`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, text
from sqlalchemy.types import TypeDecorator

from tracker.db.orm import Event
from tracker.db.types import UtcDateTime

PARIS = ZoneInfo("Europe/Paris")
REPEATED = datetime(2019, 10, 27, 2, 30, tzinfo=PARIS)  # 02:30 happens twice that night
MOMENTS = [
    datetime(2019, 6, 24, 2, 0, tzinfo=UTC),
    datetime(2019, 6, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),  # the same instant
    datetime(2019, 6, 24, 2, 0, 0, 123_456, tzinfo=UTC),
    REPEATED,
    REPEATED.replace(fold=1),
    REPEATED.replace(fold=1) + timedelta(days=1),
    datetime(2019, 6, 24, 2, 0, tzinfo=UTC),  # again, from the memo
]


def test_stored_moments_are_those_the_conversion_without_memo_stores(engine: Engine) -> None:
    dialect = engine.dialect
    convert = TypeDecorator.bind_processor(UtcDateTime().dialect_impl(dialect), dialect)
    assert convert is not None
    with engine.begin() as connection:
        # Through the column's type (the memo), then as the conversion alone
        # gives the values, bound without any type.
        connection.execute(
            insert(Event.__table__),
            [{"at": m, "action": "memo", "detail": str(i)} for i, m in enumerate(MOMENTS)],
        )
        connection.execute(
            text("INSERT INTO events (at, action, detail) VALUES (:at, 'plain', :detail)"),
            [{"at": convert(m), "detail": str(i)} for i, m in enumerate(MOMENTS)],
        )
        rows = connection.execute(
            text("SELECT action, detail, CAST(at AS TEXT) FROM events ORDER BY id")
        ).all()
    stored = {(action, detail): at for action, detail, at in rows}
    memo = [stored["memo", str(i)] for i in range(len(MOMENTS))]
    assert memo == [stored["plain", str(i)] for i in range(len(MOMENTS))]
    assert memo[3] != memo[4]  # the two instants of 02:30 stay apart
