"""SmtpMailer against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.smtp_server import SilentServer, SmtpTestServer, free_port
from tracker.config import SmtpSettings
from tracker.core.tokens import make_reply_token
from tracker.mail.outgoing import (
    Mailbox,
    OutgoingMail,
    PermanentMailError,
    SmtpConfigurationError,
    TemporaryMailError,
    build_message,
    make_message_id,
    reply_address,
    unsubscribe_mailto,
)
from tracker.mail.render import RenderedMail
from tracker.mail.smtp import SmtpMailer

PASSWORD = "s3cret-Pa55"

# AUTH without TLS is deliberate here: loopback, test credentials.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as running:
        yield running


@pytest.fixture
def auth_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(credentials={"tracker": PASSWORD}) as running:
        yield running


class FakeClock:
    """monotonic() and sleep() for the rate limit: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def settings_for(server: SmtpTestServer, **changes: object) -> SmtpSettings:
    fields: dict[str, object] = {"host": server.host, "port": server.port, "security": "plain"}
    fields.update(changes)
    return SmtpSettings(**fields)  # type: ignore[arg-type]


def mailer_for(settings: SmtpSettings, clock: FakeClock | None = None) -> SmtpMailer:
    clock = clock or FakeClock()
    return SmtpMailer(
        settings,
        rate_per_minute=60,
        timeout=5,
        local_hostname="tracker.test",
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )


def message(number: int, *, to_address: str = "wang.wei@example.cn") -> OutgoingMail:
    token = make_reply_token(number, "test-secret", nonce=None)
    rendered = RenderedMail(
        subject=f"【城市气候变化政策】行动计划落实情况了解 {number}",
        text=f"尊敬的王伟：\n\n    {number}：已完成\n",
        html=f"<p>尊敬的王伟：</p><pre>{number}：已完成</pre>\n",
        language="zh-CN",
    )
    return build_message(
        rendered=rendered,
        from_header="项目组 <followup@example.org>",
        to=[Mailbox(name="王伟", address=to_address)],
        reply_to=reply_address("followup+{token}@example.org", token),
        message_id=make_message_id(token, "example.org"),
        list_unsubscribe_uris=[unsubscribe_mailto("followup@example.org")],
        date=datetime(2019, 6, 23, 1, 30, tzinfo=UTC),
    )


def test_a_batch_goes_over_one_connection_and_arrives_intact(server: SmtpTestServer) -> None:
    clock = FakeClock()
    with mailer_for(settings_for(server), clock) as mailer:
        for number in range(1, 6):
            mailer.send(message(number))
        assert mailer.connections_opened == 1
    assert server.connections == 1
    received = server.messages
    assert len(received) == 5
    assert len({m.peer for m in received}) == 1
    first = received[0]
    assert first.mail_from == "followup@example.org"
    assert first.rcpt_tos == ("wang.wei@example.cn",)
    parsed = first.parsed()
    assert parsed["Subject"] == "【城市气候变化政策】行动计划落实情况了解 1"
    assert parsed["To"].addresses[0].display_name == "王伟"
    assert parsed["From"].addresses[0].display_name == "项目组"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"] == make_message_id(
        make_reply_token(1, "test-secret", nonce=None), "example.org"
    )
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "1：已完成" in text.get_content()
    assert "<pre>1：已完成</pre>" in html.get_content()
    # 60 a minute: one second between starts, slept on the fake clock only.
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0]


def test_rate_does_not_sleep_when_sending_is_already_slow_enough(server: SmtpTestServer) -> None:
    clock = FakeClock()
    with mailer_for(settings_for(server), clock) as mailer:
        mailer.send(message(1))
        clock.now += 5
        mailer.send(message(2))
    assert clock.sleeps == []


def test_rcpt_4xx_is_temporary_and_the_connection_stays_usable(server: SmtpTestServer) -> None:
    with mailer_for(settings_for(server)) as mailer:
        server.rcpt_reply = "450 4.2.1 Mailbox busy, try later"
        with pytest.raises(TemporaryMailError) as caught:
            mailer.send(message(1))
        assert caught.value.code == 450
        assert not caught.value.connection_level
        assert "Mailbox busy" in str(caught.value)
        server.rcpt_reply = None
        mailer.send(message(2))
    assert len(server.messages) == 1
    assert server.connections == 1


def test_rcpt_5xx_is_permanent(server: SmtpTestServer) -> None:
    server.rcpt_reply = "550 5.1.1 No such user"
    with mailer_for(settings_for(server)) as mailer, pytest.raises(PermanentMailError) as caught:
        mailer.send(message(1))
    assert caught.value.code == 550
    assert not caught.value.connection_level
    assert server.messages == []


def test_data_4xx_is_temporary_and_5xx_permanent(server: SmtpTestServer) -> None:
    with mailer_for(settings_for(server)) as mailer:
        server.data_reply = "451 4.3.0 Local error, try again"
        with pytest.raises(TemporaryMailError) as temporary:
            mailer.send(message(1))
        assert temporary.value.code == 451
        server.data_reply = "554 5.7.1 Rejected as spam"
        with pytest.raises(PermanentMailError) as permanent:
            mailer.send(message(2))
        assert permanent.value.code == 554
    assert server.messages == []


def test_a_dropped_connection_is_reopened_once(server: SmtpTestServer) -> None:
    with mailer_for(settings_for(server)) as mailer:
        mailer.send(message(1))
        server.drop_connection_before_next_mail()
        mailer.send(message(2))
        assert mailer.connections_opened == 2
    assert [m.parsed()["Subject"][-1] for m in server.messages] == ["1", "2"]
    assert server.connections == 2


def test_connection_refused_is_temporary() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="plain")
    with mailer_for(settings) as mailer, pytest.raises(TemporaryMailError) as caught:
        mailer.send(message(1))
    assert caught.value.connection_level
    assert caught.value.code is None


def test_auth_with_the_right_password_sends(auth_server: SmtpTestServer) -> None:
    settings = settings_for(auth_server, username="tracker", password=PASSWORD)
    with mailer_for(settings) as mailer:
        mailer.send(message(1))
        mailer.send(message(2))
    assert [m.login for m in auth_server.messages] == ["tracker", "tracker"]


def test_a_wrong_password_is_a_configuration_error_that_never_shows_the_password(
    auth_server: SmtpTestServer,
) -> None:
    settings = settings_for(auth_server, username="tracker", password="wrong-" + PASSWORD)
    with mailer_for(settings) as mailer, pytest.raises(SmtpConfigurationError) as caught:
        mailer.send(message(1))
    assert caught.value.code == 535
    assert caught.value.setting == "TRACKER_SMTP_URL"
    assert str(caught.value).startswith("TRACKER_SMTP_URL: ")
    assert "refused the user name or password" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)
    assert PASSWORD not in repr(settings)
    assert auth_server.messages == []


def test_sending_without_auth_to_a_server_that_requires_it_is_a_configuration_error(
    auth_server: SmtpTestServer,
) -> None:
    with (
        mailer_for(settings_for(auth_server)) as mailer,
        pytest.raises(SmtpConfigurationError) as caught,
    ):
        mailer.send(message(1))
    assert caught.value.code == 530
    assert str(caught.value).startswith("TRACKER_SMTP_URL: ")
    assert "add user:password to the URL" in str(caught.value)


def test_starttls_against_a_server_without_it_is_a_configuration_error(
    server: SmtpTestServer,
) -> None:
    settings = settings_for(server, security="starttls")
    with mailer_for(settings) as mailer, pytest.raises(SmtpConfigurationError) as caught:
        mailer.send(message(1))
    assert str(caught.value).startswith("TRACKER_SMTP_URL: ")
    assert "STARTTLS" in str(caught.value)


def test_smtps_against_a_plain_port_is_a_configuration_error(server: SmtpTestServer) -> None:
    settings = settings_for(server, security="ssl")
    with mailer_for(settings) as mailer, pytest.raises(SmtpConfigurationError) as caught:
        mailer.send(message(1))
    assert str(caught.value).startswith("TRACKER_SMTP_URL: ")
    assert "does not speak TLS from the start" in str(caught.value)


@pytest.mark.parametrize(
    "reply",
    [
        "554 5.7.1 <wang.wei@example.cn>: Relay access denied",
        "550 5.7.1 Relaying not permitted",
        "550 5.7.1 relay not allowed",
    ],
)
def test_a_refused_relay_is_a_configuration_error(server: SmtpTestServer, reply: str) -> None:
    server.rcpt_reply = reply
    with (
        mailer_for(settings_for(server)) as mailer,
        pytest.raises(SmtpConfigurationError) as caught,
    ):
        mailer.send(message(1))
    assert caught.value.setting == "TRACKER_SMTP_URL"
    assert "will not relay to wang.wei@example.cn" in str(caught.value)


def test_a_refused_sender_is_a_configuration_error_naming_the_from_setting(
    server: SmtpTestServer,
) -> None:
    server.mail_reply = "553 5.7.1 Sender address rejected: not owned by user"
    with (
        mailer_for(settings_for(server)) as mailer,
        pytest.raises(SmtpConfigurationError) as caught,
    ):
        mailer.send(message(1))
    assert caught.value.setting == "TRACKER_FROM"
    assert str(caught.value).startswith("TRACKER_FROM: ")
    assert "refuses the sender followup@example.org" in str(caught.value)


def test_a_busy_sender_check_is_temporary_not_a_configuration_error(
    server: SmtpTestServer,
) -> None:
    server.mail_reply = "451 4.3.0 Sender check unavailable, try later"
    with mailer_for(settings_for(server)) as mailer, pytest.raises(TemporaryMailError) as caught:
        mailer.send(message(1))
    assert caught.value.connection_level


@pytest.mark.parametrize("timeout", [0.3, 1.0])
def test_a_server_that_never_answers_is_reported_as_timed_out_after_the_limit(
    timeout: float,
) -> None:
    with SilentServer() as silent:
        settings = SmtpSettings(host=silent.host, port=silent.port, security="plain")
        mailer = SmtpMailer(settings, rate_per_minute=None, timeout=timeout)
        with mailer, pytest.raises(TemporaryMailError) as caught:
            mailer.send(message(1))
    error = caught.value
    assert error.connection_level
    assert str(error) == (
        f"SMTP {silent.host}:{silent.port}: no answer within {timeout:g} s: timed out "
        "(the limit is TRACKER_SMTP_TIMEOUT)"
    )
    assert "closed the connection" not in str(error)
