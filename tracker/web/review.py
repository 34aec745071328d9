"""The review queue: held messages of a programme, assigned to a participant or discarded."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from tracker.services.review import assign_held, discard_held
from tracker.services.review_queue import review_queue
from tracker.web.access import load_inbound, load_participant, load_programme
from tracker.web.context import actor, now, unit_of_work, web
from tracker.web.forms import AssignForm, ConfirmForm

blueprint = Blueprint("review", __name__, url_prefix="/programmes/<slug>/review")


@blueprint.get("", endpoint="queue")
def queue(slug: str) -> str:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        page = review_queue(programme.id, session=session)
        name, timezone = programme.name, programme.timezone
    forms = {}
    for held in page.held:
        form = AssignForm(prefix=f"m{held.inbound_id}")
        form.participant.choices = [
            (p.participant_id, f"{p.name} <{p.email}>") for p in page.participants
        ]
        if held.participant_id is not None:
            form.participant.data = held.participant_id
        forms[held.inbound_id] = form
    return render_template(
        "web/review/queue.html",
        page=page,
        forms=forms,
        confirm_form=ConfirmForm(),
        slug=slug,
        programme_name=name,
        timezone=timezone,
    )


@blueprint.post("/<int:inbound_id>/assign", endpoint="assign")
def assign(slug: str, inbound_id: int) -> Response:
    form = AssignForm(prefix=f"m{inbound_id}")
    with unit_of_work() as session:
        load_inbound(slug, inbound_id, session=session)  # 404 unless it concerns this programme
        if not form.validate_on_submit():
            abort(400)
        participant = load_participant(slug, form.participant.data, session=session)
        email, name = participant.email, participant.name
    # Read outside any transaction, then recorded in its own (as intake does).
    result = assign_held(
        inbound_id,
        email,
        slug=slug,
        session_factory=web().session_factory,
        now=now(),
        actor=actor(),
    )
    flash(_("Applied to %(name)s: %(detail)s", name=name, detail=result.detail), "success")
    return redirect(url_for("review.queue", slug=slug))


@blueprint.post("/<int:inbound_id>/discard", endpoint="discard")
def discard(slug: str, inbound_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work() as session:
        inbound = load_inbound(slug, inbound_id, session=session)
        discard_held(inbound.id, session=session, now=now(), actor=actor())
    flash(_("Message discarded. It stays stored, for the record."), "success")
    return redirect(url_for("review.queue", slug=slug))
