"""Email preview: any message kind for any participant, exactly as it would be sent.

The HTML part is served by its own route with its own policy (no script, no
outside resource, sandboxed) and shown in a sandboxed frame, so mail HTML
never runs with the dashboard's rights.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request
from werkzeug.wrappers import Response

from tracker.core.model import ReminderKind
from tracker.errors import TrackerError
from tracker.services.previewing import PREVIEW_KINDS, PreviewedMail, preview_identity, preview_mail
from tracker.services.roster import current_participants
from tracker.web.access import load_participant, load_programme
from tracker.web.context import now, unit_of_work, web
from tracker.web.forms import PreviewForm
from tracker.web.security import EMAIL_PREVIEW_POLICY

blueprint = Blueprint("preview", __name__, url_prefix="/programmes/<slug>/preview")


@blueprint.get("", endpoint="show")
def show(slug: str) -> str:
    form = PreviewForm(request.args)
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        name = programme.name
        form.participant.choices = [
            (p.id, f"{p.name} <{p.email}>")
            for p in current_participants(programme.id, session=session)
        ]
    form.kind.choices = [(k.value, k.value) for k in PREVIEW_KINDS]
    mail, problem = None, None
    if form.participant.choices and form.validate():
        form.participant.data = form.participant.data or form.participant.choices[0][0]
        form.kind.data = form.kind.data or ReminderKind.CHECK_IN.value
        try:
            mail = _preview(
                slug, form.participant.data, ReminderKind(form.kind.data), form.ref.data or None
            )
        except TrackerError as error:
            problem = str(error)
    return render_template(
        "web/preview/show.html",
        form=form,
        mail=mail,
        problem=problem,
        slug=slug,
        programme_name=name,
    )


@blueprint.get("/html", endpoint="html")
def html(slug: str) -> Response:
    try:
        participant_id = int(request.args.get("participant", ""))
        kind = ReminderKind(request.args.get("kind", ReminderKind.CHECK_IN.value))
    except ValueError:
        abort(404)
    try:
        mail = _preview(slug, participant_id, kind, request.args.get("ref") or None)
    except TrackerError:
        abort(404)
    response = make_response(mail.html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = EMAIL_PREVIEW_POLICY
    return response


def _preview(slug: str, participant_id: int, kind: ReminderKind, ref: str | None) -> PreviewedMail:
    # A preview writes nothing: a session that is never committed.
    with web().session_factory() as session:
        participant = load_participant(slug, participant_id, session=session)
        return preview_mail(
            participant,
            kind,
            ref=ref,
            session=session,
            env=web().mail_env,
            identity=preview_identity(web().settings),
            now=now(),
        )
