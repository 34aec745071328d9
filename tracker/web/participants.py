"""One participant: their actions and history, and what a coordinator can do about them."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from tracker.core.model import ParticipantState
from tracker.services.attachments import file_for_download
from tracker.services.coordinating import set_participant_state
from tracker.services.email_change import change_participant_email
from tracker.services.nudging import request_reminder
from tracker.services.participant_history import participant_page
from tracker.services.pausing import pause_participant
from tracker.services.recording_heard import record_heard
from tracker.services.review_queue import message_text
from tracker.web.access import load_inbound, load_participant
from tracker.web.context import actor, now, unit_of_work
from tracker.web.forms import ChangeEmailForm, ConfirmForm, PauseForm, RecordForm, RemindForm

blueprint = Blueprint("participants", __name__, url_prefix="/programmes/<slug>")


@blueprint.get("/participants/<int:participant_id>", endpoint="show")
def show(slug: str, participant_id: int) -> str:
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        page = participant_page(participant, session=session)
    return render_template(
        "web/participants/show.html",
        page=page,
        slug=slug,
        record_form=RecordForm(),
        pause_form=PauseForm(),
        email_form=ChangeEmailForm(),
        remind_form=RemindForm.fresh(),
        confirm_form=ConfirmForm(),
    )


@blueprint.post("/participants/<int:participant_id>/record", endpoint="record")
def record(slug: str, participant_id: int) -> Response:
    form = RecordForm()
    if not form.validate_on_submit():
        flash(_("Write what you heard, e.g. “2: in progress 60%”."), "error")
        return _back(slug, participant_id)
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        rows = record_heard(
            participant, form.text.data or "", session=session, now=now(), actor=actor()
        )
    flash(ngettext("%(num)d update recorded.", "%(num)d updates recorded.", len(rows)), "success")
    return _back(slug, participant_id)


@blueprint.post("/participants/<int:participant_id>/pause", endpoint="pause")
def pause(slug: str, participant_id: int) -> Response:
    form = PauseForm()
    if not form.validate_on_submit():
        flash(_("That is not a date."), "error")
        return _back(slug, participant_id)
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        pause_participant(
            participant, until=form.until.data, session=session, now=now(), actor=actor()
        )
    if form.until.data:
        flash(_("Paused until %(day)s.", day=form.until.data.isoformat()), "success")
    else:
        flash(_("Paused until you resume them."), "success")
    return _back(slug, participant_id)


@blueprint.post("/participants/<int:participant_id>/resume", endpoint="resume")
def resume(slug: str, participant_id: int) -> Response:
    return _set_state(slug, participant_id, ParticipantState.ACTIVE, _("Follow-up resumed."))


@blueprint.post("/participants/<int:participant_id>/opt-out", endpoint="opt_out")
def opt_out(slug: str, participant_id: int) -> Response:
    return _set_state(
        slug,
        participant_id,
        ParticipantState.OPTED_OUT,
        _("Opted out: they will get no more mail."),
    )


@blueprint.post("/participants/<int:participant_id>/change-email", endpoint="change_email")
def change_email(slug: str, participant_id: int) -> Response:
    form = ChangeEmailForm()
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        if not form.validate_on_submit():
            flash(_("Write the participant's new address."), "error")
            return _back(slug, participant_id)
        old = change_participant_email(
            participant, form.email.data or "", session=session, now=now(), by=actor()
        )
        new = participant.email
    flash(_("%(old)s is now %(new)s; their history stays with them.", old=old, new=new), "success")
    return _back(slug, participant_id)


@blueprint.post("/participants/<int:participant_id>/remind", endpoint="remind")
def remind(slug: str, participant_id: int) -> Response:
    form = RemindForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        outcome = request_reminder(
            participant, request=form.nonce.data or "", session=session, now=now(), actor=actor()
        )
    if outcome.created:
        flash(_("A reminder will go out with the next sending pass (within a minute)."), "success")
    else:
        flash(_("That reminder was already requested."), "info")
    return _back(slug, participant_id)


@blueprint.get("/participants/<int:participant_id>/files/<int:attachment_id>", endpoint="file")
def file(slug: str, participant_id: int, attachment_id: int) -> Response:
    """A file the participant sent: always downloaded, never shown inline."""
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        found = file_for_download(participant, attachment_id, session=session)
        if found is None or found.content is None:
            abort(404)
        content, content_type, filename = found.content, found.content_type, found.filename
    # send_file writes the name as RFC 6266 (an ASCII fallback and filename*=UTF-8''),
    # so a Chinese file name survives any server.
    response = send_file(
        io.BytesIO(content),
        mimetype=content_type,
        as_attachment=True,
        download_name=filename,
        etag=False,
        max_age=0,
    )
    # Even were it rendered, it could load nothing. (Not `sandbox`: Chromium then
    # refuses the download itself.)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/messages/<int:inbound_id>", endpoint="message")
def message(slug: str, inbound_id: int) -> str:
    with unit_of_work() as session:
        inbound = load_inbound(slug, inbound_id, session=session)
        text = message_text(inbound)
        participant_id = inbound.participant_id
    return render_template(
        "web/participants/message.html", message=text, slug=slug, participant_id=participant_id
    )


def _set_state(slug: str, participant_id: int, state: ParticipantState, done: str) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        set_participant_state(participant, state, session=session, now=now(), actor=actor())
    flash(done, "success")
    return _back(slug, participant_id)


def _back(slug: str, participant_id: int) -> Response:
    return redirect(url_for("participants.show", slug=slug, participant_id=participant_id))
