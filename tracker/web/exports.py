"""Downloads of a programme's figures: actions, updates and files sent, as CSV or XLSX."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request, send_file, stream_with_context

from tracker.services.export_files import csv_chunks, write_xlsx
from tracker.services.exports import ExportKind, export_table
from tracker.web.access import load_programme
from tracker.web.context import now, unit_of_work, web

blueprint = Blueprint("exports", __name__, url_prefix="/programmes/<slug>/exports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An XLSX is built whole before it is sent; past this size it waits on disk, not in memory.
_SPOOL_BYTES = 8 * 1024 * 1024


@blueprint.get("", endpoint="index")
def index(slug: str) -> str:
    with unit_of_work() as session:
        name = load_programme(slug, session=session).name
    return render_template("web/exports/index.html", slug=slug, programme_name=name)


@blueprint.get("/actions", endpoint="actions")
def actions(slug: str) -> Response:
    return _export(slug, "actions")


@blueprint.get("/updates", endpoint="updates")
def updates(slug: str) -> Response:
    return _export(slug, "updates")


@blueprint.get("/files", endpoint="files")
def files(slug: str) -> Response:
    return _export(slug, "files")


def _export(slug: str, kind: ExportKind) -> Response:
    with unit_of_work() as session:
        programme_id = load_programme(slug, session=session).id
    filename = f"{slug}-{kind}-{now().date().isoformat()}"
    if request.args.get("format") == "xlsx":
        return _xlsx(programme_id, kind, f"{filename}.xlsx")
    response = Response(
        stream_with_context(_csv(programme_id, kind)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _csv(programme_id: int, kind: ExportKind) -> Iterator[bytes]:
    """The rows as they are read: the response starts before the last row is known."""
    with web().session_factory.begin() as session:
        table = export_table(kind, session=session, programme_ids=[programme_id])
        for chunk in csv_chunks(table.header, table.rows):
            yield chunk.encode("utf-8")


def _xlsx(programme_id: int, kind: ExportKind, filename: str) -> Response:
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (send_file closes it)
    with unit_of_work() as session:
        table = export_table(kind, session=session, programme_ids=[programme_id])
        write_xlsx(table.header, table.rows, spool, title=kind)  # type: ignore[arg-type]
    spool.seek(0)
    return send_file(spool, mimetype=XLSX_TYPE, as_attachment=True, download_name=filename)
