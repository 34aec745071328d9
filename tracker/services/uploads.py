"""Importing an uploaded file in two steps: see every problem or every change, then apply.

Step one reads the file, checks it against the programme and runs the import
inside a savepoint that is rolled back: the report lists what would change
(old → new), and nothing does. Step two runs the same import for real, but
only if the file is byte for byte the one previewed (its SHA-256) and the
changes are exactly those previewed (a digest of their lines): if the
programme changed in between, nothing is applied and the new changes are
shown instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tracker.db.orm import Event, Programme
from tracker.errors import ProgrammeFileError, TrackerError
from tracker.programme.sheet_files import is_sheet
from tracker.services.import_sources import PreparedImport, read_import_source
from tracker.services.importing import ImportReport, import_programme


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportPreview:
    """What an uploaded file would do: its problems, or its changes."""

    filename: str
    sha256: str
    is_sheet: bool
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    created: int = 0
    updated: int = 0
    archived: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def digest(self) -> str:
        """Names exactly these changes (what the confirmation must find again)."""
        return hashlib.sha256("\n".join(self.changes).encode("utf-8")).hexdigest()


class ImportChanged(TrackerError):
    """The file or the programme is not what was previewed; nothing was applied."""

    def __init__(self, message: str, preview: ImportPreview) -> None:
        super().__init__(message)
        self.preview = preview


def preview_import(
    programme: Programme,
    filename: str,
    data: bytes,
    *,
    session: Session,
    now: datetime,
    coordinator_email: str,
    languages: Collection[str],
) -> ImportPreview:
    """Every problem of the file, else every change it would make; writes nothing.

    `languages`: the mail templates' languages, which participants may have.
    """
    digest = hashlib.sha256(data).hexdigest()
    try:
        prepared = _prepared(programme, filename, data, session, coordinator_email, languages)
    except ProgrammeFileError as error:
        return ImportPreview(
            filename=filename,
            sha256=digest,
            is_sheet=is_sheet(filename),
            problems=tuple(error.problems),
        )
    except TrackerError as error:
        return ImportPreview(
            filename=filename, sha256=digest, is_sheet=is_sheet(filename), problems=(str(error),)
        )
    savepoint = session.begin_nested()
    try:
        report = import_programme(prepared.spec, session=session, now=now)
    finally:
        savepoint.rollback()
    return _preview(filename, digest, prepared, report)


def apply_import(
    programme: Programme,
    filename: str,
    data: bytes,
    *,
    sha256: str,
    changes_digest: str,
    session: Session,
    now: datetime,
    coordinator_email: str,
    actor: str,
    languages: Collection[str],
) -> ImportPreview:
    """Apply the file previewed; ImportChanged (nothing applied) when it is not that one.

    The caller's transaction holds the import; on ImportChanged it must roll back.
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        preview = preview_import(
            programme,
            filename,
            data,
            session=session,
            now=now,
            coordinator_email=coordinator_email,
            languages=languages,
        )
        raise ImportChanged("The file is not the one previewed: check the changes again.", preview)
    prepared = _prepared(programme, filename, data, session, coordinator_email, languages)
    report = import_programme(prepared.spec, session=session, now=now)
    applied = _preview(filename, digest, prepared, report)
    if applied.digest != changes_digest:
        raise ImportChanged(
            "The programme changed since the preview: here is what the file would do now.",
            applied,
        )
    session.add(
        Event(
            at=now,
            action="programme.imported",
            programme_id=programme.id,
            actor=actor,
            detail=f"{filename} (sha256 {digest[:12]}): {len(applied.changes)} change(s)",
        )
    )
    return applied


def report_lines(report: ImportReport) -> list[str]:
    """The report's changes as the lines a coordinator reads."""
    return [c if isinstance(c, str) else c.text() for c in report.changes]


def _prepared(
    programme: Programme,
    filename: str,
    data: bytes,
    session: Session,
    coordinator_email: str,
    languages: Collection[str],
) -> PreparedImport:
    source = read_import_source(filename, data, languages=languages)
    prepared = source.prepare(session=session, slug=programme.slug)
    if coordinator_email not in {c.email for c in prepared.spec.coordinators}:
        raise TrackerError(
            f"{filename} does not list you ({coordinator_email}) among the programme's "
            "coordinators: you would lose access to it"
        )
    return prepared


def _preview(
    filename: str, digest: str, prepared: PreparedImport, report: ImportReport
) -> ImportPreview:
    return ImportPreview(
        filename=filename,
        sha256=digest,
        is_sheet=is_sheet(filename),
        warnings=prepared.warnings,
        changes=tuple(report_lines(report)),
        created=report.created,
        updated=report.updated,
        archived=report.archived,
    )
