"""Adding and editing a participant and their actions in forms (Flask's test client)."""

from __future__ import annotations

import html

from sqlalchemy import select

from tests.web.conftest import HOSTILE, World
from tracker.db.orm import Action, Participant

SLUG = "small-programme"


def test_a_participant_is_added_then_given_an_action(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    assert "Add the participant" in client.get(f"/programmes/{SLUG}/participants/new").get_data(
        as_text=True
    )
    added = client.post(
        f"/programmes/{SLUG}/participants/new",
        {
            "email": "Li.Na@example.cn",
            "name": "李娜",
            "organisation": "成都市生态环境局",
            "language": "",
            "timezone": "",
            "country": "",
        },
        follow_redirects=True,
    )
    body = html.unescape(added.get_data(as_text=True))
    assert "li.na@example.cn is now a participant: add their actions below." in body
    with world.factory() as session:
        li = session.scalars(
            select(Participant).where(Participant.email == "li.na@example.cn")
        ).one()
        assert (li.name, li.organisation, li.language) == ("李娜", "成都市生态环境局", None)
    url = f"/programmes/{SLUG}/participants/{li.id}"
    client.get(f"{url}/edit")
    done = client.post(
        f"{url}/actions",
        {"ref": "1", "title": "建立监测网络", "due": "2019-12-31"},
        follow_redirects=True,
    )
    assert "action 1 added" in done.get_data(as_text=True)
    client.post(f"{url}/actions/edit", {"ref": "1", "title": "建立监测网络", "due": "2020-01-31"})
    with world.factory() as session:
        assert (
            session.scalar(select(Action.due_on).where(Action.participant_id == li.id)).isoformat()
            == "2020-01-31"
        )  # type: ignore[union-attr]
    client.post(f"{url}/actions/archive", {"ref": "1"})
    with world.factory() as session:
        assert (
            session.scalar(select(Action.archived_at).where(Action.participant_id == li.id))
            is not None
        )


def test_problems_are_shown_by_field_and_nothing_changes(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    response = client.post(
        f"/programmes/{SLUG}/participants/new",
        {"email": "anna@example.org", "name": HOSTILE, "timezone": "Mars/Olympus"},
    )
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "unknown time zone 'Mars/Olympus'" in body
    taken = client.post(
        f"/programmes/{SLUG}/participants/new", {"email": "anna@example.org", "name": "A"}
    )
    assert "anna@example.org is already a participant of small-programme" in taken.get_data(
        as_text=True
    )
    assert HOSTILE not in response.get_data(as_text=True)  # the value is shown escaped
    url = f"/programmes/{SLUG}/participants/{world.wang}"
    bad = client.post(f"{url}/actions", {"ref": "1", "title": "Again", "due": "2019-01-01"})
    text = html.unescape(bad.get_data(as_text=True))
    assert bad.status_code == 422
    assert "wang.xiaoming@example.org already has an action '1'" in text
    edited = client.post(f"{url}/edit", {"name": "王晓明", "timezone": "Nowhere"})
    assert edited.status_code == 422
    assert "unknown time zone 'Nowhere'" in html.unescape(edited.get_data(as_text=True))
    with world.factory() as session:
        assert (
            session.scalar(select(Participant.timezone).where(Participant.id == world.wang)) is None
        )


def test_the_participant_page_links_to_editing(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    body = client.get(f"/programmes/{SLUG}/participants/{world.wang}").get_data(as_text=True)
    assert f"/programmes/{SLUG}/participants/{world.wang}/edit" in body
