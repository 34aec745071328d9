"""What views share: the app's settings, database, clock and mail templates, per app.

Stored on the app by `create_app` (no module-level state), reached through
`current_app` during a request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g
from jinja2 import Environment
from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import Clock
from tracker.config import Settings
from tracker.services.signing_in import SignedIn, ThrottlePolicy


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a dashboard session lasts: idle, and at most from sign-in."""

    idle: timedelta = timedelta(hours=8)
    absolute: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WebContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    mail_env: Environment
    throttle: ThrottlePolicy
    sessions: SessionPolicy


def web() -> WebContext:
    context = current_app.extensions["tracker"]
    assert isinstance(context, WebContext)
    return context


def now() -> datetime:
    return web().clock.now()


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on an error."""
    with web().session_factory.begin() as session:
        yield session


def signed_in() -> SignedIn:
    """The signed-in coordinator (every non-public view runs after the sign-in gate)."""
    coordinator = g.get("coordinator")
    assert isinstance(coordinator, SignedIn), "the sign-in gate lets no one through unsigned"
    return coordinator


def actor() -> str:
    """Who does what a request does, as the audit log names them."""
    return f"coordinator:{signed_in().email}"
