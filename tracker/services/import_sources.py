"""What can be imported: a programme file (YAML) or a participants spreadsheet (XLSX, CSV).

A YAML file is a whole programme. A spreadsheet holds only participants and
their actions: it updates an existing programme, whose settings, coordinators
and rules stay, so it becomes that programme's `ProgrammeSpec` with the
sheet's participants, and goes through the same `import_programme` (and its
report of old → new) as a YAML file.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.orm import Participant, Programme
from tracker.errors import TrackerError
from tracker.programme.limits import ReadingLimits
from tracker.programme.reading import read_programme_file
from tracker.programme.sheet import SheetReading, read_participants_sheet
from tracker.programme.sheet_files import Cell, is_sheet, sheet_rows
from tracker.programme.spec import CoordinatorSpec, ParticipantSpec, ProgrammeSpec
from tracker.services.schedule import current_rules, find_programme


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedImport:
    """A valid programme to import, and what was read but not used."""

    spec: ProgrammeSpec
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportSource:
    """A file read and checked on its own; `prepare` checks it against the database."""

    filename: str
    sha256: str
    languages: tuple[str, ...]  # the mail templates' (participants may have only these)
    spec: ProgrammeSpec | None = None  # a programme file
    rows: tuple[tuple[Cell, ...], ...] | None = None  # a spreadsheet

    @property
    def is_sheet(self) -> bool:
        return self.rows is not None

    def prepare(self, *, session: Session, slug: str | None) -> PreparedImport:
        """The programme to import; a sheet needs `slug`, a YAML file must match it."""
        if self.spec is not None:
            if slug is not None and self.spec.slug != slug:
                raise TrackerError(
                    f"{self.filename} is the programme file of {self.spec.slug}, not {slug}"
                )
            return PreparedImport(spec=self.spec, warnings=self.spec.warnings)
        if slug is None:
            raise TrackerError(
                f"{self.filename}: a spreadsheet updates the participants of a programme: "
                "name it with --programme SLUG"
            )
        programme = find_programme(slug, session=session)
        reading = read_participants_sheet(
            self.rows or (),
            path=self.filename,
            starts_on=programme.starts_on,
            languages=self.languages,
        )
        spec = ProgrammeSpec(
            slug=programme.slug,
            name=programme.name,
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
            timezone=programme.timezone,
            language=programme.language,
            country=programme.country,
            working_days_only=programme.working_days_only,
            acknowledge_replies=programme.acknowledge_replies,
            weekly_digest=programme.weekly_digest,
            coordinators=tuple(
                CoordinatorSpec(name=c.name, email=c.email) for c in programme.coordinators
            ),
            rules=current_rules(programme),
            participants=_keeping_absent_columns(reading, programme, session=session),
        )
        return PreparedImport(spec=spec, warnings=reading.warnings)


def read_import_source(
    filename: str,
    data: bytes,
    *,
    languages: Collection[str],
    limits: ReadingLimits | None = None,
) -> ImportSource:
    """Read a file by its name's suffix: .xlsx or .csv is a sheet, anything else YAML.

    Problems of the file itself (not YAML, not a workbook, unknown keys…)
    raise `ProgrammeFileError` here, before any database is opened.
    """
    digest = hashlib.sha256(data).hexdigest()
    if is_sheet(filename):
        rows = tuple(tuple(row) for row in sheet_rows(data, filename=filename))
        return ImportSource(filename=filename, sha256=digest, languages=tuple(languages), rows=rows)
    if not _is_utf8(data):
        raise TrackerError(f"{filename}: not UTF-8 text")
    # The bytes, not a decoded copy: the spec reads its participants from them again.
    spec = read_programme_file(data, path=filename, languages=languages, limits=limits)
    return ImportSource(filename=filename, sha256=digest, languages=tuple(languages), spec=spec)


def _is_utf8(data: bytes, chunk: int = 1 << 20) -> bool:
    """Whether `data` decodes as UTF-8, checked a megabyte at a time (no decoded copy)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _keeping_absent_columns(
    reading: SheetReading, programme: Programme, *, session: Session
) -> tuple[ParticipantSpec, ...]:
    """The sheet's participants, with what a column the sheet lacks says kept as it is.

    A sheet without a language column leaves every participant's language
    alone; a blank cell in a language column means "the programme's".
    """
    absent = [
        c for c in ("organisation", "language", "timezone", "country") if c not in reading.columns
    ]
    if not absent:
        return reading.participants
    existing = {
        p.email: p
        for p in session.scalars(
            select(Participant).where(Participant.programme_id == programme.id)
        )
    }
    kept = []
    for person in reading.participants:
        row = existing.get(person.email)
        values = {c: getattr(row, c) for c in absent} if row is not None else {}
        kept.append(dataclasses.replace(person, **values))
    return tuple(kept)
