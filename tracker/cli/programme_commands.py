"""Commands about the database and programmes: `db upgrade`, `import`, `status`."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import click

from tracker.cli.json_stream import write_json
from tracker.cli.progress import progress_bar, wants_progress
from tracker.cli.runtime import Runtime, parse_now, print_json
from tracker.cli.tables import format_table, truncate
from tracker.config import Settings
from tracker.db import migrate
from tracker.errors import ProgrammeFileError, TrackerError
from tracker.mail.render import create_mail_environment, template_languages
from tracker.programme.limits import ReadingLimits, too_large
from tracker.services.import_sources import ImportSource, read_import_source
from tracker.services.importing import import_programme
from tracker.services.status import programme_status, streamed_status

# A small import lists each change; a larger one (a first import of a big
# programme) is summarised by kind, with --changes to list every line.
LISTED_CHANGES = 50


@click.group()
def db() -> None:
    """Set up and migrate the database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest revision (safe to run again)."""
    runtime = Runtime.from_environment()
    try:
        before, after = migrate.upgrade(runtime.engine)
    except Exception as error:  # a driver error names the cause; a traceback helps nobody
        message = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise TrackerError(
            f"cannot migrate the database: {message[0] if message else error}"
        ) from None
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database migrated from {before or 'empty'} to revision {after}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--programme",
    "slug",
    metavar="SLUG",
    help="The programme a spreadsheet (.xlsx, .csv) of participants and actions updates.",
)
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option(
    "--changes",
    "list_all",
    is_flag=True,
    help=f"List every change, however many (by default, up to {LISTED_CHANGES}).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option(
    "--now", "now_text", metavar="ISO8601", help="The moment of the import (tests, replays)."
)
def import_command(
    file: Path,
    slug: str | None,
    dry_run: bool,
    list_all: bool,
    as_json: bool,
    now_text: str | None,
) -> None:
    """Load a programme file, or a spreadsheet of participants and actions into
    programme SLUG: all or nothing; a re-import updates in place.

    Says what changes, old → new ("action 1 of grace@…: due 2019-09-30 →
    2019-10-31"); with --dry-run, what would change, writing nothing.
    """
    runtime = Runtime.from_environment()
    source = read_programme(file, runtime.settings)
    now = parse_now(now_text)
    runtime.require_current_schema()
    with runtime.session_factory() as session:
        prepared = source.prepare(session=session, slug=slug)
        spec = prepared.spec
        for warning in prepared.warnings:
            click.echo(f"warning: {file}: {warning}", err=True)
        bar = progress_bar(
            "Importing participants",
            len(spec.participants),
            enabled=wants_progress(as_json=as_json) and len(spec.participants) >= 100,
        )
        with bar as advance:
            # Only what is printed is kept: a first import of a large file has a change
            # per participant and per action.
            report = import_programme(
                spec,
                session=session,
                now=now,
                advance=advance,
                keep_changes=None if as_json or list_all else LISTED_CHANGES,
            )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    if as_json:
        warnings = list(prepared.warnings)
        print_json({**report.to_json(), "dry_run": dry_run, "warnings": warnings})
        return
    verb = "would change" if dry_run else "changed"
    if not report.changed:
        click.echo(f"{spec.slug}: up to date, nothing {verb}")
        return
    if report.complete:
        for line in report.lines():
            click.echo(f"  {line}")
    else:
        click.echo(f"  {report.total} changes: {report.summary()} (list them with --changes)")
    click.echo(
        f"{spec.slug}: {verb}: {report.created} new, {report.updated} updated, "
        f"{report.archived} archived" + (" (dry run: nothing written)" if dry_run else "")
    )


def read_programme(file: Path, settings: Settings) -> ImportSource:
    """Read and check a programme file or a spreadsheet within the configured limits."""
    limits = ReadingLimits(megabytes=settings.max_programme_mb)
    try:
        with file.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)  # never more than the limit into memory
    except FileNotFoundError:
        raise TrackerError(f"{file}: no such file") from None
    except OSError as error:
        raise TrackerError(f"{file}: cannot read it ({error.strerror})") from None
    if (problem := too_large(len(data), limits)) is not None:
        raise ProgrammeFileError(str(file), [problem])
    languages = template_languages(create_mail_environment())
    return read_import_source(str(file), data, languages=languages, limits=limits)


@click.command("status")
@click.option("--programme", "slug", metavar="SLUG", help="Only this programme.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
def status_command(slug: str | None, as_json: bool) -> None:
    """Where every participant and action stands."""
    runtime = Runtime.from_environment()
    if as_json:
        # Streamed: a programme of any size is written participant by participant.
        with runtime.unit_of_work() as session:
            programmes = streamed_status(session=session, slug=slug)
            first = next(programmes, None)  # an unknown slug fails before any output
            chain = itertools.chain([first], programmes) if first is not None else iter(())
            write_json({"programmes": chain}, sys.stdout)
        return
    with runtime.unit_of_work() as session:
        document = programme_status(session=session, slug=slug)
    if not document["programmes"]:
        click.echo("no programmes yet: load one with `tracker import FILE`")
    for programme in document["programmes"]:
        click.echo(status_text(programme))


def status_text(programme: dict[str, Any]) -> str:
    lines = [f"{programme['slug']}  {programme['name']}"]
    for person in programme["participants"]:
        last = person["last_reply_at"][:10] if person["last_reply_at"] else "never"
        lines.append("")
        state = person["state"]
        if person.get("paused_until"):
            state += f" until {person['paused_until']}"
        lines.append(f"  {person['name']} <{person['email']}>  {state}, last reply: {last}")
        rows = []
        for action in person["actions"]:
            update = action["last_update"]
            percent = f"{action['percent']}%" if action["percent"] is not None else ""
            rows.append(
                [
                    action["ref"],
                    truncate(action["title"], 40),
                    action["due"],
                    action["status"].replace("_", " "),
                    percent,
                    truncate(f"{update['at'][:10]} {update['note']}".strip(), 40) if update else "",
                ]
            )
        if rows:
            headers = ["ref", "action", "due", "status", "%", "last update"]
            lines.append(format_table(headers, rows, indent="    "))
        lines.extend(failed_send_line(send) for send in person.get("failed_sends", []))
    return "\n".join(lines)


def failed_send_line(send: dict[str, Any]) -> str:
    """A message to or about the participant that did not go out, as `status` shows it."""
    what = f"{send['kind'].replace('_', ' ')} (message {send['id']})"
    if send["state"] == "retrying":
        return f"    ! {what} not sent yet, next try {send['retry_at'][:16]}: {send['error']}"
    retry = f"`tracker outbox retry {send['id']}`"
    return f"    ! {what} failed {send['at'][:10]}: {send['error']} ({retry} sends it again)"


def register(group: click.Group) -> None:
    group.add_command(db)
    group.add_command(import_command)
    group.add_command(status_command)
