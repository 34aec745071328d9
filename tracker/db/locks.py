"""Cross-process locks for work only one process should do at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Try to hold the lock `name` for the block; yields whether it was acquired.

    On PostgreSQL a session advisory lock, so that several `tracker run`
    processes poll one mailbox one at a time. SQLite serves one process, so
    the lock is always granted there.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)
    with engine.connect() as connection:
        acquired = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
