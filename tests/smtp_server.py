"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port, collecting mail.

    with SmtpTestServer() as server:
        ...send to server.host, server.port...
        assert server.messages[0].parsed()["Subject"] == "..."

Its behaviour can be changed while it runs, for one test: `mail_reply`,
`rcpt_reply` or `data_reply` answer MAIL FROM / RCPT TO / DATA with a given
reply ("450 4.2.0 Busy", "550 5.1.1 No such user"); `data_delay` makes it
think that many seconds before accepting each message (a slow server);
`drop_before_mail` closes the connection when the next MAIL FROM arrives (an
idle connection the server gave up on); `credentials` (given at start)
require AUTH with that user and password.

`SilentServer` accepts connections and never says a word (not even the
greeting): a server that hangs.

With a `certificate` (tests.tls), it speaks TLS: `tls="starttls"` offers
STARTTLS and refuses mail (and AUTH) before it, `tls="implicit"` is TLS from
the first byte, as on port 465. Each received message says whether it came
over TLS.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

if TYPE_CHECKING:
    from tests.tls import SelfSignedCertificate

TlsMode = Literal["starttls", "implicit"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    peer: object  # the client's (host, port): one per connection
    login: str | None  # the authenticated user, if any
    tls: bool = False  # whether the session was encrypted when the message came

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class _Behaviour:
    mail_reply: str | None = None
    rcpt_reply: str | None = None
    data_reply: str | None = None
    data_delay: float = 0.0
    drop_before_mail: bool = False
    messages: list[ReceivedMessage] = field(default_factory=list)
    sessions: set[object] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler:
    def __init__(self, behaviour: _Behaviour) -> None:
        self._behaviour = behaviour

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # a handler's EHLO hook must record the greeting itself
        with self._behaviour.lock:
            self._behaviour.sessions.add(session.peer)  # a client port: one per connection
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._behaviour.drop_before_mail:
            self._behaviour.drop_before_mail = False
            assert server.transport is not None
            server.transport.close()
            return "421 4.4.2 closing idle connection"
        if self._behaviour.mail_reply is not None:
            return self._behaviour.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._behaviour.rcpt_reply is not None:
            return self._behaviour.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._behaviour.data_delay:
            await asyncio.sleep(self._behaviour.data_delay)
        if self._behaviour.data_reply is not None:
            return self._behaviour.data_reply
        login = session.auth_data  # what the authenticator put there: the user name
        received = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=bytes(envelope.original_content or b""),
            peer=session.peer,
            login=login.decode() if isinstance(login, bytes) else login,
            tls=server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None,
        )
        with self._behaviour.lock:
            self._behaviour.messages.append(received)
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, credentials: Mapping[str, str]) -> None:
        self._credentials = dict(credentials)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self._credentials.get(login) == password:
                return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SmtpTestServer:
    """aiosmtpd's Controller on loopback, as a context manager (or start()/stop())."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        certificate: SelfSignedCertificate | None = None,
        tls: TlsMode = "starttls",
    ) -> None:
        self._behaviour = _Behaviour()
        self.port = free_port(self.host)
        self.tls_mode: TlsMode | None = tls if certificate is not None else None
        smtp_options: dict[str, Any] = {}
        controller_options: dict[str, Any] = {}
        if certificate is not None and tls == "starttls":
            smtp_options = {"tls_context": certificate.server_context(), "require_starttls": True}
        elif certificate is not None:
            controller_options = {"ssl_context": certificate.server_context()}
        if credentials is not None:
            smtp_options.update(
                {
                    "authenticator": _Authenticator(credentials),
                    "auth_required": True,
                    # AUTH only after STARTTLS, as a real server does. Plain-text AUTH
                    # is fine on loopback; aiosmtpd cannot tell that implicit TLS is TLS.
                    "auth_require_tls": self.tls_mode == "starttls",
                }
            )
        self._controller = Controller(
            _Handler(self._behaviour),
            hostname=self.host,
            port=self.port,
            **controller_options,
            **smtp_options,
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._behaviour.lock:
            return list(self._behaviour.messages)

    @property
    def connections(self) -> int:
        """How many SMTP sessions greeted the server with EHLO."""
        with self._behaviour.lock:
            return len(self._behaviour.sessions)

    @property
    def mail_reply(self) -> str | None:
        return self._behaviour.mail_reply

    @mail_reply.setter
    def mail_reply(self, reply: str | None) -> None:
        self._behaviour.mail_reply = reply

    @property
    def data_delay(self) -> float:
        return self._behaviour.data_delay

    @data_delay.setter
    def data_delay(self, seconds: float) -> None:
        self._behaviour.data_delay = seconds

    @property
    def rcpt_reply(self) -> str | None:
        return self._behaviour.rcpt_reply

    @rcpt_reply.setter
    def rcpt_reply(self, reply: str | None) -> None:
        self._behaviour.rcpt_reply = reply

    @property
    def data_reply(self) -> str | None:
        return self._behaviour.data_reply

    @data_reply.setter
    def data_reply(self, reply: str | None) -> None:
        self._behaviour.data_reply = reply

    def drop_connection_before_next_mail(self) -> None:
        """Close the connection when the next MAIL FROM arrives, as an idle timeout would."""
        self._behaviour.drop_before_mail = True


class SilentServer:
    """A TCP server on loopback that accepts connections and never answers."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((self.host, 0))
        self._listener.listen(8)
        self.port = int(self._listener.getsockname()[1])
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed: the test is over
                return
            self._accepted.append(connection)  # held open, never written to

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._listener.close()
        for connection in self._accepted:
            connection.close()
        self._thread.join(timeout=5)
