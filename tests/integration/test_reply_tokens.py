"""Reply tokens and Message-IDs name one row of one database, on real databases.

Two installations with the same key, or one database rebuilt, used to send
`<tracker.1.…>` again, and a reply to the old message was applied to the new,
unrelated reminder 1. Each row now carries a random nonce that its token and
Message-ID include.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.core.tokens import find_token, make_reply_token
from tracker.db import migrate
from tracker.db.orm import Base, Reminder
from tracker.services.intake import ingest
from tracker.services.planning import plan_due_reminders

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)  # Monday 09:31 in Shanghai
LATER = datetime(2019, 6, 24, 3, 0, tzinfo=UTC)
WANG = "wang.xiaoming@example.org"
NONCE_REVISION = "f9ef0c2493e8"  # the migration that gives reminders their nonce


def first_check_in(factory: sessionmaker[Session]) -> EmailMessage:
    load_programme(factory, IMPORTED)
    return next(m for m in send_pass(factory, CHECK_IN) if WANG in str(m["To"]))


def take(factory: sessionmaker[Session], raw: bytes) -> Any:
    return ingest(
        raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=LATER
    )


def rebuild(engine: Engine) -> None:
    """Drop every table and migrate again: a new, empty database with the same key."""
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE alembic_version"))
    migrate.upgrade(engine)


def statuses(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        participant = session.get_one(Reminder, 1).about
        return [a.status for a in participant.actions]


def test_a_rebuilt_database_sends_new_ids_and_refuses_replies_to_the_old_ones(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    old = first_check_in(session_factory)
    rebuild(engine)
    new = first_check_in(session_factory)
    old_token, new_token = find_token(str(old["Reply-To"])), find_token(str(new["Reply-To"]))
    assert old_token is not None
    assert new_token is not None
    # The same row id, signed with the same key: only the nonce tells them apart.
    assert old_token.split(".")[0] == new_token.split(".")[0]
    assert old_token != new_token
    assert old["Message-ID"] != new["Message-ID"]

    # A late reply to the old message verifies under the key, but names another row.
    held = take(session_factory, reply_to(old, "1：已完成", message_id="<late@example.org>"))
    assert (held.state, held.reason) == ("held", "bad_token")
    # A client that answers From: the old Message-ID in In-Reply-To carries the old token.
    threaded = reply_to(old, "1：已完成", to="followup@example.org", message_id="<bare@x.org>")
    assert take(session_factory, threaded).reason == "bad_token"
    assert statuses(session_factory) == ["not_started", "not_started"]

    applied = take(session_factory, reply_to(new, "1：已完成", message_id="<fresh@example.org>"))
    assert (applied.state, applied.participant) == ("processed", WANG)
    assert statuses(session_factory) == ["done", "not_started"]


def test_a_row_tried_before_nonces_keeps_its_message_id_and_older_token(
    session_factory: sessionmaker[Session],
) -> None:
    """A retry after the upgrade goes out as the first try did: same Message-ID, older token."""
    load_programme(session_factory, IMPORTED)
    with session_factory.begin() as session:
        assert plan_due_reminders(session=session, now=CHECK_IN).planned
        for reminder in session.query(Reminder):
            older = make_reply_token(reminder.id, TEST_SECRET_KEY, nonce=None)
            reminder.nonce = None  # what the migration leaves on a row already tried
            reminder.message_id = f"<tracker.{older}@example.org>"
            reminder.attempts = 1
    (legacy,) = [m for m in send_pass(session_factory, CHECK_IN) if WANG in str(m["To"])]
    token = find_token(str(legacy["Reply-To"]))
    assert token is not None
    assert token.count(".") == 1
    assert legacy["Message-ID"] == f"<tracker.{token}@example.org>"
    result = take(session_factory, reply_to(legacy, "1：已完成"))
    assert (result.state, result.participant) == ("processed", WANG)
    assert statuses(session_factory) == ["done", "not_started"]


def test_a_row_claimed_without_a_nonce_gets_one_before_its_message_id(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    with session_factory.begin() as session:
        assert plan_due_reminders(session=session, now=CHECK_IN).planned
        session.execute(text("UPDATE reminders SET nonce = NULL"))  # inserted without the default
    (sent,) = [m for m in send_pass(session_factory, CHECK_IN) if WANG in str(m["To"])]
    token = find_token(str(sent["Reply-To"]))
    assert token is not None
    assert token.count(".") == 2
    assert take(session_factory, reply_to(sent, "1：已完成")).state == "processed"


def test_an_older_token_for_a_row_that_has_a_nonce_is_refused(
    session_factory: sessionmaker[Session],
) -> None:
    sent = first_check_in(session_factory)
    token = find_token(str(sent["Reply-To"]))
    assert token is not None
    assert token.count(".") == 2
    reminder_id = int(token.split(".")[0])
    forged = make_reply_token(reminder_id, TEST_SECRET_KEY, nonce=None)  # signed, but no nonce
    raw = reply_to(sent, "1：已完成", to=f"followup+{forged}@example.org", thread=False)
    result = take(session_factory, raw)
    assert (result.state, result.reason) == ("held", "bad_token")
    assert statuses(session_factory) == ["not_started", "not_started"]


def test_the_migration_gives_nonces_to_unclaimed_rows_only(engine: Engine) -> None:
    """Rows already claimed or sent keep the Message-ID and token they went out with."""
    config = migrate.alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision(NONCE_REVISION)
    assert before is not None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, str(before.down_revision))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO programmes (id, slug, name, starts_on, ends_on, timezone, language,"
                " working_days_only, acknowledge_replies, weekly_digest, created_at, updated_at)"
                " VALUES (1, 'p', 'P', '2019-05-19', '2019-05-23', 'UTC', 'en', false, true,"
                " true, :t, :t)"
            ),
            {"t": IMPORTED},
        )
        connection.execute(
            text(
                "INSERT INTO participants (id, programme_id, email, name, state, hard_bounces,"
                " created_at, updated_at) VALUES (1, 1, 'a@example.org', 'A', 'active', 0, :t, :t)"
            ),
            {"t": IMPORTED},
        )
        for number, state, message_id, created in (
            (
                1,
                "sent",
                "<tracker.1.abcdefghijklmnop@example.org>",
                datetime(2019, 6, 3, tzinfo=UTC),
            ),
            (
                2,
                "sending",
                "<tracker.2.bbcdefghijklmnop@example.org>",
                datetime(2019, 6, 4, tzinfo=UTC),
            ),
            (3, "planned", None, datetime(2019, 6, 5, tzinfo=UTC)),
        ):
            connection.execute(
                text(
                    "INSERT INTO reminders (id, occurrence_key, participant_id, audience, kind,"
                    " local_date, scheduled_at, state, attempts, next_attempt_at, message_id,"
                    " created_at) VALUES (:id, :key, 1, 'participant', 'check_in', '2019-06-24',"
                    " :t, :state, :attempts, :t, :mid, :created)"
                ),
                {
                    "id": number,
                    "key": f"check_in:p1:2019-06-{number:02d}",
                    "t": CHECK_IN,
                    "state": state,
                    "attempts": 0 if message_id is None else 1,
                    "mid": message_id,
                    "created": created,
                },
            )
    migrate.upgrade(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        nonces = {r.id: r.nonce for r in session.query(Reminder).order_by(Reminder.id)}
        first_planned = session.scalar(text("SELECT first_planned_at FROM programmes"))
    assert nonces[1] is None
    assert nonces[2] is None
    assert nonces[3] is not None
    assert len(nonces[3]) == 12
    assert first_planned is not None
    assert str(first_planned).startswith("2019-06-03")
