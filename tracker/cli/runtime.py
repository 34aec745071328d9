"""What every command shares: settings, the database, the clock, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Settings, load_settings
from tracker.db import migrate
from tracker.db.session import make_engine, make_session_factory
from tracker.errors import TrackerError

if TYPE_CHECKING:  # the reader loads only for the commands that read mail
    from tracker.services.reading import ReadingLimits


@dataclass
class Runtime:
    """Built once per command from the settings; nothing is opened until used."""

    settings: Settings
    _checked: bool = field(default=False, init=False)

    @classmethod
    def from_environment(cls) -> Runtime:
        return cls(settings=load_settings())

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def reading_limits(self) -> ReadingLimits:
        """How inbound mail is read, with the configured largest message."""
        from tracker.services.reading import reading_limits

        return reading_limits(self.settings)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on an error."""
        self.require_current_schema()
        with self.session_factory.begin() as session:
            yield session

    def require_current_schema(self) -> None:
        """Stop with a clear line when the database is missing or not migrated."""
        if self._checked:
            return
        try:
            current = migrate.current_revision(self.engine)
        except OperationalError as error:
            raise TrackerError(f"cannot open the database: {_first_line(error)}") from None
        if current != migrate.head_revision(self.engine):
            raise TrackerError(
                "the database is not set up or not up to date: run `tracker db upgrade`"
            )
        self._checked = True


def parse_now(value: str | None) -> datetime:
    """`--now` as an aware datetime; a value without an offset is read as UTC."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date-time (like 2019-06-24T09:30:00+08:00)",
            param_hint="--now",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
