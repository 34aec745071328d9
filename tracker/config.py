"""Settings: every key of the outside contract, read once at start and validated.

Values come from the process environment first, then from `.env` in the
working directory (or the file named by ``TRACKER_ENV_FILE``). A bad value
stops the program at start with one line naming the key; secrets never appear
in a repr or a message.
"""

from __future__ import annotations

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
    # The web app's public base URL without a trailing slash; None: no links in mail.
    public_url: str | None = None

    def require_secret_key(self) -> str:
        """The secret key, or a clear error for commands that sign tokens."""
        if not self.secret_key:
            raise ConfigError(
                "TRACKER_SECRET_KEY is not set: it signs reply tokens and sessions; "
                'set it to a long random value (python -c "import secrets; '
                'print(secrets.token_urlsafe(32))")'
            )
        return self.secret_key


def load_settings(environ: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read and validate the settings: environment first, then the env file."""
    env = dict(os.environ if environ is None else environ)
    env_file = Path(env["TRACKER_ENV_FILE"]) if env.get("TRACKER_ENV_FILE") else None
    if env_file is not None and not env_file.is_file():
        raise ConfigError(f"TRACKER_ENV_FILE: no such file: {env_file}")
    if env_file is None:
        candidate = (cwd or Path.cwd()) / ".env"
        env_file = candidate if candidate.is_file() else None
    values: dict[str, str] = {}
    if env_file is not None:
        values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    values.update({k: v for k, v in env.items() if k.startswith("TRACKER_")})
    return settings_from_values(values)


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
    return Settings(
        database_url=database_url,
        smtp=smtp,
        from_header=from_header,
        from_address=from_address,
        reply_address=reply_address,
        imap=imap,
        secret_key=get("TRACKER_SECRET_KEY", None),
        send_rate=send_rate,
        public_url=_public_url(get("TRACKER_PUBLIC_URL", None)),
    )


def _database_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "TRACKER_DATABASE_URL: not a database URL "
            "(expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"TRACKER_DATABASE_URL: unsupported database {url.get_backend_name()!r} "
            "(use sqlite or postgresql)"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", ""):
        # psycopg 3 is the driver we install; a bare postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def parse_smtp_url(raw: str) -> SmtpSettings:
    """`smtp://[user:pass@]host:port[?starttls=true]` or `smtps://…` into SmtpSettings."""
    key = "TRACKER_SMTP_URL"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{key}: the port is not a number") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"{key}: must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ConfigError(f"{key}: names no host")
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
    if not _ADDRESS.fullmatch(raw.replace("{token}", "1.abcdefghijklmnop")):
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


_ADDRESS = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+")
