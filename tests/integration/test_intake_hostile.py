"""Hostile input never loses a message: whatever arrives is stored byte for byte."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tracker.db.orm import InboundMessage
from tracker.services.intake import ingest

NOW = datetime(2019, 6, 25, tzinfo=UTC)
REPLY = (
    "From: =?GB2312?B?zfXP/sP3?= <wang@example.org>\r\n"
    "To: followup+1.aaaaaaaaaaaaaaaa@example.org\r\n"
    "Subject: =?GB2312?B?u9i4tKO6?=\r\nMessage-ID: <r@example.org>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="x"\r\n\r\n--x\r\n'
    "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "MaO6ytLN6rPJ\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>1: done</p>\r\n--x--\r\n"
).encode("ascii")

hostile = st.one_of(
    st.binary(min_size=1, max_size=3000),
    st.integers(min_value=1, max_value=len(REPLY)).map(lambda n: REPLY[:n]),
    st.binary(min_size=1, max_size=200).map(lambda junk: REPLY.replace(b"MaO6ytLN6rPJ", junk)),
    st.text(min_size=1, max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@pytest.fixture
def fresh_state(engine: Engine) -> Callable[[], AbstractContextManager[sessionmaker[Session]]]:
    """For each hypothesis example, the test database as it was: everything the example
    writes (its commits are savepoints) is rolled back when it ends.

    Examples never see each other's rows, so none is taken for a duplicate of
    another's message and every one is checked byte for byte.
    """

    @contextmanager
    def rolled_back() -> Iterator[sessionmaker[Session]]:
        with engine.connect() as connection:
            outer = connection.begin()
            try:
                yield sessionmaker(
                    bind=connection,
                    join_transaction_mode="create_savepoint",
                    expire_on_commit=False,
                )
            finally:
                outer.rollback()

    return rolled_back


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=hostile)
def test_whatever_arrives_is_stored_exactly_and_nothing_raises(
    fresh_state: Callable[[], AbstractContextManager[sessionmaker[Session]]], raw: bytes
) -> None:
    if not raw.strip():
        return  # the command refuses an empty message before storing anything
    with fresh_state() as session_factory:
        with session_factory() as session:  # nothing left over from another example
            assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
        result = ingest(
            raw,
            session_factory=session_factory,
            secret_key=TEST_SECRET_KEY,
            source="pipe",
            now=NOW,
        )
        with session_factory() as session:
            stored = session.scalars(
                select(InboundMessage.raw).where(InboundMessage.id == result.inbound_id)
            ).one()
    assert result.duplicate is False
    assert result.state in {"processed", "held"}, result.detail
    if result.state == "held":
        assert result.reason is not None
        assert result.detail  # why, in words
    assert bytes(stored) == raw
