"""`tracker backup` and `tracker restore`: a database in use, backed up, restored into a new
one, reads the same (status, updates, the outbox, review) as the original."""

from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from tests.cli import run_tracker
from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import reply_to
from tests.services import POSTGRES_URL, service_missing
from tests.smtp_server import SmtpTestServer
from tracker.db.session import make_engine

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
CHECK_IN = "2019-06-24T08:00:00+00:00"
LATER = "2019-06-24T09:00:00+00:00"
READINGS = (
    ("status",),
    ("status", "--json"),
    ("updates", "--json"),
    ("outbox", "--json"),
    ("review", "--json"),
)


def environment(url: str) -> dict[str, str]:
    return {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
        "TRACKER_FROM": "Programme Office <followup@example.org>",
    }


def fill(env: dict[str, str]) -> None:
    """A programme imported, its check-ins sent, one answered and one stranger's mail held."""
    assert run_tracker("db", "upgrade", env=env).code == 0
    with SmtpTestServer() as server:
        env = {**env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{server.port}"}
        assert run_tracker("import", str(SMALL), env=env).code == 0
        assert run_tracker("send-due", "--now", CHECK_IN, env=env).code == 0
        sent = email.message_from_bytes(server.messages[0].raw, policy=email.policy.default)
    assert isinstance(sent, EmailMessage)
    reply = reply_to(sent, "1: done, published\n2: in progress 60%")
    assert run_tracker("ingest", "--now", LATER, env=env, input=reply).code == 0
    stranger = reply_to(sent, "1: done", sender="someone@elsewhere.example", message_id="<s@x>")
    assert run_tracker("ingest", "--now", LATER, env=env, input=stranger).code == 0


def readings(env: dict[str, str]) -> list[str]:
    results = [run_tracker(*args, env=env) for args in READINGS]
    assert all(r.code == 0 for r in results), [r.stderr for r in results]
    return [r.stdout for r in results]


def test_a_restored_backup_reads_exactly_like_the_original(tmp_path: Path) -> None:
    original = environment(f"sqlite:///{tmp_path / 'tracker.db'}")
    fill(original)
    before = readings(original)
    assert "published" in before[2]  # the reply's note is there to be compared

    backed_up = run_tracker("backup", str(tmp_path / "backup.db"), env=original)
    assert backed_up.code == 0, backed_up.stderr
    assert backed_up.stdout.startswith(f"backed up {tmp_path / 'tracker.db'} to ")
    assert "schema revision" in backed_up.stdout
    assert not list(tmp_path.glob(".*.partial"))

    fresh = environment(f"sqlite:///{tmp_path / 'restored' / 'tracker.db'}")
    (tmp_path / "restored").mkdir()
    restored = run_tracker("restore", str(tmp_path / "backup.db"), env=fresh)
    assert restored.code == 0, restored.stderr
    assert restored.stdout.startswith(f"restored {tmp_path / 'backup.db'} into ")
    assert readings(fresh) == before
    # The original is untouched and still works.
    assert readings(original) == before


def test_a_restore_never_replaces_a_database_that_holds_data(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'tracker.db'}")
    fill(env)
    assert run_tracker("backup", str(tmp_path / "backup.db"), env=env).code == 0
    before = readings(env)
    refused = run_tracker("restore", str(tmp_path / "backup.db"), env=env)
    assert refused.code == 1
    assert refused.stderr.startswith("error: the database ")
    assert "already holds data: restore into a new database" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert readings(env) == before


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert run_tracker("db", "upgrade", env=env).code == 0
    existing = tmp_path / "precious.txt"
    existing.write_text("keep me", encoding="utf-8")
    refused = run_tracker("backup", str(existing), env=env)
    assert refused.code == 1
    assert refused.stderr.strip() == f"error: {existing} already exists: choose a new file name"
    assert existing.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"hello, not a database", "is not a tracker backup (not a SQLite database)"),
        (None, "is not a tracker backup (it has no schema revision)"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "cannot be read as a backup"),
    ],
    ids=["text", "another-sqlite-database", "damaged"],
)
def test_restoring_something_that_is_not_a_backup_says_so_and_changes_nothing(
    tmp_path: Path, content: bytes | None, said: str
) -> None:
    source = tmp_path / "suspect.db"
    if content is None:
        other = make_engine(f"sqlite:///{source}")
        with other.begin() as connection:
            connection.execute(text("CREATE TABLE notes (body TEXT)"))
        other.dispose()
    else:
        source.write_bytes(content)
    target = tmp_path / "new.db"
    refused = run_tracker("restore", str(source), env=environment(f"sqlite:///{target}"))
    assert refused.code == 1
    assert said in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_a_missing_backup_file_is_one_line(tmp_path: Path) -> None:
    refused = run_tracker(
        "restore", str(tmp_path / "nope.db"), env=environment(f"sqlite:///{tmp_path / 'n.db'}")
    )
    assert refused.code == 1
    assert refused.stderr.strip() == f"error: no such backup file: {tmp_path / 'nope.db'}"


@pytest.fixture
def postgres_databases() -> Iterator[tuple[str, str]]:
    """Two new PostgreSQL databases: one to fill and back up, one to restore into."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    names = [f"tracker_backup_{uuid.uuid4().hex[:8]}_{n}" for n in range(2)]
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        service_missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    base = make_url(POSTGRES_URL)
    yield (
        base.set(database=names[0]).render_as_string(hide_password=False),
        base.set(database=names[1]).render_as_string(hide_password=False),
    )
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_backup_prints_commands_that_restore_the_same_readings(
    tmp_path: Path, postgres_databases: tuple[str, str]
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        service_missing("pg_dump and pg_restore are not installed")
    first, second = postgres_databases
    original = environment(first)
    fill(original)
    before = readings(original)
    dump_file = tmp_path / "tracker.dump"
    said = run_tracker("backup", str(dump_file), env=original)
    assert said.code == 0, said.stderr
    assert said.stdout.splitlines()[0] == "PostgreSQL is backed up with its own tool; run:"
    dump_command = said.stdout.splitlines()[1].strip()
    assert dump_command.startswith("pg_dump --format=custom ")
    subprocess.run(dump_command, shell=True, check=True, capture_output=True)

    fresh = environment(second)
    said = run_tracker("restore", str(dump_file), env=fresh)
    assert said.code == 0, said.stderr
    restore_command = said.stdout.splitlines()[1].strip()
    assert restore_command.startswith("pg_restore --no-owner --exit-on-error ")
    subprocess.run(restore_command, shell=True, check=True, capture_output=True)
    assert readings(fresh) == before


def test_postgresql_commands_never_show_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://tracker:s3cret-Pa55@db.example.org:5433/tracker"
    env = environment(url)
    for command in ("backup", "restore"):
        said = run_tracker(command, str(tmp_path / "x.dump"), env=env)
        assert said.code == 0, said.stderr
        assert "s3cret-Pa55" not in said.stdout + said.stderr
        assert "--host db.example.org --port 5433 --username tracker" in said.stdout
