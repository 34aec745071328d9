"""Benchmark data: databases of either engine, and programmes of any size.

`Databases` makes fresh migrated databases (a SQLite file, or a PostgreSQL
database on `BENCH_POSTGRES_URL`), copies them (file copy, or CREATE DATABASE
… TEMPLATE) and drops them at the end. `fill` writes one programme of N
participants with five actions each and the four follow-up rules, in bulk
(Core INSERTs of a few thousand rows at a time, so building 100k participants
costs seconds, not the ORM's minutes). `programme_yaml` writes the same
programme as a file for `tracker import`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, make_url, text

from tracker.db.migrate import upgrade
from tracker.db.orm import (
    Action,
    Coordinator,
    FollowUpRule,
    Participant,
    Programme,
    programme_coordinators,
)
from tracker.db.session import make_engine
from tracker.services.planning import REPLAN

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get(
        "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
)
ACTIONS_EACH = 5
IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHUNK = 5000


class Databases:
    """Fresh databases of one engine, all dropped by `close()`."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self._folder = folder
        self._run = uuid.uuid4().hex[:8]
        self._count = itertools.count()
        self._made: list[str] = []

    def _admin(self) -> Engine:
        return make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def new(self, template: str | None = None) -> str:
        """The URL of a new database: migrated and empty, or a copy of `template`."""
        name = f"bench_{self._run}_{next(self._count)}"
        if self.kind == "sqlite":
            path = self._folder / f"{name}.db"
            url = f"sqlite:///{path}"
            if template is not None:
                shutil.copyfile(make_url(template).database or "", path)
                return url
            engine = make_engine(url)
            upgrade(engine)
            _checkpoint(engine)
            engine.dispose()
            return url
        admin = self._admin()
        with admin.connect() as connection:
            source = f' TEMPLATE "{make_url(template).database}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
        admin.dispose()
        self._made.append(name)
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        if template is None:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        return url

    def close(self) -> None:
        if not self._made:
            return
        admin = self._admin()
        with admin.connect() as connection:
            for name in self._made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not (one line)."""
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return str(error).splitlines()[0]
    return None


def _checkpoint(engine: Engine) -> None:
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def fill(url: str, participants: int) -> None:
    """One programme ("bench", Beijing time, Chinese) of `participants` × 5 actions,
    every participant waiting for its first plan."""
    engine = make_engine(url)
    with engine.begin() as connection:
        programme_id = connection.execute(
            insert(Programme)
            .values(
                slug="bench",
                name="气候变化政策能力建设 Benchmark",
                starts_on=date(2019, 5, 19),
                ends_on=date(2019, 5, 23),
                timezone="Asia/Shanghai",
                language="zh-CN",
                country="CN",
                working_days_only=True,
                acknowledge_replies=True,
                weekly_digest=False,
                created_at=IMPORTED,
                updated_at=IMPORTED,
            )
            .returning(Programme.id)
        ).scalar_one()
        coordinator_id = connection.execute(
            insert(Coordinator)
            .values(email="officer@example.org", name="Programme Officer", created_at=IMPORTED)
            .returning(Coordinator.id)
        ).scalar_one()
        connection.execute(
            insert(programme_coordinators).values(
                programme_id=programme_id, coordinator_id=coordinator_id
            )
        )
        for rule in _rules(programme_id):
            connection.execute(insert(FollowUpRule).values(**rule))
        for start in range(0, participants, CHUNK):
            numbers = range(start, min(start + CHUNK, participants))
            connection.execute(
                insert(Participant),
                [_participant(programme_id, n) for n in numbers],
            )
            connection.execute(insert(Action), [a for n in numbers for a in _actions(n)])
        if engine.dialect.name == "postgresql":
            for table in ("participants", "actions"):
                connection.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
            connection.execute(text("ANALYZE"))
    engine.dispose()


def _rules(programme_id: int) -> list[dict[str, object]]:
    return [
        {
            "programme_id": programme_id,
            "position": 0,
            "kind": "check_in",
            "at_time": "09:30",
            "every_count": 1,
            "every_unit": "month",
            "first_on": date(2019, 6, 23),
            "count": 6,
        },
        {"programme_id": programme_id, "position": 1, "kind": "before_due", "at_time": "09:30",
         "days": 7},
        {"programme_id": programme_id, "position": 2, "kind": "overdue", "at_time": "09:30",
         "every_days": 7, "max_count": 3},
        {"programme_id": programme_id, "position": 3, "kind": "escalate", "after_unanswered": 2},
    ]  # fmt: skip


def _participant(programme_id: int, n: int) -> dict[str, object]:
    return {
        "id": n + 1,
        "programme_id": programme_id,
        "email": f"person.{n}@city{n % 50}.example.cn",
        "name": f"参与者 {n}",
        "organisation": f"示例市生态环境局 {n % 50}",
        "state": "active",
        "hard_bounces": 0,
        "next_due_at": REPLAN,
        "created_at": IMPORTED,
        "updated_at": IMPORTED,
    }


def _actions(n: int) -> Iterator[dict[str, object]]:
    for k in range(ACTIONS_EACH):
        yield {
            "id": n * ACTIONS_EACH + k + 1,
            "participant_id": n + 1,
            "ref": str(k + 1),
            "title": f"行动事项 {k + 1}：发布区级清洁空气行动计划",
            "due_on": date(2019, 9 + k % 3, 30),
            "position": k,
            "status": "not_started",
            "created_at": IMPORTED,
            "updated_at": IMPORTED,
        }


def programme_yaml(participants: int, path: Path) -> None:
    """The same programme as a file for `tracker import`, written line by line."""
    head = (Path(__file__).resolve().parents[2] / "examples/programme.yaml").read_text(
        encoding="utf-8"
    )
    with path.open("w", encoding="utf-8") as out:
        out.write(head.split("participants:")[0].replace("slug: ", "slug: bench-", 1))
        out.write("participants:\n")
        for n in range(participants):
            out.write(
                f"  - name: 参与者 {n}\n"
                f"    email: person.{n}@city{n % 50}.example.cn\n"
                f"    organisation: 示例市生态环境局 {n % 50}\n"
                "    actions:\n"
            )
            for k in range(ACTIONS_EACH):
                out.write(
                    f'      - {{ref: "{k + 1}", title: 行动事项 {k + 1}：清洁空气, '
                    f"due: 2019-{9 + k % 3:02d}-30}}\n"
                )
