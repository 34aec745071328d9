"""Every route of the app, as a signed-out visitor and as another programme's coordinator: no data.

The walk reads `app.url_map`, so a route added later is walked too. URL
arguments are filled with the ids of programme A (slug, participant,
message, reminder); a rule whose arguments it cannot fill fails the test, so
that nobody adds a route the walk silently skips.
"""

from __future__ import annotations

from sqlalchemy import func, select

from tests.web.conftest import World
from tracker.db.orm import Event, Reminder, Update

# Views open to signed-out visitors; everything else must send them to sign in.
PUBLIC = {
    "static",
    "auth.sign_in",
    "auth.set_password",
    "auth.language",
    "personal.page",
    "personal.answer",
    "personal.unsubscribe_page",
    "personal.unsubscribe",
    "personal.resubscribe",
}
# Data of programme A that must never show to a stranger.
SECRETS = ("王晓明", "Anna Keller", "Small test programme", "anna@example.org", "已完成")


def _urls(world: World) -> list[tuple[str, str, str]]:
    with world.factory() as session:
        reminder = session.scalar(select(Reminder.id).where(Reminder.participant_id == world.anna))
    values = {
        "slug": "small-programme",
        "participant_id": world.wang,
        "inbound_id": world.held,
        "reminder_id": reminder,
        "token": "not-a-token",
        "filename": "style.css",
        "attachment_id": 1,
    }
    urls = []
    for rule in world.app.url_map.iter_rules():
        missing = set(rule.arguments) - set(values)
        assert not missing, f"the route walk cannot fill {missing} of {rule.rule}: add them here"
        with world.app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, url))
    assert len(urls) > 15
    return urls


def _counts(world: World) -> tuple[int, int, int]:
    with world.factory() as session:
        return (
            session.scalar(select(func.count(Update.id))) or 0,
            session.scalar(select(func.count(Event.id))) or 0,
            session.scalar(select(func.count(Reminder.id))) or 0,
        )


def test_a_signed_out_visitor_is_sent_to_sign_in_from_every_route(world: World) -> None:
    client = world.client()
    before = _counts(world)
    for endpoint, method, url in _urls(world):
        if endpoint in PUBLIC:
            continue
        response = client.raw.open(url, method=method)
        body = response.get_data(as_text=True)
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), (method, url)
        assert not any(secret in body for secret in SECRETS), (method, url)
    assert _counts(world) == before


def test_another_programmes_coordinator_gets_no_data_from_any_route(world: World) -> None:
    client = world.client()
    client.sign_in("other@example.org")
    before = _counts(world)
    for endpoint, method, url in _urls(world):
        if endpoint in ("auth.sign_out", "auth.sign_in", "auth.set_password"):
            continue  # would end or replace the session being tested
        data = {"text": "1: done", "participant": world.olga, "nonce": "abcdefghijkl"}
        response = client.post(url, data) if method == "POST" else client.get(url)
        body = response.get_data(as_text=True)
        assert not any(secret in body for secret in SECRETS), (method, url)
        if endpoint.split(".")[0] not in ("auth", "static", "home") and endpoint != (
            "programmes.index"
        ):
            assert response.status_code == 404, (method, url, response.status_code)
    assert _counts(world)[0] == before[0], "no update was recorded"
    assert _counts(world)[2] == before[2], "no reminder was planned"
    # The stranger's own programme is there: the walk did sign in.
    assert "Other programme" in client.get("/programmes").get_data(as_text=True)
