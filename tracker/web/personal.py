"""A participant's personal page (``/u/<token>``) and one-click unsubscribe.

No sign-in: the signed link in each reminder is the key, to these pages
only; it never starts a session for anything else. Pages speak the
participant's language. A link that does not open (altered, expired, for an
archived or opted-out participant) shows a plain page saying so and how to
get a fresh one, with 404 or 410, and nothing about anyone.

The unsubscribe POST is RFC 8058's one-click: mail clients send it with the
body ``List-Unsubscribe=One-Click`` and no CSRF token (the signed token in
the URL is what proves it came from the participant's mail). Undoing it is a
form of the confirmation page, with a CSRF token like every other form.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from tracker.core.model import ActionStatus
from tracker.db.orm import Participant
from tracker.inbound.attachments import AttachedFile, safe_content_type, safe_filename
from tracker.services.attachments import AttachmentLimits
from tracker.services.participant_links import (
    LinkProblem,
    LinkRefused,
    link_still_fresh,
    participant_for_link,
)
from tracker.services.unsubscribing import resubscribe, unsubscribe
from tracker.services.web_answers import (
    RowInput,
    TooManyAnswers,
    earlier_updates,
    open_actions,
    record_page_answer,
)
from tracker.web.access import public
from tracker.web.context import now, unit_of_work, web
from tracker.web.i18n import speak_language

blueprint = Blueprint("personal", __name__)

_STATUSES = [s.value for s in ActionStatus]


def _participant(token: str, *, session: Session, for_unsubscribe: bool = False) -> Participant:
    participant = participant_for_link(
        token,
        session=session,
        secret_key=web().settings.require_secret_key(),
        now=now(),
        for_unsubscribe=for_unsubscribe,
    )
    speak_language(participant.effective_language)
    return participant


def _refused(problem: LinkProblem) -> tuple[str, int]:
    code = 404 if problem is LinkProblem.INVALID else 410
    return render_template("web/personal/refused.html", problem=problem.value), code


@blueprint.get("/u/<token>", endpoint="page")
@public
def page(token: str) -> tuple[str, int] | str:
    with unit_of_work() as session:
        try:
            participant = _participant(token, session=session)
        except LinkRefused as refused:
            return _refused(refused.problem)
        return render_template(
            "web/personal/page.html",
            token=token,
            participant=participant,
            programme=participant.programme,
            actions=open_actions(participant),
            earlier=earlier_updates(participant, session=session),
            statuses=_STATUSES,
            timezone=participant.effective_timezone,
            max_file_mb=web().settings.max_attachment_mb,
        )


@blueprint.post("/u/<token>", endpoint="answer")
@public
def answer(token: str) -> tuple[str, int] | Response:
    with unit_of_work() as session:
        try:
            participant = _participant(token, session=session)
        except LinkRefused as refused:
            return _refused(refused.problem)
        try:
            rows = [_row(action.id) for action in open_actions(participant)]
        except ValueError:
            flash(_("A percentage is a whole number from 0 to 100."), "error")
            return redirect(url_for("personal.page", token=token))
        try:
            outcome = record_page_answer(
                participant,
                rows,
                address=request.remote_addr or "unknown",
                session=session,
                now=now(),
                limits=AttachmentLimits.from_settings(web().settings),
            )
        except TooManyAnswers:
            message = _("You have sent many answers in the last hour. Please try again later.")
            return render_template(
                "web/personal/refused.html", problem="busy", message=message
            ), 429
    if outcome.updates == 0:
        flash(_("Nothing changed, so nothing was recorded."), "info")
    else:
        flash(
            ngettext(
                "Thank you: %(num)d update recorded. A confirmation is on its way by email.",
                "Thank you: %(num)d updates recorded. A confirmation is on its way by email.",
                outcome.updates,
            ),
            "success",
        )
    if outcome.files_not_kept:
        flash(
            _(
                "Too large to keep, not stored: %(names)s.",
                names=", ".join(outcome.files_not_kept),
            ),
            "error",
        )
    return redirect(url_for("personal.page", token=token))


def _row(action_id: int) -> RowInput:
    """The form's fields for one action (ValueError for a percentage that is not one)."""
    status_text = request.form.get(f"status-{action_id}", "")
    percent_text = request.form.get(f"percent-{action_id}", "").strip().rstrip("%").strip()
    percent = int(percent_text) if percent_text else None
    if percent is not None and not 0 <= percent <= 100:
        raise ValueError(percent_text)
    upload = request.files.get(f"file-{action_id}")
    return RowInput(
        action_id=action_id,
        status=ActionStatus(status_text) if status_text in _STATUSES else None,
        percent=percent,
        note=request.form.get(f"note-{action_id}", ""),
        file=_attached(upload, action_id),
    )


def _attached(upload: FileStorage | None, action_id: int) -> AttachedFile | None:
    if upload is None or not upload.filename:
        return None
    data = upload.read()
    if not data:
        return None
    return AttachedFile(
        filename=safe_filename(upload.filename, fallback=f"file-{action_id}"),
        content_type=safe_content_type(upload.mimetype),
        data=data,
    )


@blueprint.get("/unsubscribe/<token>", endpoint="unsubscribe_page")
@public
def unsubscribe_page(token: str) -> tuple[str, int] | str:
    with unit_of_work() as session:
        try:
            participant = _participant(token, session=session, for_unsubscribe=True)
        except LinkRefused as refused:
            return _refused(refused.problem)
        return render_template(
            "web/personal/unsubscribe.html",
            token=token,
            programme=participant.programme,
            opted_out=participant.state == "opted_out",
            can_undo=link_still_fresh(token, now()),
        )


@blueprint.post("/unsubscribe/<token>", endpoint="unsubscribe")
@public
def unsubscribe_post(token: str) -> tuple[str, int] | Response:
    with unit_of_work() as session:
        try:
            participant = _participant(token, session=session, for_unsubscribe=True)
        except LinkRefused as refused:
            return _refused(refused.problem)
        unsubscribe(participant, session=session, now=now())
        programme_name = participant.programme.name
    if request.form.get("List-Unsubscribe") == "One-Click":
        # A mail client, not a person: a short answer, no redirect.
        text = _("You are unsubscribed from %(programme)s.", programme=programme_name)
        return Response(text + "\n", status=200, mimetype="text/plain")
    return redirect(url_for("personal.unsubscribe_page", token=token))


@blueprint.post("/unsubscribe/<token>/undo", endpoint="resubscribe")
@public
def resubscribe_post(token: str) -> tuple[str, int] | Response:
    with unit_of_work() as session:
        try:
            participant = _participant(token, session=session, for_unsubscribe=True)
        except LinkRefused as refused:
            return _refused(refused.problem)
        if not link_still_fresh(token, now()):
            return _refused(LinkProblem.EXPIRED)
        if resubscribe(participant, session=session, now=now()):
            flash(_("Welcome back: you will receive the follow-up emails again."), "success")
    return redirect(url_for("personal.unsubscribe_page", token=token))


def exempt_one_click(csrf: CSRFProtect) -> None:
    """Mail clients post one-click unsubscribes without a CSRF token (RFC 8058)."""
    csrf.exempt(unsubscribe_post)
