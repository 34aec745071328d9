"""IMAP intake: copy new messages out of a mailbox into the tracker's store.

Persist first, interpret later: a pass hands each new message's raw bytes to
`store`, which commits them durably, and only then marks the message on the
server as done. A crash anywhere leaves the message unmarked, so the next pass
fetches it again; the store deduplicates by Message-ID, so it is recorded once.
The server is never asked to move or delete anything.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from tracker.errors import TrackerError

logger = logging.getLogger(__name__)

STORED_KEYWORD = "$TrackerStored"
SEEN_FLAG = "\\Seen"
DEFAULT_TIMEOUT = 60.0
# Bodies are fetched in groups of at most this many bytes, so a batch of large
# messages never sits in memory at once; a single bigger message comes alone.
FETCH_BYTES_BUDGET = 16 * 1024 * 1024

# What a dropped or refused connection raises: sockets, TLS, imaplib's errors.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, IMAPClientError, EOFError)


class ImapConnectionError(TrackerError):
    """The IMAP server could not be reached, logged in to, or its folder opened.

    The message names the host and port (and the user), never the password.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapSettings:
    """Where the replies arrive: one folder of one IMAP account."""

    host: str
    port: int
    ssl: bool
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    # imap://…?starttls=true upgrades the plain connection before logging in.
    starttls: bool = False

    @property
    def address(self) -> str:
        """`host:port`, for messages and logs."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> ImapSettings:
        """Parse `imap://user:pass@host[:port][/folder][?starttls=true]` or `imaps://…`.

        Raises ValueError with a message that never repeats the password.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError("IMAP URL: the port must be a number from 1 to 65535") from None
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError("IMAP URL must start with imap:// or imaps://")
        if not parts.hostname:
            raise ValueError("IMAP URL names no host (imap://user:password@host/INBOX)")
        if not parts.username or parts.password is None:
            raise ValueError("IMAP URL needs user:password@ before the host")
        if port == 0:
            raise ValueError("IMAP URL: the port must be a number from 1 to 65535")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = sorted(set(query) - {"starttls"})
        if unknown:
            raise ValueError(f"IMAP URL: unknown option {unknown[0]!r} (only starttls=true)")
        starttls = query.get("starttls", "false").lower()
        if starttls not in ("true", "false"):
            raise ValueError("IMAP URL: starttls must be true or false")
        implicit_tls = parts.scheme == "imaps"
        if implicit_tls and starttls == "true":
            raise ValueError("IMAP URL: imaps:// is already TLS; drop ?starttls=true")
        if parts.fragment:
            raise ValueError("IMAP URL: a #fragment has no meaning here (percent-encode '#')")
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        return cls(
            host=parts.hostname,
            port=port if port is not None else (993 if implicit_tls else 143),
            ssl=implicit_tls,
            username=unquote(parts.username),
            password=unquote(parts.password),
            folder=folder,
            starttls=starttls == "true",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchReport:
    """What one pass did: messages fetched, safely stored, failed; and why."""

    fetched: int = 0
    stored: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()


class ImapClient(Protocol):
    """The part of imapclient.IMAPClient a pass uses (tests wrap or fake it)."""

    def login(self, username: str, password: str) -> Any: ...
    def starttls(self, ssl_context: Any = ...) -> Any: ...
    def select_folder(self, folder: str, readonly: bool = ...) -> dict[bytes, Any]: ...
    def search(self, criteria: Any = ..., charset: str | None = ...) -> list[int]: ...
    def fetch(self, messages: Any, data: Any, modifiers: Any = ...) -> dict[int, Any]: ...
    def add_flags(self, messages: Any, flags: Any, silent: bool = ...) -> Any: ...
    def logout(self) -> Any: ...
    def socket(self) -> socket.socket: ...


ClientFactory = Callable[[ImapSettings], ImapClient]


def connect(settings: ImapSettings, *, timeout: float = DEFAULT_TIMEOUT) -> ImapClient:
    """Open a connection (TLS for imaps://), not yet logged in."""
    context = ssl.create_default_context() if settings.ssl else None
    client: ImapClient = IMAPClient(
        settings.host, port=settings.port, ssl=settings.ssl, ssl_context=context, timeout=timeout
    )
    return client


def fetch_new_messages(
    settings: ImapSettings,
    store: Callable[[bytes], None],
    *,
    batch_size: int = 100,
    client_factory: ClientFactory | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> FetchReport:
    """One pass over the folder: store every message not yet stored, then mark it.

    1. Connect and log in; failing that, raise ImapConnectionError.
    2. Select the folder read-write. The marker is the keyword `$TrackerStored`
       when the server lets us create keywords (PERMANENTFLAGS has `\\*`), so
       a person reading the mailbox does not hide mail from us; else `\\Seen`.
    3. Search the UIDs without the marker (UIDs are only used inside this one
       session, so UIDVALIDITY changes cannot mislead us).
    4. In batches of `batch_size` UIDs, fetch each body with BODY.PEEK[] (which
       does not set \\Seen), call `store(raw)`, and only after it returns set the
       marker on that UID. A store that raises leaves the message unmarked for
       the next pass and is counted; the pass goes on.
    5. A connection lost after step 2 ends the pass: the error is in the report,
       the next pass reconnects.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    factory = client_factory or (lambda s: connect(s, timeout=timeout))
    client = _open(settings, factory)
    fetched = stored = failed = 0
    errors: list[str] = []
    try:
        marker = _select(settings, client)
        uids = sorted(client.search(["UNKEYWORD", marker] if marker != SEEN_FLAG else ["UNSEEN"]))
        logger.info(
            "action=imap_pass_started server=%s folder=%s new=%d marker=%s",
            settings.address,
            settings.folder,
            len(uids),
            marker,
            extra={"action": "imap_pass_started"},
        )
        for start in range(0, len(uids), batch_size):
            batch = uids[start : start + batch_size]
            for uid, raw in _bodies(client, batch):
                if raw is None:
                    failed += 1
                    errors.append(f"UID {uid}: the server sent no body")
                    continue
                fetched += 1
                try:
                    store(raw)
                except Exception as exc:
                    # The message stays unmarked, so the next pass retries it.
                    failed += 1
                    text = _scrub(f"UID {uid}: store failed: {type(exc).__name__}: {exc}", settings)
                    errors.append(text)
                    logger.warning(
                        "action=imap_store_failed server=%s uid=%d error=%s",
                        settings.address,
                        uid,
                        text,
                        extra={"action": "imap_store_failed"},
                    )
                    continue
                stored += 1
                client.add_flags([uid], [marker], silent=True)
    except _CONNECTION_ERRORS as exc:
        text = _scrub(
            f"IMAP connection to {settings.address} lost during the pass "
            f"({_reason(exc)}); unfinished messages are fetched next pass",
            settings,
        )
        errors.append(text)
        logger.warning(
            "action=imap_pass_interrupted server=%s error=%s",
            settings.address,
            text,
            extra={"action": "imap_pass_interrupted"},
        )
    finally:
        _logout(client)
    report = FetchReport(fetched=fetched, stored=stored, failed=failed, errors=tuple(errors))
    logger.info(
        "action=imap_pass_finished server=%s folder=%s fetched=%d stored=%d failed=%d errors=%d",
        settings.address,
        settings.folder,
        report.fetched,
        report.stored,
        report.failed,
        len(report.errors),
        extra={"action": "imap_pass_finished"},
    )
    return report


def _open(settings: ImapSettings, factory: ClientFactory) -> ImapClient:
    """Connect and log in, turning every failure into one clear ImapConnectionError."""
    where = f"IMAP server {settings.address}"
    try:
        client = factory(settings)
    except socket.gaierror as exc:
        raise ImapConnectionError(f"cannot resolve {where}: {exc.strerror}") from None
    except _CONNECTION_ERRORS as exc:
        raise ImapConnectionError(
            _scrub(f"cannot connect to {where}: {_reason(exc)}", settings)
        ) from None
    try:
        if settings.starttls:
            _upgrade(client, where)
        client.login(settings.username, settings.password)
    except LoginError as exc:
        _logout(client)
        raise ImapConnectionError(
            _scrub(f"login to {where} as {settings.username!r} failed: {_reason(exc)}", settings)
        ) from None
    except _CONNECTION_ERRORS as exc:
        _logout(client)
        raise ImapConnectionError(
            _scrub(f"cannot log in to {where}: {_reason(exc)}", settings)
        ) from None
    return client


def _upgrade(client: ImapClient, where: str) -> None:
    """STARTTLS, verified; never a silent fall back to a connection in clear.

    A server that does not offer STARTTLS, or a connection still unencrypted
    after it, stops the pass before the password is sent.
    """
    try:
        client.starttls(ssl.create_default_context())
    except CapabilityError:
        _logout(client)
        raise ImapConnectionError(
            f"{where} does not offer STARTTLS (asked for by ?starttls=true): "
            "not logging in over a connection in clear; use imaps:// or fix the server"
        ) from None
    if not isinstance(client.socket(), ssl.SSLSocket):
        _logout(client)
        raise ImapConnectionError(
            f"the connection to {where} is not encrypted after STARTTLS: not logging in"
        )


def _select(settings: ImapSettings, client: ImapClient) -> str:
    """Select the folder read-write and choose the marker flag."""
    try:
        info = client.select_folder(settings.folder)
    except IMAPClientAbortError:
        raise  # the connection broke: the pass reports it like any other drop
    except IMAPClientError as exc:
        # A NO here is the folder's fault (missing, no rights), not the network's.
        raise ImapConnectionError(
            _scrub(
                f"cannot open folder {settings.folder!r} on IMAP server {settings.address}: "
                f"{_reason(exc)}",
                settings,
            )
        ) from None
    permanent = {bytes(flag) for flag in info.get(b"PERMANENTFLAGS", ())}
    if b"\\*" in permanent:
        return STORED_KEYWORD
    logger.warning(
        "action=imap_marker_fallback server=%s folder=%s marker=%s "
        "reason=server_refuses_keywords (messages read by a person before the pass are skipped)",
        settings.address,
        settings.folder,
        SEEN_FLAG,
        extra={"action": "imap_marker_fallback"},
    )
    return SEEN_FLAG


def _bodies(client: ImapClient, uids: Sequence[int]) -> Iterator[tuple[int, bytes | None]]:
    """Yield (uid, raw bytes) in UID order, fetching at most a memory budget at a time."""
    sizes = client.fetch(list(uids), ["RFC822.SIZE"])
    group: list[int] = []
    group_bytes = 0
    # A UID expunged since the search has no entry: nothing to store.
    present = [uid for uid in uids if uid in sizes]
    for index, uid in enumerate(present):
        group.append(uid)
        group_bytes += int(sizes[uid].get(b"RFC822.SIZE", 0))
        following = present[index + 1] if index + 1 < len(present) else None
        next_size = int(sizes[following].get(b"RFC822.SIZE", 0)) if following is not None else 0
        if following is None or group_bytes + next_size > FETCH_BYTES_BUDGET:
            bodies = client.fetch(group, ["BODY.PEEK[]"])
            for member in group:
                data = bodies.get(member)
                raw = data.get(b"BODY[]") if data is not None else None
                yield member, bytes(raw) if raw is not None else None
            group, group_bytes = [], 0


def _logout(client: ImapClient) -> None:
    """Say goodbye if the connection still allows it; a dead one needs nothing."""
    try:
        client.logout()
    except Exception:
        logger.debug("action=imap_logout_skipped", extra={"action": "imap_logout_skipped"})


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    if text.startswith("b'") or text.startswith('b"'):
        # imaplib hands server replies over as bytes reprs: b'[AUTHENTICATIONFAILED] …'
        text = text[2:-1]
    return text or type(exc).__name__


def _scrub(text: str, settings: ImapSettings) -> str:
    """Remove the password from text bound for logs, reports or users."""
    if settings.password:
        text = text.replace(settings.password, "***")
    return text
