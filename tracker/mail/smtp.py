"""The SMTP Mailer: one connection per batch, a send rate, our own error classes.

A batch opens the connection on its first message and keeps it for the rest
(TLS handshakes and AUTH cost more than the messages). A server may drop an
idle connection between two messages; the mailer then reconnects once and
sends the message again. Every failure leaves as one of our errors carrying
the SMTP code, and never the password:

- SmtpConfigurationError for a settings mistake, which fails the same way
  every time (a server that wants AUTH, STARTTLS it does not offer, smtps://
  against a plain port, a wrong password, an untrusted certificate, a
  refused sender or relay): its message names the setting to fix;
- PermanentMailError for a 5xx reply about this message;
- TemporaryMailError for the rest: 4xx, refused or dropped connections, and
  a server that does not answer within the timeout (said as such, with the
  limit and its setting).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Self

from tracker.mail.outgoing import (
    MailError,
    OutgoingMail,
    PermanentMailError,
    SmtpConfigurationError,
    TemporaryMailError,
)

if TYPE_CHECKING:
    from tracker.config import SmtpSettings

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
URL_SETTING = "TRACKER_SMTP_URL"
FROM_SETTING = "TRACKER_FROM"
TIMEOUT_SETTING = "TRACKER_SMTP_TIMEOUT"
# A recipient refused because we may not relay: the server wants AUTH first.
_RELAY_DENIED = re.compile(r"relay(ing)? (access )?(denied|not permitted|not allowed)", re.I)


class SmtpMailer:
    """Sends messages over SMTP (plain, STARTTLS or implicit TLS), with AUTH when configured.

    Use as a context manager around a batch; the connection opens on the first
    `send` and closes on exit. `rate_per_minute` spaces the messages out
    (None: no limit); `sleep` and `monotonic` are injectable so tests do not
    wait for real.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        rate_per_minute: float | None = 60,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_minute is not None and rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive (or None for no limit)")
        self._settings = settings
        self._interval = 60.0 / rate_per_minute if rate_per_minute else 0.0
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._sleep = sleep
        self._monotonic = monotonic
        self._connection: smtplib.SMTP | None = None
        self._last_start: float | None = None
        self.connections_opened = 0  # how many times this mailer connected (for logs and tests)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, message: OutgoingMail) -> None:
        """Send `message`'s bytes to its envelope; raise TemporaryMailError or PermanentMailError.

        1. Wait until the rate allows the next message.
        2. Connect if there is no open connection.
        3. Send. If a reused connection turns out to be closed, reconnect and
           send once more; a fresh connection that fails is an error at once.
        """
        self._wait_for_rate_slot()
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connection or self._open()
            try:
                refused = connection.sendmail(message.sender, list(message.recipients), message.raw)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._discard_connection()
                # An idle connection the server closed: reconnect once. Not after a
                # timeout: the server is there but silent, and waiting again would
                # double the wait.
                if reused and attempt == 1 and not _timed_out(exc):
                    logger.info(
                        "smtp connection was closed; reconnecting",
                        extra={"action": "smtp_reconnect"},
                    )
                    continue
                raise self._error(exc, connection_level=True) from exc
            except (smtplib.SMTPException, OSError) as exc:
                error = self._error(exc, connection_level=False)
                if error.connection_level:
                    self._discard_connection()
                raise error from exc
            break
        if refused:
            # Some recipients took it, so it must not be sent again; say who did not.
            logger.warning(
                "smtp refused some recipients: %s",
                ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in refused.items()),
                extra={"action": "smtp_partial_refusal", "message_id": message.message_id},
            )
        logger.info(
            "smtp message sent",
            extra={"action": "smtp_send", "message_id": message.message_id},
        )

    def close(self) -> None:
        """Say goodbye to the server and close the connection (never raises)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _wait_for_rate_slot(self) -> None:
        now = self._monotonic()
        if self._interval and self._last_start is not None:
            wait = self._last_start + self._interval - now
            if wait > 0:
                self._sleep(wait)
                now = self._monotonic()
        self._last_start = now

    def _open(self) -> smtplib.SMTP:
        settings = self._settings
        connection: smtplib.SMTP
        # The host goes to the constructor, which connects: smtplib takes the name
        # that TLS verifies (server_hostname) from there, never from connect().
        try:
            if settings.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=self._ssl_context or ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(
                    settings.host,
                    settings.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                )
        except (smtplib.SMTPException, OSError) as exc:  # it closes its socket itself
            raise self._error(exc, connection_level=True) from exc
        try:
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=self._ssl_context or ssl.create_default_context())
                connection.ehlo()
            if settings.username:
                connection.login(settings.username, settings.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            connection.close()
            raise self._error(exc, connection_level=True) from exc
        self._connection = connection
        self.connections_opened += 1
        logger.info(
            "smtp connected to %s:%s (%s)",
            settings.host,
            settings.port,
            settings.security,
            extra={"action": "smtp_connect"},
        )
        return connection

    def _discard_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _error(self, exc: BaseException, *, connection_level: bool) -> MailError:
        """Our error for an smtplib or socket failure: a settings mistake, or temporary
        or permanent with its SMTP code."""
        configuration = self._configuration_error(exc)
        if configuration is not None:
            return configuration
        code: int | None = None
        detail: str
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            # Every recipient was refused; the first one's reply speaks for them.
            recipient, (code, reply) = next(iter(exc.recipients.items()))
            detail = f"recipient {recipient} refused: {_text(reply)}"
        elif isinstance(exc, smtplib.SMTPSenderRefused):
            # Every message has the same envelope sender: the batch fails alike.
            code, connection_level = exc.smtp_code, True
            detail = f"sender {exc.sender} refused: {_text(exc.smtp_error)}"
        elif isinstance(exc, smtplib.SMTPResponseException):
            code = exc.smtp_code
            detail = _text(exc.smtp_error)
        elif _timed_out(exc):
            connection_level = True
            detail = (
                f"no answer within {self._timeout:g} s: timed out (the limit is {TIMEOUT_SETTING})"
            )
        elif isinstance(exc, smtplib.SMTPServerDisconnected):
            detail = "the server closed the connection"
        else:
            detail = str(exc) or type(exc).__name__
        if code == 421:  # "service not available, closing channel"
            connection_level = True
        message = f"{self._where()}: {f'{code} ' if code else ''}{self._redact(detail)}"
        if code is not None and 500 <= code < 600:
            return PermanentMailError(message, code=code, connection_level=connection_level)
        return TemporaryMailError(message, code=code, connection_level=connection_level)

    def _configuration_error(self, exc: BaseException) -> SmtpConfigurationError | None:
        """The settings mistake `exc` reveals, if it is one: the same every time."""
        where, settings = self._where(), self._settings
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return SmtpConfigurationError(
                f"{URL_SETTING}: {where} refused the user name or password "
                f"({exc.smtp_code} {self._redact(_text(exc.smtp_error))})",
                setting=URL_SETTING,
                code=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code == 530:
            # "Authentication required" or "Must issue a STARTTLS command first".
            wants = _text(exc.smtp_error)
            hint = "add user:password to the URL" if not settings.username else "use TLS"
            return SmtpConfigurationError(
                f"{URL_SETTING}: {where} wants authentication or TLS before mail "
                f"(530 {wants}); {hint}",
                setting=URL_SETTING,
                code=530,
            )
        if isinstance(exc, smtplib.SMTPSenderRefused) and 500 <= exc.smtp_code < 600:
            return SmtpConfigurationError(
                f"{FROM_SETTING}: {where} refuses the sender {exc.sender} "
                f"({exc.smtp_code} {_text(exc.smtp_error)})",
                setting=FROM_SETTING,
                code=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            recipient, (code, reply) = next(iter(exc.recipients.items()))
            if _RELAY_DENIED.search(_text(reply)):
                return SmtpConfigurationError(
                    f"{URL_SETTING}: {where} will not relay to {recipient} for us "
                    f"({code} {_text(reply)}); it probably wants user:password in the URL",
                    setting=URL_SETTING,
                    code=code,
                )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            # STARTTLS or AUTH asked of a server that does not offer it.
            return SmtpConfigurationError(
                f"{URL_SETTING}: {where} {self._redact(str(exc)).rstrip('.')}: "
                "check ?starttls=true and the user name against what the server offers",
                setting=URL_SETTING,
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            # An untrusted, expired or misnamed certificate stays so until someone acts.
            return SmtpConfigurationError(
                f"{URL_SETTING}: {where}: the server's TLS certificate is not trusted "
                f"({exc.verify_message or exc.reason}); fix the server's certificate "
                "or trust its issuer (SSL_CERT_FILE names a CA bundle)",
                setting=URL_SETTING,
            )
        if isinstance(exc, ssl.SSLError) and settings.security == "ssl":
            return SmtpConfigurationError(
                f"{URL_SETTING}: {where} does not speak TLS from the start "
                f"({exc.reason or exc}); use smtp:// (with ?starttls=true if it offers "
                "STARTTLS), or the server's implicit-TLS port",
                setting=URL_SETTING,
            )
        return None

    def _where(self) -> str:
        return f"SMTP {self._settings.host}:{self._settings.port}"

    def _redact(self, text: str) -> str:
        password = self._settings.password
        return text.replace(password, "***") if password else text


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _timed_out(exc: BaseException) -> bool:
    """Whether `exc` is, or was caused by, a socket timeout (smtplib turns a timeout
    while reading a reply into "Connection unexpectedly closed")."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
