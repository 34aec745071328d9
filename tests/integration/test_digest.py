"""The coordinators' weekly digest, on real databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.services.intake import ingest

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
FIRST_MONDAY = datetime(2019, 6, 3, 0, 30, tzinfo=UTC)  # Monday 08:30 in Shanghai


def digests(messages: list) -> list:  # type: ignore[type-arg]
    return [m for m in messages if "officer@example.org" in str(m["To"])]


def test_one_digest_a_week_to_the_coordinators(session_factory: sessionmaker[Session]) -> None:
    load_programme(session_factory, IMPORTED)
    assert digests(send_pass(session_factory, datetime(2019, 5, 27, 0, 30, tzinfo=UTC))) == []
    first = digests(send_pass(session_factory, FIRST_MONDAY))
    assert len(first) == 1
    assert digests(send_pass(session_factory, FIRST_MONDAY)) == []
    assert digests(send_pass(session_factory, datetime(2019, 6, 9, tzinfo=UTC))) == []
    assert len(digests(send_pass(session_factory, datetime(2019, 6, 10, 0, 30, tzinfo=UTC)))) == 1
    text = first[0].get_body(("plain",)).get_content()
    assert "王晓明" in text
    assert "Anna Keller" in text
    assert first[0]["Auto-Submitted"] == "auto-generated"


def test_after_downtime_only_the_latest_week_is_sent(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    sent = digests(send_pass(session_factory, datetime(2019, 7, 2, tzinfo=UTC)))
    assert len(sent) == 1
    assert "2019年6月24日 – 30日" in str(sent[0]["Subject"])  # the week before 1 July


def test_the_digest_shows_the_weeks_updates_and_held_messages(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    check_in = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)
    sent = next(m for m in send_pass(session_factory, check_in) if "wang" in str(m["To"]))
    take = {"session_factory": session_factory, "secret_key": TEST_SECRET_KEY, "source": "pipe"}
    ingest(reply_to(sent, "2：进行中 60%，等待预算批复"), now=check_in, **take)
    ingest(
        reply_to(sent, "1: done", sender="x@example.net", message_id="<forged@example.net>"),
        now=check_in,
        **take,
    )
    digest = digests(send_pass(session_factory, datetime(2019, 7, 1, 0, 30, tzinfo=UTC)))
    assert len(digest) == 1
    text = digest[0].get_body(("plain",)).get_content()
    assert "[2] 试点低排放物流配送区：进行中 60%，等待预算批复" in text
    assert "本期收到进展反馈1条" in text
    assert "另有1封来信待您审核" in text  # the forged reply, held
    assert "Anna Keller：尚未回复" in text
