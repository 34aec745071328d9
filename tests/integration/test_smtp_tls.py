"""Sending over TLS: STARTTLS with AUTH and implicit TLS, against aiosmtpd on loopback.

The server presents a self-signed certificate for 127.0.0.1 made for the test.
In this process the mailer is given a context that trusts it; the real
`tracker send-due` trusts it the way an operator would make it, through
SSL_CERT_FILE. A certificate the client does not trust stops sending with a
clear, permanent error, and the reminder waits in the outbox.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.integration.sender_helpers import load_programme, outbox, programme_text
from tests.smtp_server import SmtpTestServer, TlsMode
from tests.tls import SelfSignedCertificate, make_certificate
from tracker.config import parse_smtp_url
from tracker.mail.outgoing import OutgoingMail, SmtpConfigurationError
from tracker.mail.smtp import SmtpMailer

USER = "tracker"
PASSWORD = "s3cret-Pa55"
MODES: list[TlsMode] = ["starttls", "implicit"]

# aiosmtpd warns when AUTH does not require TLS; with implicit TLS it cannot tell it is TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def certificate(tmp_path: Path) -> SelfSignedCertificate:
    """The certificate the test server presents."""
    return make_certificate(tmp_path / "server-cert")


@pytest.fixture
def stranger(tmp_path: Path) -> SelfSignedCertificate:
    """Another self-signed certificate for 127.0.0.1: trusting it trusts nothing the server has."""
    return make_certificate(tmp_path / "other-cert")


@pytest.fixture(params=MODES)
def tls_server(
    request: pytest.FixtureRequest, certificate: SelfSignedCertificate
) -> Iterator[SmtpTestServer]:
    """A TLS SMTP server that requires AUTH, in each of the two modes."""
    mode: TlsMode = request.param
    with SmtpTestServer(credentials={USER: PASSWORD}, certificate=certificate, tls=mode) as server:
        yield server


def url_for(server: SmtpTestServer) -> str:
    """The TRACKER_SMTP_URL an operator writes for this server."""
    where = f"{USER}:{PASSWORD}@{server.host}:{server.port}"
    return f"smtps://{where}" if server.tls_mode == "implicit" else f"smtp://{where}?starttls=true"


def a_message() -> OutgoingMail:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Programme Office <followup@example.org>"
    message["To"] = "Wang Wei <wang.wei@example.cn>"
    message["Subject"] = "Progress on your action plan"
    message["Message-ID"] = "<tls-test-1@example.org>"
    message.set_content("1: done\n")
    return OutgoingMail(
        raw=message.as_bytes(),
        sender="followup@example.org",
        recipients=("wang.wei@example.cn",),
        message_id="<tls-test-1@example.org>",
    )


def mailer(server: SmtpTestServer, context: ssl.SSLContext | None) -> SmtpMailer:
    return SmtpMailer(
        parse_smtp_url(url_for(server)), rate_per_minute=None, timeout=10, ssl_context=context
    )


# -- SmtpMailer in this process -------------------------------------------------------


def test_the_mailer_authenticates_and_delivers_over_tls_to_a_trusted_server(
    tls_server: SmtpTestServer, certificate: SelfSignedCertificate
) -> None:
    with mailer(tls_server, certificate.client_context()) as smtp:
        smtp.send(a_message())
    (received,) = tls_server.messages
    assert received.tls
    assert received.login == USER
    assert received.rcpt_tos == ("wang.wei@example.cn",)
    assert received.parsed()["Message-ID"] == "<tls-test-1@example.org>"


def test_an_untrusted_certificate_is_a_configuration_error_naming_the_certificate(
    tls_server: SmtpTestServer, stranger: SelfSignedCertificate
) -> None:
    with (
        pytest.raises(SmtpConfigurationError) as caught,
        mailer(tls_server, stranger.client_context()) as smtp,
    ):
        smtp.send(a_message())
    error = caught.value
    # About the settings, not this message: the outbox keeps it and the pass stops.
    assert error.connection_level
    assert error.code is None
    text = str(error)
    assert text.startswith(f"TRACKER_SMTP_URL: SMTP {tls_server.host}:{tls_server.port}: ")
    assert "TLS certificate is not trusted (self-signed certificate)" in text
    assert PASSWORD not in text
    assert tls_server.messages == []


def test_a_certificate_for_another_name_is_refused_like_an_untrusted_one(
    tls_server: SmtpTestServer, certificate: SelfSignedCertificate
) -> None:
    # Trusted issuer, wrong name: the certificate is for 127.0.0.1, we ask for localhost.
    settings = replace(parse_smtp_url(url_for(tls_server)), host="localhost")
    smtp = SmtpMailer(
        settings, rate_per_minute=None, timeout=10, ssl_context=certificate.client_context()
    )
    with pytest.raises(SmtpConfigurationError) as caught, smtp:
        smtp.send(a_message())
    assert caught.value.connection_level
    assert "TLS certificate is not trusted (Hostname mismatch" in str(caught.value)
    assert tls_server.messages == []


# -- the real `tracker send-due`, trusting the certificate through SSL_CERT_FILE ------

FIRST = date(2019, 6, 24)
DUE = datetime(2019, 6, 24, 9, 31, tzinfo=UTC)


def send_due(env: dict[str, str], ca_file: Path, now: datetime) -> tuple[int, str, str]:
    result = run_tracker(
        "send-due", "--now", now.isoformat(), env={**env, "SSL_CERT_FILE": str(ca_file)}
    )
    return result.code, result.stdout, result.stderr


@pytest.fixture
def one_due_reminder(session_factory: sessionmaker[Session]) -> None:
    """A programme whose single participant has a check-in due at DUE."""
    text = programme_text(1, first=FIRST, at="09:30", timezone="UTC", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))


@pytest.mark.usefixtures("one_due_reminder")
def test_send_due_delivers_over_tls_when_ssl_cert_file_trusts_the_server(
    tracker_env: dict[str, str],
    tls_server: SmtpTestServer,
    certificate: SelfSignedCertificate,
) -> None:
    env = {**tracker_env, "TRACKER_SMTP_URL": url_for(tls_server)}
    code, stdout, stderr = send_due(env, certificate.cert_path, DUE)
    assert code == 0, stderr
    assert "1 sent" in stdout
    (received,) = tls_server.messages
    assert received.tls
    assert received.login == USER
    assert received.rcpt_tos == ("person0@example.org",)


@pytest.mark.usefixtures("one_due_reminder")
def test_send_due_with_an_untrusted_certificate_says_so_in_one_line_and_keeps_the_reminder(
    tracker_env: dict[str, str],
    tls_server: SmtpTestServer,
    certificate: SelfSignedCertificate,
    stranger: SelfSignedCertificate,
    session_factory: sessionmaker[Session],
) -> None:
    env = {**tracker_env, "TRACKER_SMTP_URL": url_for(tls_server)}

    code, stdout, stderr = send_due(env, stranger.cert_path, DUE)

    assert code == 1
    output = stdout + stderr
    assert "Traceback" not in output
    assert PASSWORD not in output
    (reason,) = stderr.strip().splitlines()
    assert reason.startswith("error: TRACKER_SMTP_URL: ")
    assert "TLS certificate is not trusted (self-signed certificate)" in reason
    assert tls_server.messages == []
    (row,) = outbox(session_factory)
    # Not failed, and no attempt counted: nothing was wrong with the message.
    assert (row.state, row.attempts) == ("planned", 0)

    # Once the operator trusts the certificate, the next pass sends it at once.
    code, stdout, stderr = send_due(env, certificate.cert_path, DUE + timedelta(seconds=1))
    assert code == 0, stderr
    (received,) = tls_server.messages
    assert received.tls
    assert received.rcpt_tos == ("person0@example.org",)
