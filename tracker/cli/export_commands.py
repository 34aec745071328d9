"""`tracker export actions|updates`: figures for a spreadsheet, as CSV or XLSX."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click

from tracker.cli.runtime import Runtime
from tracker.errors import TrackerError
from tracker.services.export_files import write_csv, write_xlsx
from tracker.services.exports import EXPORT_KINDS, ExportKind, export_table
from tracker.services.schedule import find_programme


@click.command("export")
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option("--programme", "slug", metavar="SLUG", help="Only this programme.")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    help="CSV (UTF-8) or XLSX; by default the --output file's, else CSV.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
def export_command(
    kind: ExportKind, slug: str | None, file_format: str | None, output: Path | None
) -> None:
    """Export KIND: `actions` (each with its latest status) or `updates` (every one).

    Cells that a spreadsheet program would run as a formula (beginning with
    = + - @, a tab or a carriage return) start with an apostrophe instead.
    """
    chosen = file_format or ("xlsx" if output and output.suffix.lower() == ".xlsx" else "csv")
    if chosen == "xlsx" and output is None and sys.stdout.isatty():
        raise click.UsageError("an XLSX file is binary: write it with --output FILE")
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        ids = [find_programme(slug, session=session).id] if slug is not None else None
        table = export_table(kind, session=session, programme_ids=ids)
        try:
            with _opened(output) as out:
                if chosen == "xlsx":
                    count = write_xlsx(table.header, table.rows, out, title=kind)
                else:
                    count = write_csv(table.header, table.rows, out)
        except OSError as error:
            raise TrackerError(f"{output}: cannot write it ({error.strerror})") from None
    if output is not None:
        click.echo(f"{count} {kind} row(s) written to {output}", err=True)


@contextmanager
def _opened(output: Path | None) -> Iterator[BinaryIO]:
    if output is None:
        yield sys.stdout.buffer
        return
    with output.open("wb") as file:
        yield file


def register(group: click.Group) -> None:
    group.add_command(export_command)
