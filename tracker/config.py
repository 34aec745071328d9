"""Settings: every key of the outside contract, read once at start and validated.

Values come from the process environment first, then from `.env` in the
working directory (or the file named by ``TRACKER_ENV_FILE``). A bad value
stops the program at start with one line naming the key; secrets never appear
in a repr or a message.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker.errors import ConfigError
from tracker.mail.imap import ImapSettings

DEFAULT_DATABASE_URL = "sqlite:///tracker.db"
DEFAULT_SMTP_URL = "smtp://localhost:25"
DEFAULT_FROM = "Follow-up <followup@localhost>"
DEFAULT_SEND_RATE = 60
DEFAULT_SMTP_TIMEOUT = 30.0
DEFAULT_SEND_LEASE = 600
DEFAULT_MAX_PROGRAMME_MB = 20
DEFAULT_LINK_DAYS = 60
DEFAULT_MAX_ATTACHMENT_MB = 10
DEFAULT_MAX_MESSAGE_ATTACHMENTS_MB = 25
MIN_SECRET_KEY_LENGTH = 32
MAKE_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

SmtpSecurity = Literal["plain", "starttls", "ssl"]


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to hand outgoing mail over."""

    host: str
    port: int
    security: SmtpSecurity
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Settings:
    """The tracker's configuration, validated."""

    database_url: str
    smtp: SmtpSettings
    from_header: str
    from_address: str
    reply_address: str
    imap: ImapSettings | None
    secret_key: str | None = field(repr=False)
    send_rate: int
    smtp_timeout: float = DEFAULT_SMTP_TIMEOUT  # seconds an SMTP server may take to answer
    send_lease: int = DEFAULT_SEND_LEASE  # seconds a sender holds a claimed message
    # The web app's public base URL without a trailing slash; None: no links in mail.
    public_url: str | None = None
    max_programme_mb: int = DEFAULT_MAX_PROGRAMME_MB
    # How long a participant's personal link (in each reminder) stays valid.
    link_days: int = DEFAULT_LINK_DAYS
    # The largest attached file kept, and the most kept from one message or page.
    max_attachment_mb: int = DEFAULT_MAX_ATTACHMENT_MB
    max_message_attachments_mb: int = DEFAULT_MAX_MESSAGE_ATTACHMENTS_MB
    # SMTP connections a send pass uses at once (each in its own thread); the
    # send rate is shared between them.
    smtp_connections: int = 1
    # The largest inbound message read (over it: stored and held as too_large);
    # None: large enough to carry the attachment allowance (services/reading).
    max_message_mb: int | None = None

    def require_secret_key(self) -> str:
        """The secret key, or a clear error for commands that sign tokens."""
        if not self.secret_key:
            raise ConfigError(
                "TRACKER_SECRET_KEY is not set: it signs reply tokens and sessions; "
                f"set it to a long random value, made with: {MAKE_SECRET_KEY}"
            )
        return self.secret_key

    @property
    def max_programme_bytes(self) -> int:
        return self.max_programme_mb * 1024 * 1024


def load_settings(environ: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read and validate the settings: environment first, then the env file."""
    env = dict(os.environ if environ is None else environ)
    named = env.get("TRACKER_ENV_FILE", "").strip()
    env_file = Path(named) if named else None
    if env_file is not None and (not env_file.exists() or env_file.is_dir()):
        # Not is_file(): /dev/null (the usual "no file") and named pipes are fine.
        what = "is a folder" if env_file.is_dir() else "no such file"
        raise ConfigError(f"TRACKER_ENV_FILE: {what}: {env_file}")
    if env_file is None:
        candidate = (cwd or Path.cwd()) / ".env"
        env_file = candidate if candidate.is_file() else None
    values: dict[str, str] = {}
    if env_file is not None:
        values = _read_env_file(env_file, key="TRACKER_ENV_FILE" if named else ".env")
    values.update({k: v for k, v in env.items() if k.startswith("TRACKER_")})
    return settings_from_values(values)


def _read_env_file(path: Path, *, key: str) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{key}: {path} is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{key}: cannot read {path} ({error.strerror})") from None
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def settings_from_values(values: Mapping[str, str]) -> Settings:
    """Validate raw key/value pairs into Settings (no I/O)."""

    def get(key: str, default: str | None) -> str | None:
        value = values.get(key)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    database_url = _database_url(get("TRACKER_DATABASE_URL", DEFAULT_DATABASE_URL) or "")
    smtp = parse_smtp_url(get("TRACKER_SMTP_URL", DEFAULT_SMTP_URL) or "")
    from_header, from_address = _from_header(get("TRACKER_FROM", DEFAULT_FROM) or "")
    reply_address = _reply_address(get("TRACKER_REPLY_ADDRESS", None), from_address)
    imap_url = get("TRACKER_IMAP_URL", None)
    try:
        imap = ImapSettings.from_url(imap_url) if imap_url is not None else None
    except ValueError as error:
        raise ConfigError(f"TRACKER_IMAP_URL: {error}") from None
    send_rate = _positive_int("TRACKER_SEND_RATE", get("TRACKER_SEND_RATE", str(DEFAULT_SEND_RATE)))
    smtp_timeout = _positive_seconds(
        "TRACKER_SMTP_TIMEOUT", get("TRACKER_SMTP_TIMEOUT", f"{DEFAULT_SMTP_TIMEOUT:g}")
    )
    send_lease = _positive_int(
        "TRACKER_SEND_LEASE", get("TRACKER_SEND_LEASE", str(DEFAULT_SEND_LEASE))
    )
    smtp_connections = _positive_int(
        "TRACKER_SMTP_CONNECTIONS", get("TRACKER_SMTP_CONNECTIONS", "1")
    )
    max_programme_mb = _positive_int(
        "TRACKER_MAX_PROGRAMME_MB",
        get("TRACKER_MAX_PROGRAMME_MB", str(DEFAULT_MAX_PROGRAMME_MB)),
    )
    link_days = _positive_int("TRACKER_LINK_DAYS", get("TRACKER_LINK_DAYS", str(DEFAULT_LINK_DAYS)))
    max_attachment_mb = _positive_int(
        "TRACKER_MAX_ATTACHMENT_MB",
        get("TRACKER_MAX_ATTACHMENT_MB", str(DEFAULT_MAX_ATTACHMENT_MB)),
    )
    max_message_attachments_mb = _positive_int(
        "TRACKER_MAX_MESSAGE_ATTACHMENTS_MB",
        get("TRACKER_MAX_MESSAGE_ATTACHMENTS_MB", str(DEFAULT_MAX_MESSAGE_ATTACHMENTS_MB)),
    )
    given_max_message_mb = get("TRACKER_MAX_MESSAGE_MB", None)
    max_message_mb = (
        None
        if given_max_message_mb is None
        else _positive_int("TRACKER_MAX_MESSAGE_MB", given_max_message_mb)
    )
    return Settings(
        database_url=database_url,
        smtp=smtp,
        from_header=from_header,
        from_address=from_address,
        reply_address=reply_address,
        imap=imap,
        secret_key=_secret_key(get("TRACKER_SECRET_KEY", None)),
        send_rate=send_rate,
        smtp_timeout=smtp_timeout,
        send_lease=send_lease,
        public_url=_public_url(get("TRACKER_PUBLIC_URL", None)),
        max_programme_mb=max_programme_mb,
        link_days=link_days,
        max_attachment_mb=max_attachment_mb,
        max_message_attachments_mb=max_message_attachments_mb,
        smtp_connections=smtp_connections,
        max_message_mb=max_message_mb,
    )


def _secret_key(raw: str | None) -> str | None:
    if raw is not None and len(raw) < MIN_SECRET_KEY_LENGTH:
        # Never echo the value: it is a secret, even when a bad one.
        raise ConfigError(
            f"TRACKER_SECRET_KEY: too short ({len(raw)} characters; at least "
            f"{MIN_SECRET_KEY_LENGTH}): make one with: {MAKE_SECRET_KEY}"
        )
    return raw


def _database_url(raw: str) -> str:
    key = "TRACKER_DATABASE_URL"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"{key}: not a database URL "
            "(expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    except ValueError:  # SQLAlchemy reads the port with int()
        raise ConfigError(f"{key}: the port is not a number") from None
    if url.port is not None and not 0 < url.port < 65536:
        raise ConfigError(f"{key}: the port must be between 1 and 65535, got {url.port}")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"{key}: unsupported database {backend!r} (use sqlite or postgresql)")
    driver = url.get_driver_name()
    if backend == "postgresql" and driver in ("psycopg2", ""):
        # psycopg 3 is the driver we install; a bare postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    elif (backend, driver) not in (("sqlite", "pysqlite"), ("postgresql", "psycopg")):
        raise ConfigError(
            f"{key}: unsupported driver {driver!r} (use sqlite:// or postgresql+psycopg://)"
        )
    return url.render_as_string(hide_password=False)


def parse_smtp_url(raw: str) -> SmtpSettings:
    """`smtp://[user:pass@]host:port[?starttls=true]` or `smtps://…` into SmtpSettings."""
    key = "TRACKER_SMTP_URL"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:  # not a number, or out of range: urlsplit says which in English
        raise ConfigError(f"{key}: the port is not a number between 1 and 65535") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"{key}: must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ConfigError(f"{key}: names no host")
    if port == 0:
        raise ConfigError(f"{key}: the port is not a number between 1 and 65535")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ConfigError(f"{key}: unknown option {sorted(unknown)[0]!r} (only starttls=true)")
    starttls = query.get("starttls", "false").lower()
    if starttls not in ("true", "false"):
        raise ConfigError(f"{key}: starttls must be true or false")
    if parts.scheme == "smtps":
        if starttls == "true":
            raise ConfigError(f"{key}: smtps:// is already TLS; drop ?starttls=true")
        security: SmtpSecurity = "ssl"
    else:
        security = "starttls" if starttls == "true" else "plain"
    default_port = 465 if security == "ssl" else 25
    return SmtpSettings(
        host=parts.hostname,
        port=port if port is not None else default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _from_header(raw: str) -> tuple[str, str]:
    if "\n" in raw or "\r" in raw:
        raise ConfigError("TRACKER_FROM: must be one line")
    name, address = parseaddr(raw)
    if not _ADDRESS.fullmatch(address):
        raise ConfigError(f"TRACKER_FROM: not an address: {raw!r} (expected Name <addr@domain>)")
    header = str(Address(display_name=name, addr_spec=address)) if name else address
    return header, address


def _reply_address(raw: str | None, from_address: str) -> str:
    if raw is None:
        local, _, domain = from_address.partition("@")
        return f"{local}+{{token}}@{domain}"
    if "{token}" not in raw:
        raise ConfigError("TRACKER_REPLY_ADDRESS: must contain {token}")
    if not _ADDRESS.fullmatch(raw.replace("{token}", "1.abcdefghijkl.abcdefghijklmnop")):
        raise ConfigError(f"TRACKER_REPLY_ADDRESS: not an address pattern: {raw!r}")
    return raw


def _public_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError:
        raise ConfigError("TRACKER_PUBLIC_URL: the port is not a number") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"TRACKER_PUBLIC_URL: not a web address: {raw!r} (expected https://host[/path])"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("TRACKER_PUBLIC_URL: takes no query, fragment or user name")
    return raw.rstrip("/")


def _positive_int(key: str, raw: str | None) -> int:
    try:
        value = int(raw or "")
    except ValueError:
        raise ConfigError(f"{key}: not a whole number: {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{key}: must be at least 1, got {value}")
    return value


def _positive_seconds(key: str, raw: str | None) -> float:
    try:
        value = float(raw or "")
    except ValueError:
        raise ConfigError(f"{key}: not a number of seconds: {raw!r}") from None
    if not 0 < value <= 3600:  # NaN fails this too
        raise ConfigError(f"{key}: must be more than 0 and at most 3600 seconds, got {raw}")
    return value


_ADDRESS = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+")
