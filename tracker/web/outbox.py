"""The outbox of a programme: planned, retrying and failed messages; failed ones put back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import ngettext
from werkzeug.wrappers import Response

from tracker.services.dashboard import programme_outbox
from tracker.services.outbox import retry_failed
from tracker.web.access import load_programme, load_reminder
from tracker.web.context import actor, now, unit_of_work
from tracker.web.forms import ConfirmForm

blueprint = Blueprint("outbox", __name__, url_prefix="/programmes/<slug>/outbox")


@blueprint.get("", endpoint="index")
def index(slug: str) -> str:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        rows = programme_outbox(programme, session=session)
        name, timezone = programme.name, programme.timezone
    return render_template(
        "web/outbox/index.html",
        rows=rows,
        failed=sum(1 for r in rows if r.state == "failed"),
        confirm_form=ConfirmForm(),
        slug=slug,
        programme_name=name,
        timezone=timezone,
    )


@blueprint.post("/<int:reminder_id>/retry", endpoint="retry")
def retry(slug: str, reminder_id: int) -> Response:
    """Put one failed message back: it goes out on the next sending pass."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work() as session:
        reminder = load_reminder(slug, reminder_id, session=session)
        retried = retry_failed(session=session, ids=[reminder.id], now=now(), actor=actor())
    return _retried(slug, len(retried))


@blueprint.post("/retry-failed", endpoint="retry_all")
def retry_all(slug: str) -> Response:
    """Put back every failed message of this programme (not of other programmes)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        rows = programme_outbox(programme, session=session)
        failed = [r.reminder_id for r in rows if r.state == "failed"]
        retried = retry_failed(session=session, ids=failed, now=now(), actor=actor())
    return _retried(slug, len(retried))


def _retried(slug: str, count: int) -> Response:
    flash(
        ngettext(
            "%(num)d message put back in the outbox: it is sent on the next sending pass.",
            "%(num)d messages put back in the outbox: they are sent on the next sending pass.",
            count,
        ),
        "success",
    )
    return redirect(url_for("outbox.index", slug=slug))
