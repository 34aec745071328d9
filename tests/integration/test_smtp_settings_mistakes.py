"""Settings mistakes stop `tracker send-due` at once, in one line naming the setting.

A server that wants AUTH, STARTTLS against a server without it, smtps:// against
a plain port, a wrong password: each fails the same way every time, so it is a
configuration error, not a temporary failure. The pass stops, exits 1, and the
reminders stay planned with no attempt counted; fixing the setting sends them.
A server that never answers is a temporary failure, said as a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.integration.sender_helpers import load_programme, outbox, programme_text
from tests.smtp_server import SilentServer, SmtpTestServer

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)
USER, PASSWORD = "tracker", "s3cret-Pa55"


@pytest.fixture
def three_due(session_factory: sessionmaker[Session]) -> None:
    text = programme_text(3, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))


@pytest.fixture
def plain() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def wants_auth() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(credentials={USER: PASSWORD}) as server:
        yield server


def mistaken_urls(plain: SmtpTestServer, wants_auth: SmtpTestServer) -> dict[str, tuple[str, str]]:
    """Each mistake: the URL an operator wrote, and words the error must say."""
    auth = f"{wants_auth.host}:{wants_auth.port}"
    here = f"{plain.host}:{plain.port}"
    return {
        "no credentials for a server that wants AUTH": (
            f"smtp://{auth}",
            "wants authentication or TLS before mail (530",
        ),
        "a wrong password": (
            f"smtp://{USER}:wrong-{PASSWORD}@{auth}",
            "refused the user name or password (535",
        ),
        "STARTTLS against a server without it": (
            f"smtp://{here}?starttls=true",
            "STARTTLS extension not supported by server",
        ),
        "smtps:// against a plain port": (
            f"smtps://{here}",
            "does not speak TLS from the start",
        ),
    }


@pytest.mark.usefixtures("three_due")
@pytest.mark.parametrize(
    "mistake",
    [
        "no credentials for a server that wants AUTH",
        "a wrong password",
        "STARTTLS against a server without it",
        "smtps:// against a plain port",
    ],
)
def test_a_settings_mistake_stops_the_pass_in_one_line_and_counts_no_attempt(
    tracker_env: dict[str, str],
    session_factory: sessionmaker[Session],
    plain: SmtpTestServer,
    wants_auth: SmtpTestServer,
    mistake: str,
) -> None:
    url, words = mistaken_urls(plain, wants_auth)[mistake]
    env = {**tracker_env, "TRACKER_SMTP_URL": url}

    result = run_tracker("send-due", "--now", DUE.isoformat(), env=env)

    assert result.code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: TRACKER_SMTP_URL: SMTP 127.0.0.1:"), line
    assert words in line
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert plain.messages == []
    assert wants_auth.messages == []
    after = outbox(session_factory)
    assert len(after) == 3
    assert [(r.state, r.attempts, r.last_error) for r in after] == [("planned", 0, None)] * 3
    # Not backed off either: due at 10:00 in Shanghai, still due then.
    assert {r.next_attempt_at for r in after} == {datetime(2019, 7, 1, 2, 0, tzinfo=UTC)}


@pytest.mark.usefixtures("three_due")
def test_once_the_setting_is_fixed_the_next_pass_sends_everything(
    tracker_env: dict[str, str],
    session_factory: sessionmaker[Session],
    plain: SmtpTestServer,
    wants_auth: SmtpTestServer,
) -> None:
    url, words = mistaken_urls(plain, wants_auth)["a wrong password"]
    env = {**tracker_env, "TRACKER_SMTP_URL": url}
    # Under --json: one document saying so, and the same exit code.
    as_json = run_tracker("send-due", "--now", DUE.isoformat(), "--json", env=env)
    assert as_json.code == 1
    assert words in as_json.json()["configuration_error"]
    assert as_json.json()["sent"] == []
    # Fixed, the next pass sends all three at once: nothing was held against them.
    fixed = f"smtp://{USER}:{PASSWORD}@{wants_auth.host}:{wants_auth.port}"
    ok = run_tracker("send-due", "--now", DUE.isoformat(), env={**env, "TRACKER_SMTP_URL": fixed})
    assert ok.code == 0, ok.stderr
    assert len(wants_auth.messages) == 3
    assert {r.state for r in outbox(session_factory)} == {"sent"}


@pytest.mark.usefixtures("three_due")
def test_a_refused_sender_names_tracker_from(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session], plain: SmtpTestServer
) -> None:
    plain.mail_reply = "553 5.7.1 <followup@example.org>: Sender address rejected: not owned"
    env = {**tracker_env, "TRACKER_SMTP_URL": f"smtp://{plain.host}:{plain.port}"}
    result = run_tracker("send-due", "--now", DUE.isoformat(), env=env)
    assert result.code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: TRACKER_FROM: SMTP 127.0.0.1:")
    assert "refuses the sender followup@example.org" in line
    assert [(r.state, r.attempts) for r in outbox(session_factory)] == [("planned", 0)] * 3


@pytest.mark.usefixtures("three_due")
@pytest.mark.parametrize("seconds", ["1", "0.5"])
def test_a_server_that_never_answers_is_reported_as_a_timeout_after_the_setting(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session], seconds: str
) -> None:
    with SilentServer() as silent:
        env = {
            **tracker_env,
            "TRACKER_SMTP_URL": f"smtp://{silent.host}:{silent.port}",
            "TRACKER_SMTP_TIMEOUT": seconds,
        }
        result = run_tracker("send-due", "--now", DUE.isoformat(), env=env)
    assert result.code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"error: SMTP {silent.host}:{silent.port}: no answer within {float(seconds):g} s: "
        "timed out (the limit is TRACKER_SMTP_TIMEOUT); the rest waits for a later pass"
    )
    # A timeout may pass: it is retried later, like any temporary failure.
    rows = outbox(session_factory)
    assert sorted(r.state for r in rows) == ["planned"] * 3
    assert sorted(r.attempts for r in rows) == [0, 0, 1]


def test_a_bad_timeout_setting_is_refused_at_start(tracker_env: dict[str, str]) -> None:
    for value in ("soon", "0", "-3", "nan", "99999"):
        result = run_tracker("send-due", env={**tracker_env, "TRACKER_SMTP_TIMEOUT": value})
        assert result.code == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: TRACKER_SMTP_TIMEOUT: "), line
