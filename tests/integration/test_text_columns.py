"""Text columns store what every engine can store: NUL and lone surrogates never fail a write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Base, Event, InboundMessage
from tracker.db.types import SafeString, SafeText

NOW = datetime(2019, 6, 24, tzinfo=UTC)


def test_every_text_column_of_every_table_is_a_safe_type() -> None:
    unsafe = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, String) and not isinstance(column.type, SafeString | SafeText)
    ]
    assert unsafe == []


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("a\x00b", "a\ufffdb"),
        ("\x00", "\ufffd"),
        ("surrogate \udcff here", "surrogate \ufffd here"),
        (
            "keeps\ttabs\nand lines and \x1b[31m escapes",
            "keeps\ttabs\nand lines and \x1b[31m escapes",
        ),
        ("中文 ok", "中文 ok"),
    ],
)
def test_unstorable_characters_become_the_replacement_character_on_both_engines(
    session_factory: sessionmaker[Session], written: str, read: str
) -> None:
    with session_factory.begin() as session:
        session.add(
            InboundMessage(
                message_id=f"<{written}@example.org>",
                content_hash="0" * 64,
                raw=written.encode("utf-8", "surrogatepass"),
                size=1,
                source="cli",
                received_at=NOW,
                from_address=written,
                subject=written,
                state="stored",
            )
        )
        session.add(Event(at=NOW, action="test", detail=written))
    with session_factory() as session:
        inbound = session.scalars(select(InboundMessage)).one()
        detail = session.scalars(select(Event.detail)).one()
    assert (inbound.subject, inbound.from_address, detail) == (read, read, read)
    assert inbound.message_id == f"<{read}@example.org>"
    # The raw bytes are bytes: kept exactly, NUL and all.
    assert inbound.raw == written.encode("utf-8", "surrogatepass")
