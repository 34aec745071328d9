"""The participant's personal page and one-click unsubscribe, through Flask's test client."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import TEST_SECRET_KEY
from tests.web.conftest import NOW, Client, World
from tracker.db.orm import Attachment, Event, Participant, Reminder, Update, WebSubmission
from tracker.mail.render import create_mail_environment
from tracker.services.composing import MailIdentity, compose_reminder
from tracker.services.email_change import change_participant_email
from tracker.services.participant_links import personal_links
from tracker.services.web_answers import MAX_SUBMITS_PER_PARTICIPANT

PUBLIC_URL = "https://followup.example.org"
REFUSED = "This link does not work"


def _token(world: World, participant_id: int, *, days: int = 60) -> str:
    with world.factory() as session:
        participant = session.get_one(Participant, participant_id)
        links = personal_links(
            participant, public_url=PUBLIC_URL, secret_key=TEST_SECRET_KEY, now=NOW, valid_days=days
        )
    return links.page.rsplit("/", 1)[1]


def _page(client: Client, token: str) -> tuple[int, str]:
    response = client.get(f"/u/{token}")
    return response.status_code, response.get_data(as_text=True)


def _action_ids(world: World, participant_id: int) -> dict[str, int]:
    with world.factory() as session:
        participant = session.get_one(Participant, participant_id)
        return {a.ref: a.id for a in participant.actions}


def test_the_page_shows_the_participants_open_actions_in_their_language(world: World) -> None:
    client = world.client()
    status, body = _page(client, _token(world, world.wang))
    assert status == 200
    assert 'lang="zh-CN"' in body
    assert "您的行动事项" in body
    assert "试点低排放物流配送区" in body  # action 2, still open
    assert "发布西城区清洁空气行动计划" not in body.split("您以前报告的进展")[0]  # done: not asked
    assert "您以前报告的进展" in body  # what they reported before, below
    assert "进行中 60%" in body
    assert "Anna Keller" not in body
    assert "Programmes" not in body  # no dashboard
    assert "退出" not in body  # no sign-out: nobody is signed in


def test_another_participants_link_never_shows_this_ones_data(world: World) -> None:
    client = world.client()
    status, body = _page(client, _token(world, world.anna))
    assert status == 200
    assert 'lang="en"' in body
    assert "Pair each city with a peer city" in body
    for secret in ("王晓明", "试点低排放物流配送区", "进行中", "wang.xiaoming"):
        assert secret not in body


def test_an_altered_or_unknown_link_shows_a_plain_page_with_404(world: World) -> None:
    client = world.client()
    token = _token(world, world.anna)
    ident, day, signature = token.split(".")
    flipped = signature[:-1] + ("a" if signature[-1] != "a" else "b")
    for bad in (f"{ident}.{day}.{flipped}", f"{world.wang}.{day}.{signature}", "not-a-token"):
        status, body = _page(client, bad)
        assert status == 404, bad
        assert REFUSED in body
        assert "reply to any of the follow-up emails" in body
        for secret in ("Anna", "王晓明", "Traceback"):
            assert secret not in body


def test_an_expired_link_says_so_with_410(world: World) -> None:
    token = _token(world, world.anna, days=1)
    world.clock.moment = NOW + timedelta(days=2)
    status, body = _page(world.client(), token)
    assert status == 410
    assert "This personal link has expired." in body
    assert "Pair each city" not in body


def test_opting_out_closes_the_link_and_undoing_it_opens_it_again(world: World) -> None:
    client = world.client()
    token = _token(world, world.anna)
    # RFC 8058: a mail client posts this, with no CSRF token and no cookie.
    response = client.raw.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed from Small test programme." in response.get_data(as_text=True)
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "opted_out"
        planned = session.scalars(
            select(Reminder.state).where(
                Reminder.participant_id == world.anna, Reminder.state == "planned"
            )
        ).all()
        assert planned == []
    status, body = _page(client, token)
    assert status == 410
    assert "has been closed" in body
    confirmation = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "You are unsubscribed" in confirmation
    assert "Undo: keep receiving them" in confirmation
    client.post(f"/unsubscribe/{token}/undo")
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "active"
    assert _page(client, token)[0] == 200


def test_the_undo_button_needs_its_csrf_token(world: World) -> None:
    token = _token(world, world.anna)
    client = world.client()
    client.raw.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    response = client.raw.post(f"/unsubscribe/{token}/undo")
    assert response.status_code == 400
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "opted_out"


def test_the_confirmation_page_unsubscribes_only_when_the_button_is_pressed(world: World) -> None:
    client = world.client()
    token = _token(world, world.anna)
    body = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop receiving the follow-up emails of this programme?" in body
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "active"
    client.post(f"/unsubscribe/{token}")
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "opted_out"


def test_a_changed_email_address_revokes_the_link(world: World) -> None:
    token = _token(world, world.anna)
    with world.factory.begin() as session:
        anna = session.get_one(Participant, world.anna)
        change_participant_email(anna, "anna.keller@example.org", session=session, now=NOW)
    status, body = _page(world.client(), token)
    assert status == 404
    assert REFUSED in body
    assert _page(world.client(), _token(world, world.anna))[0] == 200  # a new link works


def test_an_archived_participants_link_opens_nothing(world: World) -> None:
    token = _token(world, world.anna)
    with world.factory.begin() as session:
        session.get_one(Participant, world.anna).archived_at = NOW
    assert _page(world.client(), token)[0] == 410
    response = world.client().raw.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 410


def test_a_submit_records_web_updates_with_a_file_and_plans_the_acknowledgement(
    world: World,
) -> None:
    client = world.client()
    token = _token(world, world.wang)
    ids = _action_ids(world, world.wang)
    _page(client, token)
    response = client.post(
        f"/u/{token}",
        {
            f"status-{ids['2']}": "in_progress",
            f"percent-{ids['2']}": "80",
            f"note-{ids['2']}": "物流区已划定 <b>",
            f"file-{ids['2']}": (io.BytesIO(b"%PDF-1.4 zone map"), "物流区.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "谢谢：已记录 1 条进展" in body
    assert "物流区已划定 &lt;b&gt;" in body  # now in what they reported before, escaped
    with world.factory() as session:
        update = session.scalars(select(Update).where(Update.source == "web")).one()
        assert (update.status, update.percent, update.note) == (
            "in_progress",
            80,
            "物流区已划定 <b>",
        )
        assert update.web_submission_id is not None
        attachment = session.scalars(select(Attachment)).one()
        assert (attachment.filename, attachment.content_type, attachment.size) == (
            "物流区.pdf",
            "application/pdf",
            len(b"%PDF-1.4 zone map"),
        )
        ack = session.scalars(
            select(Reminder).where(Reminder.occurrence_key == f"ack:w{update.web_submission_id}")
        ).one()
        event = session.scalars(
            select(Event).where(Event.action == "participant.page_answer")
        ).one()
        assert "through the personal link (not the mailbox)" in event.detail
        identity = MailIdentity(
            from_header="Programme Office <followup@example.org>",
            from_address="followup@example.org",
            reply_pattern="followup+{token}@example.org",
            secret_key=TEST_SECRET_KEY,
        )
        ack.message_id = "<ack@example.org>"
        message = compose_reminder(
            ack, session=session, env=create_mail_environment(), identity=identity, now=NOW
        )
        text = message.parsed().get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "我们已记录以下进展" in text
        assert "80%" in text
        assert "我们已保存您发送的文件：物流区.pdf。" in text
        session.rollback()


def test_the_coordinator_sees_and_downloads_the_file_as_an_attachment(world: World) -> None:
    visitor = world.client()
    token = _token(world, world.anna)
    ids = _action_ids(world, world.anna)
    visitor.get(f"/u/{token}")
    visitor.post(
        f"/u/{token}",
        {
            f"status-{ids['1']}": "in_progress",
            f"percent-{ids['1']}": "",
            f"file-{ids['1']}": (
                io.BytesIO(b"<script>alert(1)</script>"),
                "图 x.html",
                "text/html",
            ),
        },
        content_type="multipart/form-data",
    )
    coordinator = world.client()
    coordinator.sign_in("officer@example.org")
    page = coordinator.get(f"/programmes/small-programme/participants/{world.anna}")
    body = page.get_data(as_text=True)
    assert "图 x.html" in body
    assert "on the personal page" in body
    assert "Answered on the personal page" in body
    link = re.search(r'href="([^"]+/files/\d+)"', body)
    assert link is not None
    download = coordinator.get(link.group(1))
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    disposition = download.headers["Content-Disposition"]
    assert disposition.isascii()  # a server may send only Latin-1 headers
    assert "filename*=UTF-8''%E5%9B%BE%20x.html" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "text/html"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'"
    assert download.data == b"<script>alert(1)</script>"
    # The files export lists it (never its bytes).
    export = coordinator.get("/programmes/small-programme/exports/files?format=csv")
    lines = export.get_data(as_text=True).splitlines()
    header = lines[0].lstrip("\ufeff")
    assert header.startswith("received at,programme,email,name,ref,file name,type,bytes,sha256")
    assert "anna@example.org,Anna Keller,1,图 x.html,text/html,25," in lines[1]
    assert lines[1].endswith(",yes,web,")
    assert "<script>" not in export.get_data(as_text=True)
    # Another programme's coordinator gets nothing.
    stranger = world.client()
    stranger.sign_in("other@example.org")
    assert stranger.get(link.group(1)).status_code == 404


def test_a_submit_without_the_csrf_token_records_nothing(world: World) -> None:
    token = _token(world, world.anna)
    ids = _action_ids(world, world.anna)
    response = world.client().raw.post(f"/u/{token}", data={f"status-{ids['1']}": "done"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "The form could not be accepted" in body
    assert f'href="/u/{token}">Back to your actions' in body
    assert "Back to your programmes" not in body  # the participant's layout, not the dashboard's
    with world.factory() as session:
        assert session.scalars(select(Update).where(Update.source == "web")).all() == []


def test_a_submit_that_changes_nothing_records_nothing(world: World) -> None:
    client = world.client()
    token = _token(world, world.anna)
    ids = _action_ids(world, world.anna)
    client.get(f"/u/{token}")
    response = client.post(f"/u/{token}", {f"status-{ids['1']}": "not_started"})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing changed, so nothing was recorded." in body
    with world.factory() as session:
        assert session.scalars(select(WebSubmission)).all() == []


def test_a_bad_percentage_is_refused_in_one_line(world: World) -> None:
    client = world.client()
    token = _token(world, world.anna)
    ids = _action_ids(world, world.anna)
    client.get(f"/u/{token}")
    response = client.post(f"/u/{token}", {f"percent-{ids['1']}": "150"})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A percentage is a whole number from 0 to 100." in body
    with world.factory() as session:
        assert session.scalars(select(Update).where(Update.source == "web")).all() == []


def test_submits_are_rate_limited(world: World) -> None:
    client = world.client()
    token = _token(world, world.anna)
    ids = _action_ids(world, world.anna)
    client.get(f"/u/{token}")
    for n in range(MAX_SUBMITS_PER_PARTICIPANT):
        response = client.post(f"/u/{token}", {f"note-{ids['1']}": f"note {n}"})
        assert response.status_code == 302
    response = client.post(f"/u/{token}", {f"note-{ids['1']}": "one too many"})
    assert response.status_code == 429
    assert "Please try again later." in response.get_data(as_text=True)
    with world.factory() as session:
        notes = session.scalars(select(Update.note).where(Update.source == "web")).all()
    assert "one too many" not in notes
    assert len(notes) == MAX_SUBMITS_PER_PARTICIPANT


def test_an_expired_link_still_unsubscribes_but_cannot_undo(world: World) -> None:
    """Old mail's unsubscribe button must keep working; resubscribing needs a fresh link."""
    token = _token(world, world.anna, days=1)
    world.clock.moment = NOW + timedelta(days=30)
    client = world.client()
    response = client.raw.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "opted_out"
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "You are unsubscribed" in page
    assert "Undo" not in page
    response = client.post(f"/unsubscribe/{token}/undo")
    assert response.status_code == 410
    with world.factory() as session:
        assert session.get_one(Participant, world.anna).state == "opted_out"
