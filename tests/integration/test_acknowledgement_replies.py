"""A reply to the acknowledgement corrects what was recorded, like a reply to a reminder.

End to end on real parts: `send-due` over SMTP, the participant's reply
through `tracker ingest` (an MTA pipe) or `tracker fetch-mail` (Dovecot), the
acknowledgement over SMTP, the correction the same way, `tracker status`.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli import run_tracker
from tests.dovecot import DovecotServer
from tests.mailflow import reply_to
from tests.smtp_server import SmtpTestServer

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
CHECK_IN = "2019-06-24T08:00:00+00:00"
WANG, ANNA = "wang.xiaoming@example.org", "anna@example.org"


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def env(tracker_env: dict[str, str], smtp: SmtpTestServer) -> dict[str, str]:
    env = {**tracker_env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    assert run_tracker("import", str(SMALL), env=env).code == 0
    assert run_tracker("send-due", "--now", CHECK_IN, env=env).code == 0
    return env


def last_to(smtp: SmtpTestServer, address: str, kind: str) -> EmailMessage:
    for received in reversed(smtp.messages):
        message = received.parsed()
        if address in str(message["To"]).lower() and message["X-Tracker-Kind"] == kind:
            return message
    raise AssertionError(f"no {kind} was sent to {address}")


def status_of(env: dict[str, str], address: str) -> dict[str, dict[str, object]]:
    document = run_tracker("status", "--json", env=env).json()
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == address)
    return {a["ref"]: a for a in person["actions"]}


def body(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("who", "first", "correction", "recorded"),
    [
        (ANNA, "1: in progress 60%", "Correction: 1: in progress 40%", "in progress 40%"),
        (WANG, "2：进行中 60%", "更正：2：进行中 40%", "进行中 40%"),
    ],
)
def test_a_correction_piped_as_a_reply_to_the_acknowledgement_is_applied(
    env: dict[str, str],
    smtp: SmtpTestServer,
    who: str,
    first: str,
    correction: str,
    recorded: str,
) -> None:
    reminder = last_to(smtp, who, "check_in")
    taken = run_tracker(
        "ingest",
        "--now",
        "2019-06-24T09:00:00+00:00",
        "--json",
        env=env,
        input=reply_to(reminder, first),
    )
    assert taken.json()["state"] == "processed"
    assert run_tracker("send-due", "--now", "2019-06-24T09:01:00+00:00", env=env).code == 0
    ack = last_to(smtp, who, "acknowledgement")
    assert ack["Reply-To"] != reminder["Reply-To"]  # its own token
    # The participant answers the acknowledgement; their client quotes it below.
    corrected = run_tracker(
        "ingest",
        "--now",
        "2019-06-24T10:00:00+00:00",
        "--json",
        env=env,
        input=reply_to(ack, correction, message_id="<correction@example.org>"),
    )
    document = corrected.json()
    assert (document["state"], document["participant"]) == ("processed", who)
    assert document["reminder_id"] != taken.json()["reminder_id"]  # matched to the acknowledgement
    ref = first.split(":")[0].split("：")[0]
    assert [(u["ref"], u["percent"]) for u in document["updates"]] == [(ref, 40)]
    state = status_of(env, who)[ref]
    assert (state["status"], state["percent"]) == ("in_progress", 40)
    # The correction is acknowledged in turn, echoing the corrected line.
    assert run_tracker("send-due", "--now", "2019-06-24T10:01:00+00:00", env=env).code == 0
    second = last_to(smtp, who, "acknowledgement")
    assert second["In-Reply-To"] == "<correction@example.org>"
    assert recorded in body(second)


def test_a_correction_without_the_token_is_matched_by_the_acknowledgements_message_id(
    env: dict[str, str], smtp: SmtpTestServer
) -> None:
    reminder = last_to(smtp, ANNA, "check_in")
    run_tracker(
        "ingest", "--now", "2019-06-24T09:00:00+00:00", env=env, input=reply_to(reminder, "1: done")
    )
    run_tracker("send-due", "--now", "2019-06-24T09:01:00+00:00", env=env)
    ack = last_to(smtp, ANNA, "acknowledgement")
    # Sent to the plain address (the token dropped), but threaded under the acknowledgement.
    raw = reply_to(
        ack,
        "Correction: 1: in progress 90%",
        to="followup@example.org",
        message_id="<c2@example.org>",
    )
    result = run_tracker(
        "ingest", "--now", "2019-06-24T10:00:00+00:00", "--json", env=env, input=raw
    ).json()
    assert (result["state"], result["participant"]) == ("processed", ANNA)
    assert status_of(env, ANNA)["1"]["percent"] == 90


def test_a_correction_fetched_from_the_mailbox_is_applied(
    env: dict[str, str], smtp: SmtpTestServer, dovecot: DovecotServer
) -> None:
    imap_env = {**env, "TRACKER_IMAP_URL": dovecot.url}
    reminder = last_to(smtp, ANNA, "check_in")
    dovecot.deliver(reply_to(reminder, "1: in progress 60%"))
    assert run_tracker("fetch-mail", "--now", "2019-06-24T09:00:00+00:00", env=imap_env).code == 0
    run_tracker("send-due", "--now", "2019-06-24T09:01:00+00:00", env=env)
    ack = last_to(smtp, ANNA, "acknowledgement")
    dovecot.deliver(reply_to(ack, "Correction: 1: in progress 40%", message_id="<c3@example.org>"))
    fetched = run_tracker(
        "fetch-mail", "--now", "2019-06-24T10:00:00+00:00", "--json", env=imap_env
    ).json()
    assert [(p["state"], p["participant"]) for p in fetched["processed"]] == [("processed", ANNA)]
    state = status_of(env, ANNA)["1"]
    assert (state["status"], state["percent"]) == ("in_progress", 40)
