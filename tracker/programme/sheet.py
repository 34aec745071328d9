"""A participants spreadsheet: one row per action, read into validated participants.

Columns are found by their header (English, or the Chinese aliases below; case,
spaces and underscores do not matter), in any order. A participant's columns
repeat on each of their rows (or stay blank after the first); a row with no
action columns filled is a participant without actions. Values are checked by
the programme file's own converters, and every problem names its row and
column as the spreadsheet shows them ("row 4, column C (due)").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from openpyxl.utils import get_column_letter

from tracker.errors import ProgrammeFileError
from tracker.programme.fields import participant_fields
from tracker.programme.sheet_files import Cell
from tracker.programme.spec import ActionSpec, ParticipantSpec
from tracker.programme.values import (
    date_value,
    email_value,
    ref_value,
    text_value,
)

T = TypeVar("T")

# Column name: the headers that name it. The first is the one the template uses.
COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "邮箱", "电子邮件", "电子邮箱"),
    "name": ("name", "姓名", "名字"),
    "organisation": ("organisation", "organization", "单位", "机构", "工作单位"),
    "language": ("language", "语言"),
    "timezone": ("timezone", "time zone", "时区"),
    "country": ("country", "国家", "国家/地区"),
    "ref": ("ref", "action ref", "编号", "行动编号"),
    "action": ("action", "title", "action title", "行动", "行动名称"),
    "due": ("due", "due date", "截止日期", "到期日"),
}
REQUIRED_COLUMNS = ("email", "name", "ref", "action", "due")
PARTICIPANT_COLUMNS = ("name", "organisation", "language", "timezone", "country")
ACTION_COLUMNS = ("ref", "action", "due")

# Year first, then month and day: 2019/9/30, 2019.9.30, 2019年9月30日 (what
# spreadsheets show for dates typed as text). Day-first and month-first
# orders are ambiguous and stay errors.
_YEAR_FIRST = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetReading:
    """The participants of a valid sheet, and what was read but not used."""

    participants: tuple[ParticipantSpec, ...]
    rows: int
    columns: frozenset[str]  # the known columns the sheet has
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class _Person:
    first_row: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)  # column: (value, row)
    actions: list[ActionSpec] = field(default_factory=list)
    refs: dict[str, int] = field(default_factory=dict)  # ref: row


def header_key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower())


_ALIASES = {header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


def read_participants_sheet(
    rows: Sequence[Sequence[Cell]],
    *,
    path: str,
    starts_on: date | None = None,
    languages: Collection[str] | None = None,
) -> SheetReading:
    """Validate the sheet; raise ProgrammeFileError listing every problem by row and column.

    1. The first non-empty row is the header: find each known column.
    2. Each later non-empty row: the participant (by email) and, when its
       action cells are filled, one action.
    3. A participant's values must agree across their rows; refs are unique
       per participant; due dates are not before the programme starts.
    """
    reader = _SheetReader(path, starts_on, participant_fields(languages))
    reading = reader.read(rows)
    if reader.problems or reading is None:
        raise ProgrammeFileError(path, [text for _, text in sorted(reader.problems)])
    return reading


class _SheetReader:
    def __init__(
        self, path: str, starts_on: date | None, converters: dict[str, Callable[[str], Any]]
    ) -> None:
        self.path = path
        self.converters = converters
        self.starts_on = starts_on
        self.problems: list[tuple[tuple[int, int], str]] = []
        self.columns: dict[str, int] = {}

    def problem(self, row: int, column: str | None, message: str) -> None:
        if column is None:
            self.problems.append(((row, 0), f"row {row}: {message}"))
            return
        index = self.columns[column]
        where = f"row {row}, column {get_column_letter(index + 1)} ({column})"
        self.problems.append(((row, index + 1), f"{where}: {message}"))

    def read(self, rows: Sequence[Sequence[Cell]]) -> SheetReading | None:
        numbered = [(n, row) for n, row in enumerate(rows, start=1) if _filled(row)]
        if not numbered:
            self.problems.append(((0, 0), "the sheet is empty: it needs a header row"))
            return None
        header_row, header = numbered[0]
        warnings = self.header(header_row, header)
        if self.problems:
            return None
        people: dict[str, _Person] = {}
        for number, row in numbered[1:]:
            self.row(number, row, people)
        participants = tuple(self.participant(email, person) for email, person in people.items())
        return SheetReading(
            participants=participants,
            rows=len(numbered) - 1,
            columns=frozenset(self.columns),
            warnings=tuple(warnings),
        )

    def header(self, number: int, cells: Sequence[Cell]) -> list[str]:
        warnings = []
        for index, cell in enumerate(cells):
            text = _text(cell)
            if not text:
                continue
            name = _ALIASES.get(header_key(text))
            letter = get_column_letter(index + 1)
            if name is None:
                warnings.append(f"column {letter} ({text}) is not read by the tracker")
            elif name in self.columns:
                first = get_column_letter(self.columns[name] + 1)
                self.problems.append(
                    (
                        (number, index + 1),
                        f"row {number}, column {letter}: a second {name} "
                        f"column (the first is column {first})",
                    )
                )
            else:
                self.columns[name] = index
        for name in REQUIRED_COLUMNS:
            if name not in self.columns:
                aliases = ", ".join(COLUMNS[name])
                self.problems.append(
                    ((number, 0), f"row {number}: no {name} column (its header may be: {aliases})")
                )
        return warnings

    def cell(self, row: Sequence[Cell], column: str) -> Cell:
        index = self.columns.get(column)
        return row[index] if index is not None and index < len(row) else None

    def value(
        self, number: int, row: Sequence[Cell], column: str, convert: Callable[[str], T]
    ) -> T | None:
        text = _text(self.cell(row, column))
        if not text:
            return None
        try:
            return convert(text)
        except ValueError as error:
            self.problem(number, column, str(error))
            return None

    def row(self, number: int, row: Sequence[Cell], people: dict[str, _Person]) -> None:
        email = self.value(number, row, "email", email_value)
        if email is None:
            if not _text(self.cell(row, "email")):
                self.problem(number, "email", "missing: every row needs the participant's email")
            return
        person = people.setdefault(email, _Person(first_row=number))
        for column in PARTICIPANT_COLUMNS:
            text = _text(self.cell(row, column))
            if not text or column not in self.columns:
                continue
            known = person.values.get(column)
            if known is None:
                converted = self.participant_value(number, column, text)
                if converted is not None:
                    person.values[column] = (converted, number)
            elif known[0] != text and self.participant_value(number, column, text) != known[0]:
                self.problem(
                    number,
                    column,
                    f"{text!r} differs from {known[0]!r} on row {known[1]} for {email}",
                )
        self.action(number, row, email, person)

    def participant_value(self, number: int, column: str, text: str) -> str | None:
        try:
            return str(self.converters[column](text))
        except ValueError as error:
            self.problem(number, column, str(error))
            return None

    def action(self, number: int, row: Sequence[Cell], email: str, person: _Person) -> None:
        filled = [c for c in ACTION_COLUMNS if _text(self.cell(row, c))]
        if not filled:
            return  # a participant without actions (or one more row of their details)
        for column in ACTION_COLUMNS:
            if column not in filled:
                self.problem(number, column, "missing: an action needs its ref, action and due")
        ref = self.value(number, row, "ref", ref_value)
        title = self.value(number, row, "action", text_value(500))
        due = self.value(number, row, "due", _sheet_date)
        if due is not None and self.starts_on is not None and due < self.starts_on:
            self.problem(number, "due", f"{due} is before the programme starts ({self.starts_on})")
        if ref is not None and ref in person.refs:
            # Checked even when this row has other problems: one must not hide another.
            self.problem(
                number, "ref", f"action {ref!r} of {email} is also on row {person.refs[ref]}"
            )
            return
        if ref is not None:
            person.refs[ref] = number
        if ref is not None and title is not None and due is not None:
            person.actions.append(ActionSpec(ref=ref, title=title, due=due))

    def participant(self, email: str, person: _Person) -> ParticipantSpec:
        values = {column: value for column, (value, _) in person.values.items()}
        if "name" not in values:
            self.problem(person.first_row, "name", f"missing: {email} needs a name")
        return ParticipantSpec(
            name=values.get("name", ""),
            email=email,
            organisation=values.get("organisation"),
            language=values.get("language"),
            timezone=values.get("timezone"),
            country=values.get("country"),
            actions=tuple(person.actions),
        )


def _filled(row: Sequence[Cell]) -> bool:
    return any(_text(cell) for cell in row)


def _text(cell: Cell) -> str:
    """A cell as the text a person typed: dates as YYYY-MM-DD, whole numbers without ".0"."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _sheet_date(raw: str) -> date:
    match = _YEAR_FIRST.fullmatch(raw)
    if match is not None:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None
    return date_value(raw)
