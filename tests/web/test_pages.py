"""The dashboard's pages as a coordinator uses them: what they show, what their buttons do."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import reply_to, send_pass
from tests.web.conftest import HOSTILE, World
from tracker.db.orm import Event, InboundMessage, Participant, Reminder
from tracker.services.intake import ingest


def _signed_in(world: World):  # type: ignore[no-untyped-def]
    client = world.client()
    client.sign_in("officer@example.org")
    return client


def test_the_overview_shows_figures_silence_replies_and_what_needs_a_look(world: World) -> None:
    client = _signed_in(world)
    page = client.get("/programmes/small-programme").get_data(as_text=True)
    assert "Small test programme" in page
    assert "50%" in page  # Wang replied, Anna's reply was held: 1 of 2 asked
    assert "1 of 2 participants asked have replied" in page
    assert "<svg" in page
    assert "<title>Actions by status</title>" in page
    assert "done: <strong>1</strong>" in page
    assert f"/programmes/small-programme/participants/{world.wang}" in page
    assert f"/programmes/small-programme/messages/{world.reply}" in page
    assert "1 message to review" in page


def test_a_participant_falls_silent_after_the_escalation_rules_count(world: World) -> None:
    send_pass(world.factory, world.clock.moment + timedelta(days=30))  # the July check-in
    client = _signed_in(world)
    page = client.get("/programmes/small-programme").get_data(as_text=True)
    silent = page.split('id="silent"')[1].split("</section>")[0]
    assert "Anna Keller" in silent
    assert "王晓明" not in silent
    assert "never" in silent


def test_recording_progress_heard_by_phone_uses_the_reply_grammar(world: World) -> None:
    client = _signed_in(world)
    url = f"/programmes/small-programme/participants/{world.anna}"
    client.get(url)
    response = client.post(url + "/record", {"text": "1: in progress 40%, waiting for the mayor"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "1 update recorded." in page
    assert "in progress 40% — waiting for the mayor" in page
    assert "by officer@example.org" in page
    unknown = client.post(url + "/record", {"text": "7: done"})
    assert "we could not find action 7 for anna@example.org; their action is 1" in client.get(
        unknown.headers["Location"]
    ).get_data(as_text=True)


def test_a_pause_until_a_date_ends_by_itself_on_that_day(world: World) -> None:
    client = _signed_in(world)
    url = f"/programmes/small-programme/participants/{world.anna}"
    client.get(url)
    client.post(url + "/pause", {"until": "2019-07-15"})
    page = client.get(url).get_data(as_text=True)
    assert "Paused until 15 July 2019" in page
    past = client.post(url + "/pause", {"until": "2019-06-30"})
    assert "must be after today" in client.get(past.headers["Location"]).get_data(as_text=True)
    send_pass(world.factory, world.clock.moment + timedelta(days=5))
    with world.factory() as session:
        assert session.get(Participant, world.anna).state == "paused"  # type: ignore[union-attr]
    # Midnight of 15 July in Berlin is 22:00 UTC on the 14th.
    send_pass(world.factory, world.clock.moment.replace(day=14, hour=22, minute=0))
    with world.factory() as session:
        anna = session.get(Participant, world.anna)
        assert anna is not None
        assert anna.state == "active"
        assert anna.paused_until is None
        resumed = session.scalar(
            select(Event).where(Event.action == "participant.active", Event.actor == "system")
        )
        assert resumed is not None


def test_send_a_reminder_now_plans_one_message_however_often_the_form_is_sent(
    world: World,
) -> None:
    client = _signed_in(world)
    url = f"/programmes/small-programme/participants/{world.wang}"
    client.get(url)
    nonce = "request-one-123"
    for _ in range(3):
        client.post(url + "/remind", {"nonce": nonce})
    again = client.post(url + "/remind", {"nonce": "another-request"})
    assert "already waiting" in client.get(again.headers["Location"]).get_data(as_text=True)
    sent = send_pass(world.factory, world.clock.moment)
    to_wang = [
        m for m in sent if "wang.xiaoming" in str(m["To"]) and m["X-Tracker-Kind"] == "check_in"
    ]
    assert len(to_wang) == 1
    assert "试点低排放物流配送区" in to_wang[0].get_body(("plain",)).get_content()
    assert len(send_pass(world.factory, world.clock.moment + timedelta(minutes=5))) == 0
    page = client.get(url).get_data(as_text=True)
    assert "Reminder requested" in page


def test_a_held_message_is_shown_as_text_and_can_be_assigned(world: World) -> None:
    client = _signed_in(world)
    queue = client.get("/programmes/small-programme/review").get_data(as_text=True)
    assert "intruder@example.net" in queue
    assert "It came from an address other than the participant" in queue
    assert "Assigned to Anna Keller, it would record:" in queue
    response = client.post(
        f"/programmes/small-programme/review/{world.held}/assign",
        {f"m{world.held}-participant": world.anna},
    )
    assert response.status_code == 302
    assert "Nothing is waiting for review." in client.get(
        "/programmes/small-programme/review"
    ).get_data(as_text=True)
    page = client.get(f"/programmes/small-programme/participants/{world.anna}").get_data(
        as_text=True
    )
    assert "done" in page
    with world.factory() as session:
        inbound = session.get(InboundMessage, world.held)
        assert inbound is not None
        assert inbound.state == "processed"


def test_a_held_message_can_be_discarded(world: World) -> None:
    client = _signed_in(world)
    client.get("/programmes/small-programme/review")
    client.post(f"/programmes/small-programme/review/{world.held}/discard")
    with world.factory() as session:
        inbound = session.get(InboundMessage, world.held)
        assert inbound is not None
        assert inbound.state == "discarded"
        event = session.scalar(select(Event).where(Event.action == "inbound.discarded"))
        assert event is not None
        assert event.actor == "coordinator:officer@example.org"


def test_every_form_is_refused_without_a_csrf_token(world: World) -> None:
    client = _signed_in(world)
    base = f"/programmes/small-programme/participants/{world.anna}"
    for url, data in (
        (base + "/record", {"text": "1: done"}),
        (base + "/pause", {}),
        (base + "/opt-out", {}),
        (base + "/remind", {"nonce": "abcdefghijk"}),
        (f"/programmes/small-programme/review/{world.held}/discard", {}),
        ("/sign-out", {}),
        ("/language", {"language": "zh_CN"}),
    ):
        response = client.raw.post(url, data=data)
        assert response.status_code == 400, url
        assert "did not come from this site" in response.get_data(as_text=True)
    with world.factory() as session:
        anna = session.get(Participant, world.anna)
        assert anna is not None
        assert anna.state == "active"
    assert client.get("/programmes").status_code == 200  # still signed in


def test_a_hostile_note_is_inert_everywhere_it_shows(world: World) -> None:
    client = _signed_in(world)
    url = f"/programmes/small-programme/participants/{world.wang}"
    client.get(url)
    client.post(url + "/record", {"text": f"2: blocked {HOSTILE}"})
    pages = [
        "/programmes",
        "/programmes/small-programme",
        url,
        f"/programmes/small-programme/participants/{world.anna}",
        f"/programmes/small-programme/messages/{world.reply}",
        f"/programmes/small-programme/messages/{world.held}",
        "/programmes/small-programme/review",
        f"/programmes/small-programme/preview?participant={world.wang}&kind=check_in",
        f"/programmes/small-programme/preview?participant={world.wang}&kind=acknowledgement",
        f"/programmes/small-programme/preview/html?participant={world.wang}&kind=check_in",
    ]
    shown = 0
    for page in pages:
        body = client.get(page).get_data(as_text=True)
        assert HOSTILE not in body, page
        shown += html.escape(HOSTILE, quote=False) in body or html.escape(HOSTILE) in body
    assert shown >= 5  # the note is there, escaped


def test_every_response_carries_the_security_headers(world: World) -> None:
    client = _signed_in(world)
    for url in ("/sign-in", "/programmes", "/programmes/small-programme", "/nowhere"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_the_email_preview_shows_what_would_be_sent_and_sandboxes_its_html(world: World) -> None:
    client = _signed_in(world)
    with world.factory() as session:
        before = len(session.scalars(select(Reminder.id)).all())
    base = "/programmes/small-programme/preview"
    page = client.get(f"{base}?participant={world.anna}&kind=overdue&ref=1").get_data(as_text=True)
    assert "Anna Keller &lt;anna@example.org&gt;" in page
    assert "Pair each city with a peer city" in page
    assert "sandbox" in page
    assert "<iframe" in page
    assert "\r" not in page  # the text as rendered, not with the wire's line ends
    zh = client.get(f"{base}?participant={world.wang}&kind=check_in").get_data(as_text=True)
    assert "试点低排放物流配送区" in zh
    assert "尊敬的王晓明" in zh
    frame = client.get(f"{base}/html?participant={world.anna}&kind=check_in")
    assert frame.headers["Content-Security-Policy"].endswith("sandbox")
    assert "script-src" not in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert b"\r" not in frame.get_data()
    with world.factory() as session:
        assert len(session.scalars(select(Reminder.id)).all()) == before  # nothing planned


def test_error_pages_never_show_a_traceback(world: World) -> None:
    client = _signed_in(world)
    missing = client.get("/programmes/no-such-programme")
    assert missing.status_code == 404
    assert "Traceback" not in missing.get_data(as_text=True)
    world.app.view_functions["programmes.index"] = _crash
    crashed = client.get("/programmes")
    assert crashed.status_code == 500
    body = crashed.get_data(as_text=True)
    assert "Traceback" not in body
    assert "ZeroDivisionError" not in body
    assert "The error has been logged." in body


def _crash() -> str:
    return str(1 / 0)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("sender_mismatch", "It came from an address other than the participant"),
        ("bad_token", "Its reply address does not verify: it answers a reminder from another"),
        ("unmatched", "It answers no reminder of ours."),
        ("too_large", "It is larger than the tracker reads, so nobody has read it."),
        ("unreadable", "Its structure or text could not be read."),
        ("too_complex", "would take too long or too much memory to read"),
    ],
)
def test_the_review_queue_says_why_a_message_was_held_in_plain_words(
    world: World, reason: str, words: str
) -> None:
    with world.factory.begin() as session:
        held = session.get(InboundMessage, world.held)
        assert held is not None
        held.hold_reason = reason
    queue = _signed_in(world).get("/programmes/small-programme/review").get_data(as_text=True)
    why = queue.split("Why it was held", 1)[1].split("</dd>", 1)[0]
    assert words in html.unescape(why)
    assert reason not in queue


def _fail(world: World, participant_id: int, error: str) -> int:
    with world.factory.begin() as session:
        reminder = session.scalars(
            select(Reminder).where(Reminder.participant_id == participant_id).order_by(Reminder.id)
        ).first()
        assert reminder is not None
        reminder.state, reminder.last_error, reminder.attempts = "failed", error, 8
        return reminder.id


def test_a_failed_message_is_shown_in_the_outbox_and_put_back_with_retry(world: World) -> None:
    anna = _fail(world, world.anna, "gave up after 8 attempts: 451 mailbox busy")
    client = _signed_in(world)
    page = client.get("/programmes/small-programme/outbox").get_data(as_text=True)
    assert "gave up after 8 attempts: 451 mailbox busy" in page
    assert "Retry 1 failed message" in page
    assert f'action="/programmes/small-programme/outbox/{anna}/retry"' in page
    response = client.post(f"/programmes/small-programme/outbox/{anna}/retry")
    assert response.status_code == 302
    page = client.get("/programmes/small-programme/outbox").get_data(as_text=True)
    assert "1 message put back in the outbox: it is sent on the next sending pass." in page
    assert "failed message" not in page
    assert f"/outbox/{anna}/retry" not in page
    with world.factory() as session:
        row = session.get(Reminder, anna)
        assert row is not None
        assert (row.state, row.attempts) == ("planned", 0)
        event = session.scalars(select(Event).where(Event.action == "reminder.requeued")).one()
        assert event.actor == "coordinator:officer@example.org"
    # Sent on the next pass.
    sent = send_pass(world.factory, world.clock.moment)
    assert sum("anna@example.org" in str(m["To"]) for m in sent) == 1


def test_retrying_all_failed_messages_puts_back_only_this_programmes(world: World) -> None:
    wang = _fail(world, world.wang, "550 no such user")
    olga = _fail(world, world.olga, "550 no such user")
    client = _signed_in(world)
    client.get("/programmes/small-programme/outbox")
    response = client.post("/programmes/small-programme/outbox/retry-failed")
    assert response.status_code == 302
    with world.factory() as session:
        assert {r.id: r.state for r in session.scalars(select(Reminder))}[wang] == "planned"
        assert {r.id: r.state for r in session.scalars(select(Reminder))}[olga] == "failed"


def test_a_message_that_has_not_failed_is_not_retried(world: World) -> None:
    client = _signed_in(world)
    with world.factory() as session:
        sent = session.scalars(
            select(Reminder).where(Reminder.participant_id == world.anna, Reminder.state == "sent")
        ).first()
        assert sent is not None
    client.get("/programmes/small-programme/outbox")
    client.post(f"/programmes/small-programme/outbox/{sent.id}/retry")
    page = client.get("/programmes/small-programme/outbox").get_data(as_text=True)
    assert f"message {sent.id} is sent, not failed: only failed messages can be retried" in page


def test_a_participants_address_is_changed_from_their_page_and_their_history_stays(
    world: World,
) -> None:
    client = _signed_in(world)
    url = f"/programmes/small-programme/participants/{world.wang}"
    page = client.get(url).get_data(as_text=True)
    assert "Change their address" in page
    response = client.post(f"{url}/change-email", {"email": "Wang.New@Example.cn"})
    assert response.status_code == 302
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert (
        "wang.xiaoming@example.org is now wang.new@example.cn; their history stays with them."
        in page
    )
    assert "wang.new@example.cn" in page
    assert "in progress 60%" in page  # the updates recorded under the old address
    assert "Address changed" in page  # on the timeline


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("anna@example.org", "anna@example.org is already the address of Anna Keller"),
        ("not an address", "the new address: "),
        ("", "Write the participant&#39;s new address."),
    ],
)
def test_a_change_of_address_that_cannot_be_is_refused_and_changes_nothing(
    world: World, address: str, said: str
) -> None:
    client = _signed_in(world)
    url = f"/programmes/small-programme/participants/{world.wang}"
    client.get(url)
    client.post(f"{url}/change-email", {"email": address})
    page = client.get(url).get_data(as_text=True)
    assert said in page
    with world.factory() as session:
        wang = session.get(Participant, world.wang)
        assert wang is not None
        assert wang.email == "wang.xiaoming@example.org"


def test_the_overview_lists_the_questions_participants_asked(world: World) -> None:
    client = _signed_in(world)
    page = client.get("/programmes/small-programme").get_data(as_text=True)
    assert "No participant has asked anything." in page
    # Anna is reminded now and answers with a question.
    url = f"/programmes/small-programme/participants/{world.anna}"
    client.get(url)
    client.post(f"{url}/remind", {"nonce": "question-test-1"})
    (reminder,) = [m for m in send_pass(world.factory, world.clock.moment) if "anna@" in m["To"]]
    ingest(
        reply_to(
            reminder,
            "1: in progress 20%\nCould you send me the peer-city template?",
            message_id="<anna-question@example.org>",
        ),
        session_factory=world.factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=world.clock.moment + timedelta(hours=1),
    )
    page = html.unescape(client.get("/programmes/small-programme").get_data(as_text=True))
    questions = page.split('id="questions"', 1)[1].split("</section>", 1)[0]
    assert "Anna Keller" in questions
    assert "Could you send me the peer-city template?" in questions
    assert "No participant has asked anything." not in page
