"""What an import changes, item by item, old → new.

The report is plain data: the CLI prints it (`tracker import --dry-run`), its
JSON goes to scripts, and a preview page can show it before anything is
written. Each `Change` is one line a coordinator reads, such as
`action 1 of grace@example.org: due 2019-09-30 → 2019-10-31` or
`check_in rule: every 1 month → every 2 weeks`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Entity = Literal["programme", "coordinator", "rule", "participant", "action"]
What = Literal["new", "changed", "archived", "restored", "added", "removed"]

NOT_SET = "(not set)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One thing an import creates, changes, archives or restores."""

    entity: Entity
    subject: str  # "action 1 of grace@example.org", "programme shrdc-2019-china", "check_in rule"
    what: What
    field: str | None = None  # the file's own key: "due", "every", "timezone", …
    old: str | None = None
    new: str | None = None
    note: str = ""  # "not in the file", "to shrdc-2019-china", "days 7, at 09:30"

    def text(self) -> str:
        if self.what == "changed":
            # A rule reads best with its key on both sides: "every 1 month → every 2 weeks".
            again = f"{self.field} " if self.entity == "rule" else ""
            return f"{self.subject}: {self.field} {self.old} → {again}{self.new}"
        return f"{self.subject}: {self.what}" + (f" ({self.note})" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "subject": self.subject,
            "change": self.what,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "text": self.text(),
        }


@dataclass(slots=True)
class ImportReport:
    """What an import changed (or, for a dry run, would change).

    Every change is counted; `keep` bounds how many are kept to be listed (None:
    all), so a first import of 500,000 actions need not hold 500,000 lines.
    """

    slug: str
    keep: int | None = None
    created: int = 0
    updated: int = 0
    archived: int = 0
    changes: list[Change] = field(default_factory=list)  # the first `keep`, in order
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (entity, what)

    @property
    def changed(self) -> bool:
        return self.total > 0

    @property
    def total(self) -> int:
        """How many changes there are, listed or not."""
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        """Whether every change is listed."""
        return len(self.changes) == self.total

    def add(self, *changes: Change) -> None:
        for change in changes:
            self.counts[change.entity, change.what] += 1
            if self.keep is None or len(self.changes) < self.keep:
                self.changes.append(change)

    def lines(self) -> list[str]:
        return [change.text() for change in self.changes]

    def summary(self) -> str:
        """Counts by kind of thing, for a large import: "12 participants new, 3 actions changed"."""
        parts = [
            f"{count} {entity}{'s' if count != 1 else ''} {what}"
            for (entity, what), count in sorted(self.counts.items())
        ]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        assert self.complete, "a report read as JSON keeps every change"
        return {
            "programme": self.slug,
            "created": self.created,
            "updated": self.updated,
            "archived": self.archived,
            "changes": [change.to_json() for change in self.changes],
        }


def shown(value: object, *, unset: str = NOT_SET, quoted: bool = False) -> str:
    """A value as a change line shows it: dates ISO, booleans true/false, text in quotes."""
    if value is None or value == "":
        return unset
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return f'"{value}"' if quoted else str(value)


def field_changes(
    entity: Entity,
    subject: str,
    pairs: dict[str, tuple[object, object]],
    *,
    quoted: frozenset[str] = frozenset(),
    unset: str = NOT_SET,
) -> list[Change]:
    """One change per field whose old and new values differ, in the order given."""
    return [
        Change(
            entity=entity,
            subject=subject,
            what="changed",
            field=name,
            old=shown(old, unset=unset, quoted=name in quoted),
            new=shown(new, unset=unset, quoted=name in quoted),
        )
        for name, (old, new) in pairs.items()
        if old != new
    ]
