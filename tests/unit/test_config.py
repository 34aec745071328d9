"""Settings: defaults, every contract key, and one clear line naming a bad key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.config import load_settings, settings_from_values
from tracker.errors import ConfigError


def test_defaults_follow_the_contract() -> None:
    settings = settings_from_values({})
    assert settings.database_url == "sqlite:///tracker.db"
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "localhost",
        25,
        "plain",
    )
    assert settings.from_header == "Follow-up <followup@localhost>"
    assert settings.reply_address == "followup+{token}@localhost"
    assert settings.imap is None
    assert settings.secret_key is None
    assert settings.send_rate == 60


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org:587?starttls=true", ("mail.example.org", 587, "starttls")),
        ("smtps://mail.example.org", ("mail.example.org", 465, "ssl")),
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, "plain")),
    ],
)
def test_smtp_url_forms(url: str, expected: tuple[str, int, str]) -> None:
    smtp = settings_from_values({"TRACKER_SMTP_URL": url}).smtp
    assert (smtp.host, smtp.port, smtp.security) == expected


def test_smtp_credentials_are_decoded_and_kept_out_of_repr() -> None:
    settings = settings_from_values(
        {
            "TRACKER_SMTP_URL": "smtp://robot:p%40ss%20word@mail.example.org:587?starttls=true",
            "TRACKER_SECRET_KEY": "very-secret-" + "x" * 32,
            "TRACKER_IMAP_URL": "imap://u:imap-pw@h/INBOX",
        }
    )
    assert settings.smtp.username == "robot"
    assert settings.smtp.password == "p@ss word"
    shown = repr(settings)
    for secret in ("p@ss word", "very-secret-", "imap-pw"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("TRACKER_DATABASE_URL", "not a url", "TRACKER_DATABASE_URL: not a database URL"),
        ("TRACKER_DATABASE_URL", "mysql://x/y", "TRACKER_DATABASE_URL: unsupported database"),
        (
            "TRACKER_DATABASE_URL",
            "postgresql+psycopg://postgres:pw@127.0.0.1:abc/x",
            "TRACKER_DATABASE_URL: the port is not a number",
        ),
        (
            "TRACKER_DATABASE_URL",
            "postgresql+psycopg://postgres@[::1/x",
            "TRACKER_DATABASE_URL: the port is not a number",
        ),
        (
            "TRACKER_DATABASE_URL",
            "postgresql+psycopg://h:70000/x",
            "TRACKER_DATABASE_URL: the port must be between 1 and 65535",
        ),
        (
            "TRACKER_DATABASE_URL",
            "postgresql+asyncpg://h/x",
            "TRACKER_DATABASE_URL: unsupported driver 'asyncpg'",
        ),
        ("TRACKER_SMTP_URL", "smtp://host:70000", "TRACKER_SMTP_URL: the port is not a number"),
        ("TRACKER_SMTP_URL", "smtp://host:0", "TRACKER_SMTP_URL: the port is not a number"),
        ("TRACKER_SECRET_KEY", "short", "TRACKER_SECRET_KEY: too short (5 characters"),
        ("TRACKER_SECRET_KEY", "x" * 31, "TRACKER_SECRET_KEY: too short (31 characters"),
        ("TRACKER_MAX_PROGRAMME_MB", "big", "TRACKER_MAX_PROGRAMME_MB: not a whole number"),
        ("TRACKER_MAX_PROGRAMME_MB", "0", "TRACKER_MAX_PROGRAMME_MB: must be at least 1"),
        ("TRACKER_SMTP_URL", "smtp://host:abc", "TRACKER_SMTP_URL: the port is not a number"),
        ("TRACKER_SMTP_URL", "http://host", "TRACKER_SMTP_URL: must start with smtp://"),
        ("TRACKER_SMTP_URL", "smtp://host?starttls=maybe", "TRACKER_SMTP_URL: starttls must be"),
        ("TRACKER_SMTP_URL", "smtp://host?tls=1", "TRACKER_SMTP_URL: unknown option"),
        ("TRACKER_FROM", "nobody", "TRACKER_FROM: not an address"),
        ("TRACKER_FROM", "A <a@b>\nBcc: x@y", "TRACKER_FROM: must be one line"),
        (
            "TRACKER_REPLY_ADDRESS",
            "reply@example.org",
            "TRACKER_REPLY_ADDRESS: must contain {token}",
        ),
        ("TRACKER_IMAP_URL", "pop3://u:p@h", "TRACKER_IMAP_URL: IMAP URL must start with imap://"),
        ("TRACKER_IMAP_URL", "imap://h:99x/INBOX", "TRACKER_IMAP_URL: IMAP URL: the port must be"),
        ("TRACKER_IMAP_URL", "imap://host/INBOX", "TRACKER_IMAP_URL: IMAP URL needs user"),
        ("TRACKER_SEND_RATE", "fast", "TRACKER_SEND_RATE: not a whole number"),
        ("TRACKER_SEND_RATE", "0", "TRACKER_SEND_RATE: must be at least 1"),
    ],
)
def test_a_bad_value_stops_with_one_line_naming_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_values({key: value})
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "TRACKER_SEND_RATE=10\nTRACKER_FROM=Office <office@example.org>\n", encoding="utf-8"
    )
    settings = load_settings({"TRACKER_SEND_RATE": "20"}, cwd=tmp_path)
    assert settings.send_rate == 20
    assert settings.from_address == "office@example.org"
    assert settings.reply_address == "office+{token}@example.org"


def test_env_file_named_by_tracker_env_file(tmp_path: Path) -> None:
    path = tmp_path / "production.env"
    path.write_text("TRACKER_SEND_RATE=5\n", encoding="utf-8")
    assert load_settings({"TRACKER_ENV_FILE": str(path)}, cwd=tmp_path).send_rate == 5
    with pytest.raises(ConfigError, match="TRACKER_ENV_FILE: no such file"):
        load_settings({"TRACKER_ENV_FILE": str(tmp_path / "missing.env")}, cwd=tmp_path)


def test_a_bare_postgresql_url_uses_psycopg_3() -> None:
    url = settings_from_values({"TRACKER_DATABASE_URL": "postgresql://u@h/db"}).database_url
    assert url.startswith("postgresql+psycopg://")


def test_secret_key_is_required_where_tokens_are_signed() -> None:
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY is not set"):
        settings_from_values({}).require_secret_key()
    key = "k" * 32
    assert settings_from_values({"TRACKER_SECRET_KEY": key}).require_secret_key() == key


def test_a_short_secret_key_is_refused_with_the_command_that_makes_one() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_values({"TRACKER_SECRET_KEY": "hunter2-but-longer"})
    message = str(raised.value)
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert "hunter2" not in message  # a secret, even a bad one, is never shown


@pytest.mark.parametrize("name", ["/dev/null", "empty.env"])
def test_an_empty_env_file_means_no_settings_from_a_file(tmp_path: Path, name: str) -> None:
    path = Path(name) if name.startswith("/") else tmp_path / name
    if not name.startswith("/"):
        path.write_text("", encoding="utf-8")
    (tmp_path / ".env").write_text("TRACKER_SEND_RATE=7\n", encoding="utf-8")
    settings = load_settings({"TRACKER_ENV_FILE": str(path)}, cwd=tmp_path)
    assert settings.send_rate == 60  # the named file wins over ./.env, and it is empty


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "TRACKER_ENV_FILE: is a folder"),
        (b"TRACKER_SEND_RATE=\xff\xfe\n", "is not UTF-8 text"),
    ],
)
def test_an_unusable_env_file_is_one_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "settings.env"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_settings({"TRACKER_ENV_FILE": str(path)}, cwd=tmp_path)


KEYS = [
    "TRACKER_DATABASE_URL",
    "TRACKER_SMTP_URL",
    "TRACKER_FROM",
    "TRACKER_REPLY_ADDRESS",
    "TRACKER_IMAP_URL",
    "TRACKER_SECRET_KEY",
    "TRACKER_SEND_RATE",
    "TRACKER_MAX_PROGRAMME_MB",
]
URLISH = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789:/@[]?=&%+.-_ #{}<>"', max_size=30)
SCHEMES = st.sampled_from(
    [
        "postgresql+psycopg://",
        "postgresql://u:p@h",
        "sqlite:///",
        "smtp://",
        "smtps://h",
        "imap://u:p@",
    ]
)


@settings(max_examples=300, deadline=None)
@example(key="TRACKER_DATABASE_URL", value="postgresql+psycopg://postgres:pw@127.0.0.1:abc/x")
@example(key="TRACKER_DATABASE_URL", value="0://")
@given(
    key=st.sampled_from(KEYS),
    value=st.one_of(URLISH, st.text(max_size=40), st.builds(str.__add__, SCHEMES, URLISH)),
)
def test_any_value_is_settings_or_one_line_naming_the_key(key: str, value: str) -> None:
    """No value of any key escapes as a traceback: either it is read, or one line names the key."""
    try:
        settings_from_values({key: value})
    except ConfigError as error:
        message = str(error)
    else:
        return
    assert message.startswith(key)
    assert "\n" not in message
