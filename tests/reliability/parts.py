"""What the loop counts (`Figures`), and its databases: a migrated template per engine, a
fresh copy per trial."""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from tracker.db.migrate import upgrade
from tracker.db.session import make_engine


class EngineUnavailable(Exception):
    """The engine's server cannot be reached (the loop reports it, tests skip or fail)."""


@dataclass
class Figures:
    """What one engine's trials did and found."""

    trials: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    inputs: Counter[str] = field(default_factory=Counter)
    planned: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    arrived: int = 0
    duplicates: int = 0
    duplicates_beyond_window: int = 0
    stored: int = 0
    processed: int = 0
    held: int = 0
    ignored: int = 0
    failed_inbound: int = 0
    unread: int = 0
    lost: int = 0
    hung: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def outbox_balanced(self) -> bool:
        return self.planned == self.sent + self.failed + self.pending and self.pending == 0

    @property
    def inbox_balanced(self) -> bool:
        return (
            self.stored == self.processed + self.held + self.ignored + self.failed_inbound
            and self.unread == 0
        )

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicates_beyond_window == 0
            and self.hung == 0
            and self.outbox_balanced
            and self.inbox_balanced
            and not self.problems
        )


# -- databases -------------------------------------------------------------------


class Databases:
    """A migrated template per engine; a fresh copy for each trial."""

    def __init__(self, engine: str, folder: Path) -> None:
        self.engine = engine
        self._folder = folder
        self._created: list[str] = []
        self._count = 0
        if engine == "sqlite":
            self._template = folder / "template.db"
            migrated = make_engine(f"sqlite:///{self._template}")
            upgrade(migrated)
            raw = migrated.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            migrated.dispose()
            return
        from tests.services import POSTGRES_URL

        self._base = POSTGRES_URL
        self._admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            self._admin.dispose()
            raise EngineUnavailable(f"PostgreSQL is not reachable: {error.orig}") from None
        self._template_name = f"tracker_rel_{uuid.uuid4().hex[:8]}"
        self._create(f'CREATE DATABASE "{self._template_name}"', self._template_name)
        migrated = make_engine(self._url(self._template_name))
        upgrade(migrated)
        migrated.dispose()

    def _url(self, name: str) -> str:
        return make_url(self._base).set(database=name).render_as_string(hide_password=False)

    def _create(self, statement: str, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(statement))
        self._created.append(name)

    def fresh(self) -> str:
        self._count += 1
        if self.engine == "sqlite":
            path = self._folder / f"trial{self._count}.db"
            shutil.copyfile(self._template, path)
            return f"sqlite:///{path}"
        name = f"{self._template_name}_{self._count}"
        self._create(f'CREATE DATABASE "{name}" TEMPLATE "{self._template_name}"', name)
        return self._url(name)

    def close(self) -> None:
        if self.engine == "sqlite":
            return
        with self._admin.connect() as connection:
            for name in reversed(self._created):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()
