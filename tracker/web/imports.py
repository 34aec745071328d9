"""Import a programme file or a participants spreadsheet: problems, then changes, then apply."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from tracker.mail.render import template_languages
from tracker.programme.sheet import COLUMNS, REQUIRED_COLUMNS
from tracker.programme.sheet_template import template_csv, template_xlsx
from tracker.services.uploads import ImportChanged, ImportPreview, apply_import, preview_import
from tracker.web.access import load_programme
from tracker.web.app import MAX_UPLOAD_BYTES
from tracker.web.configure_forms import ConfirmImportForm, UploadForm
from tracker.web.context import actor, now, signed_in, unit_of_work, web

blueprint = Blueprint("imports", __name__, url_prefix="/programmes/<slug>/import")

# The confirmation sends the file back in base64 (4 bytes for 3) within the upload limit.
MAX_CONFIRMABLE_BYTES = MAX_UPLOAD_BYTES * 3 // 4 - 2**16
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blueprint.get("", endpoint="upload")
def upload(slug: str) -> str:
    with unit_of_work() as session:
        name = load_programme(slug, session=session).name
    return _upload_page(slug, name, UploadForm())


@blueprint.post("", endpoint="preview")
def preview(slug: str) -> str | tuple[str, int]:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        name = programme.name
        form = UploadForm()
        if not form.validate_on_submit():
            return _upload_page(slug, name, form), 422
        upload = form.file.data
        data = upload.read()
        filename = upload.filename or "upload"
        if len(data) > MAX_CONFIRMABLE_BYTES:
            form.file.errors.append(
                _(
                    "This file is larger than %(mb)d MB: import it with `tracker import`.",
                    mb=MAX_CONFIRMABLE_BYTES // 2**20,
                )
            )
            return _upload_page(slug, name, form), 413
        found = preview_import(
            programme,
            filename,
            data,
            session=session,
            now=now(),
            coordinator_email=signed_in().email,
            languages=template_languages(web().mail_env),
        )
    return _preview_page(slug, name, found, data)


@blueprint.post("/confirm", endpoint="confirm")
def confirm(slug: str) -> BaseResponse | str | tuple[str, int]:
    with unit_of_work() as session:
        name = load_programme(slug, session=session).name
    form = ConfirmImportForm()
    data = _decoded(form.content.data or "") if form.validate_on_submit() else None
    if data is None:
        flash(_("The confirmation was incomplete: upload the file again."), "error")
        return redirect(url_for("imports.upload", slug=slug))
    try:
        with unit_of_work() as session:
            programme = load_programme(slug, session=session)
            applied = apply_import(
                programme,
                form.filename.data or "upload",
                data,
                sha256=form.sha256.data or "",
                changes_digest=form.changes.data or "",
                session=session,
                now=now(),
                coordinator_email=signed_in().email,
                actor=actor(),
                languages=template_languages(web().mail_env),
            )
    except ImportChanged as changed:
        flash(str(changed), "error")
        return _preview_page(slug, name, changed.preview, data), 409
    flash(
        ngettext("Imported: %(num)d change.", "Imported: %(num)d changes.", len(applied.changes)),
        "success",
    )
    return redirect(url_for("programmes.overview", slug=slug))


@blueprint.get("/participants.xlsx", endpoint="template_xlsx")
def template_xlsx_file(slug: str) -> Response:
    with unit_of_work() as session:
        load_programme(slug, session=session)
    return _download(template_xlsx(), "participants.xlsx", XLSX_TYPE)


@blueprint.get("/participants.csv", endpoint="template_csv")
def template_csv_file(slug: str) -> Response:
    with unit_of_work() as session:
        load_programme(slug, session=session)
    return _download(template_csv(), "participants.csv", "text/csv; charset=utf-8")


def _upload_page(slug: str, name: str, form: UploadForm) -> str:
    return render_template(
        "web/imports/upload.html",
        slug=slug,
        programme_name=name,
        form=form,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
    )


def _preview_page(slug: str, name: str, found: ImportPreview, data: bytes) -> str:
    confirm = ConfirmImportForm(
        filename=found.filename,
        content=base64.b64encode(data).decode("ascii"),
        sha256=found.sha256,
        changes=found.digest,
    )
    return render_template(
        "web/imports/preview.html",
        slug=slug,
        programme_name=name,
        preview=found,
        confirm=confirm,
        form=UploadForm(),
    )


def _decoded(content: str) -> bytes | None:
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return None


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
