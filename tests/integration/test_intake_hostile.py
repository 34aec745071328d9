"""Hostile input never loses a message: whatever arrives is stored byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
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


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=hostile)
def test_whatever_arrives_is_stored_exactly_and_nothing_raises(
    session_factory: sessionmaker[Session], raw: bytes
) -> None:
    if not raw.strip():
        return  # the command refuses an empty message before storing anything
    result = ingest(
        raw, session_factory=session_factory, secret_key=TEST_SECRET_KEY, source="pipe", now=NOW
    )
    assert result.state in {"processed", "held"}
    with session_factory() as session:
        stored = session.scalars(
            select(InboundMessage.raw).where(InboundMessage.id == result.inbound_id)
        ).one()
    assert bytes(stored) == raw or result.duplicate
