"""A small world for the dashboard's tests: two programmes, coordinators, mail sent and received.

`programme A` is the small test programme (coordinators officer@ and second@);
`programme B` belongs to other@ alone. Both on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.clock import FixedClock
from tracker.config import settings_from_values
from tracker.db.orm import InboundMessage, Participant
from tracker.services.intake import ingest
from tracker.services.passwords import find_coordinator, set_password
from tracker.web.app import create_app

PASSWORD = "a long enough password"
FIRST_SEND = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)  # after 09:30 in Beijing and Berlin
REPLIED = FIRST_SEND + timedelta(hours=3)
NOW = datetime(2019, 7, 1, 2, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"

OTHER = """\
programme:
  slug: other-programme
  name: Other programme
  starts_on: 2019-05-19
  ends_on: 2019-05-23
  timezone: Europe/Berlin
  language: en
  coordinators: [{name: Other Officer, email: other@example.org}]
follow_up:
  - {kind: check_in, every: 1 month, first: 2019-06-23, count: 6, at: "09:30"}
participants:
  - name: Olga Other
    email: olga@example.org
    actions:
      - {ref: "1", title: Something elsewhere, due: 2019-09-30}
"""


@dataclass
class World:
    app: Flask
    clock: FixedClock
    factory: sessionmaker[Session]
    wang: int  # participant ids
    anna: int
    olga: int
    held: int  # a held message of programme A (a forged reply to Anna's reminder)
    reply: int  # Wang's processed reply

    def client(self) -> Client:
        return Client(self.app.test_client())


class Client:
    """Flask's test client, with the CSRF token of the last page at hand."""

    def __init__(self, client: FlaskClient) -> None:
        self.raw = client
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.raw.get(url, **kwargs)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        if not self.token:
            self.get("/sign-in")
        return self.raw.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def sign_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        self.get("/sign-in")
        response = self.post("/sign-in", {"email": email, "password": password})
        self.get("/programmes")
        return response


def build_world(factory: sessionmaker[Session]) -> World:
    load_programme(factory, FIRST_SEND - timedelta(days=40))
    load_programme(factory, FIRST_SEND - timedelta(days=40), OTHER)
    sent = send_pass(factory, FIRST_SEND)
    to_wang = next(m for m in sent if "wang.xiaoming" in str(m["To"]))
    to_anna = next(m for m in sent if "anna@" in str(m["To"]))
    ingest(
        reply_to(to_wang, f"1：已完成 {HOSTILE}\n2：进行中 60%", message_id="<wang@example.org>"),
        session_factory=factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=REPLIED,
    )
    ingest(
        reply_to(
            to_anna,
            f"1: done {HOSTILE}",
            sender="intruder@example.net",
            message_id="<x@example.net>",
        ),
        session_factory=factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=REPLIED,
    )
    with factory.begin() as session:
        for email in ("officer@example.org", "second@example.org", "other@example.org"):
            coordinator = find_coordinator(email, session=session)
            set_password(coordinator, PASSWORD, session=session, now=FIRST_SEND, actor="cli")
        ids = {p.email: p.id for p in session.scalars(select(Participant))}
        held = session.scalar(select(InboundMessage.id).where(InboundMessage.state == "held"))
        reply = session.scalar(
            select(InboundMessage.id).where(InboundMessage.message_id == "<wang@example.org>")
        )
    assert held is not None
    assert reply is not None
    clock = FixedClock(NOW)
    settings = settings_from_values(
        {
            "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
            "TRACKER_FROM": "Programme Office <followup@example.org>",
        }
    )
    app = create_app(settings, factory, clock=clock)
    return World(
        app=app,
        clock=clock,
        factory=factory,
        wang=ids["wang.xiaoming@example.org"],
        anna=ids["anna@example.org"],
        olga=ids["olga@example.org"],
        held=held,
        reply=reply,
    )


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)
