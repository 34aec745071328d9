"""An action's state derived from its history in one query is what reading each action's
history on its own gives: the same status, percent and last-update time, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.mailflow import load_programme
from tracker.db.orm import Action, InboundMessage, Participant, Update
from tracker.services.recording import SAID_ORDER, derive_action_state

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
BASE = datetime(2019, 6, 24, 1, 0, tzinfo=UTC)
STATUSES = [None, "not_started", "in_progress", "blocked", "done"]

# One update: (which action, minutes after BASE it was said, status, percent,
# which message carried it: None for a coordinator's, else 0 or 1).
said = st.tuples(
    st.integers(0, 2),
    st.integers(0, 3),  # few instants, so ties are common
    st.sampled_from(STATUSES),
    st.none() | st.integers(0, 100),
    st.none() | st.integers(0, 1),
)


def derived_one_by_one(action: Action, session: Session) -> tuple[str, int | None, datetime | None]:
    """The oracle: the action's whole history as rows, read on its own."""
    history = list(
        session.scalars(
            select(Update)
            .outerjoin(InboundMessage, Update.inbound_message_id == InboundMessage.id)
            .where(Update.action_id == action.id)
            .order_by(*SAID_ORDER)
        )
    )
    latest = next((u for u in reversed(history) if u.status is not None), None)
    status = latest.status if latest is not None and latest.status else "not_started"
    percent = latest.percent if latest is not None else None
    return status, percent, history[-1].at if history else None


def _messages(session: Session, received: list[int]) -> list[InboundMessage]:
    messages = [
        InboundMessage(
            message_id=f"<m{n}@example.org>",
            content_hash=f"{n:064d}",
            raw=b"",
            size=0,
            source="pipe",
            received_at=BASE + timedelta(minutes=minutes),
            state="processed",
        )
        for n, minutes in enumerate(received)
    ]
    session.add_all(messages)
    return messages


def test_states_derived_together_are_those_derived_one_by_one(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        history=st.lists(said, max_size=12),
        received=st.lists(st.integers(0, 3), min_size=2, max_size=2),
    )
    def check(
        history: list[tuple[int, int, str | None, int | None, int | None]], received: list[int]
    ) -> None:
        with session_factory() as session:  # rolled back at the end of each example
            participant = session.scalars(select(Participant).order_by(Participant.id)).first()
            assert participant is not None
            actions = sorted(participant.actions, key=lambda a: a.id)[:3]
            messages = _messages(session, received)
            session.flush()
            for which, minutes, status, percent, message in history:
                session.add(
                    Update(
                        participant_id=participant.id,
                        action_id=actions[which % len(actions)].id,
                        inbound_message_id=messages[message].id if message is not None else None,
                        at=BASE + timedelta(minutes=minutes),
                        status=status,
                        percent=percent,
                        note="",
                        source="email" if message is not None else "coordinator",
                        recorded_at=BASE + timedelta(minutes=2),
                    )
                )
            session.flush()
            expected = {a.id: derived_one_by_one(a, session) for a in actions}
            derive_action_state(actions, session=session)
            assert {a.id: (a.status, a.percent, a.last_update_at) for a in actions} == expected
            session.rollback()

    check()
