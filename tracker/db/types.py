"""Column types shared by the models.

`UtcDateTime` keeps every moment timezone-aware. `SafeString` and `SafeText`
are the text columns: they store what any engine can store. PostgreSQL
refuses a NUL character in text (SQLite keeps it, and it truncates text in
many C tools), and neither engine can encode a lone surrogate, which is how
Python represents undecodable bytes of a mail header. Mail puts both into
subjects, addresses and notes; the raw bytes of every message are kept as
bytes, so the text columns only need to be readable: NUL and lone surrogates
become U+FFFD (the replacement character), at the column, for every value
written by any code. Other control characters are kept as they are (they are
valid text, and data is not ours to rewrite); what shows them on a terminal
neutralises them there.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.sql.type_api import _BindProcessorType

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """`value` with every NUL and lone surrogate replaced by U+FFFD."""
    if value.isascii() and "\x00" not in value:
        # Most text written (keys, names of events, ASCII addresses): ASCII
        # holds no surrogate, and both checks are much cheaper than the search.
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine.

    Refuses naive values (a naive datetime is a bug: whose local time is it?),
    stores UTC, and re-attaches UTC on read because SQLite keeps no zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> _BindProcessorType[datetime] | None:
        """The conversion below (and the engine's own after it), done once per moment.

        A busy pass writes the same few moments over and over (every reminder
        it plans is created at its `now`, and most are scheduled at the same
        moment), and the conversion costs more than the insert's own work.
        What is stored depends only on the instant, which a datetime and its
        `fold` name exactly: two equal datetimes of one zone that differ only
        in `fold` (the repeated hour when clocks go back) are different
        instants, so `fold` is part of the memo's key.
        """
        convert = super().bind_processor(dialect)
        assert convert is not None  # `process_bind_param` is ours

        @functools.lru_cache(maxsize=4096)
        def converted(value: datetime, fold: int) -> Any:
            return convert(value)

        def process(value: datetime | None) -> Any:
            return None if value is None else converted(value, value.fold)

        return process

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} refused: pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored without an offset so that text comparison orders correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class SafeString(TypeDecorator[str]):
    """A VARCHAR(length) that stores NUL and lone surrogates as U+FFFD (see the module)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable_text(value) if isinstance(value, str) else value


class SafeText(TypeDecorator[str]):
    """A TEXT that stores NUL and lone surrogates as U+FFFD (see the module)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable_text(value) if isinstance(value, str) else value
