"""Importing from the browser: problems, then changes, then apply exactly what was previewed."""

from __future__ import annotations

import base64
import html
import io
import re

import openpyxl
from sqlalchemy import select

from tests.web.conftest import World
from tracker.db.orm import Action, Event, Participant

SLUG = "small-programme"
URL = f"/programmes/{SLUG}/import"
HEADER = "email,name,ref,action,due\n"
GOOD = (
    HEADER
    + "wang.xiaoming@example.org,王晓明,1,发布西城区清洁空气行动计划,2019-09-30\n"
    + "wang.xiaoming@example.org,,2,试点低排放物流配送区,2020-06-30\n"
    + "anna@example.org,Anna Keller,1,Pair each city with a peer city,2019-09-30\n"
    + "li.na@example.cn,李娜,1,建立监测网络,2019-12-31\n"
)


def upload(client: object, text: str, name: str = "participants.csv") -> str:
    response = client.post(
        URL, {"file": (io.BytesIO(text.encode("utf-8")), name)}, content_type="multipart/form-data"
    )  # type: ignore[attr-defined]
    return html.unescape(response.get_data(as_text=True))


def confirm_fields(body: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<input id="(filename|content|sha256|changes)" name="\1" '
            r'type="hidden" value="([^"]*)"',
            body,
        )
    )


def due_of_wang_2(world: World) -> str:
    with world.factory() as session:
        due = session.scalar(
            select(Action.due_on)
            .join(Participant)
            .where(Participant.email == "wang.xiaoming@example.org", Action.ref == "2")
        )
    return str(due)


def test_problems_are_shown_by_row_and_column_and_nothing_changes(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    body = upload(
        client,
        HEADER
        + "wang.xiaoming@example.org,王晓明,1,x,2019-13-01\nnot-an-address,X,1,y,2019-09-30\n",
    )
    assert "2 problems: nothing was imported" in body
    assert "row 2, column E (due): '2019-13-01' is not a date (YYYY-MM-DD)" in body
    assert "row 3, column A (email): 'not-an-address' is not an email address" in body
    assert "Apply these changes" not in body


def test_changes_are_previewed_then_applied_exactly(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    body = upload(client, GOOD)
    assert "action 2 of wang.xiaoming@example.org: due" in body
    assert "participant li.na@example.cn: new" in body
    assert due_of_wang_2(world) == "2020-03-31"  # nothing written by the preview
    fields = confirm_fields(body)
    assert set(fields) == {"filename", "content", "sha256", "changes"}
    done = client.post(f"{URL}/confirm", fields, follow_redirects=True)
    assert "Imported:" in done.get_data(as_text=True)
    assert due_of_wang_2(world) == "2020-06-30"
    with world.factory() as session:
        event = session.scalars(select(Event).where(Event.action == "programme.imported")).one()
        assert event.actor == "coordinator:officer@example.org"
        assert event.detail.startswith("participants.csv (sha256 ")


def test_a_confirmation_for_another_file_or_a_changed_programme_applies_nothing(
    world: World,
) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    fields = confirm_fields(upload(client, GOOD))
    other = base64.b64encode(GOOD.replace("2020-06-30", "2021-01-01").encode()).decode()
    swapped = client.post(f"{URL}/confirm", {**fields, "content": other})
    assert swapped.status_code == 409
    assert "The file is not the one previewed" in html.unescape(swapped.get_data(as_text=True))
    assert due_of_wang_2(world) == "2020-03-31"
    # Someone else adds a participant between the preview and the confirmation.
    with world.factory.begin() as session:
        from tracker.services.editing import add_participant
        from tracker.services.schedule import find_programme

        add_participant(
            find_programme(SLUG, session=session),
            {"email": "new@example.org", "name": "New"},
            session=session,
            now=world.clock.now(),
            actor="cli",
        )
    stale = client.post(f"{URL}/confirm", fields)
    body = html.unescape(stale.get_data(as_text=True))
    assert stale.status_code == 409
    assert "The programme changed since the preview" in body
    assert "participant new@example.org: archived (not in the file)" in body
    assert due_of_wang_2(world) == "2020-03-31"


def test_a_programme_file_of_another_programme_is_refused(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    from tests.web.conftest import OTHER

    body = upload(client, OTHER, name="other.yaml")
    assert "is the programme file of other-programme, not small-programme" in body


def test_the_templates_download(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    response = client.raw.get(f"{URL}/participants.xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="participants.xlsx"'
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True)
    )
    assert rows[0][:2] == ("email", "name")
    assert (
        client.raw.get(f"{URL}/participants.csv").data.decode("utf-8-sig").startswith("email,name,")
    )


def test_a_file_larger_than_a_form_field_usually_may_be_is_confirmed(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    # Four rows with two long notes each (columns the tracker does not read): ~800 KB.
    note = "x" * 100_000
    rows = "".join(f"{line.rstrip()},{note},{note}\n" for line in GOOD.splitlines()[1:])
    body = upload(client, HEADER.rstrip() + ",notes,remarks\n" + rows)
    assert "column F (notes) is not read by the tracker" in body
    fields = confirm_fields(body)
    assert len(fields["content"]) > 800_000
    done = client.post(f"{URL}/confirm", fields, follow_redirects=True)
    assert done.status_code == 200
    assert "Imported:" in done.get_data(as_text=True)
    assert due_of_wang_2(world) == "2020-06-30"
