"""The outbox of a programme: planned, retrying and failed messages."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker.services.dashboard import programme_outbox
from tracker.web.access import load_programme
from tracker.web.context import unit_of_work

blueprint = Blueprint("outbox", __name__, url_prefix="/programmes/<slug>/outbox")


@blueprint.get("", endpoint="index")
def index(slug: str) -> str:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        rows = programme_outbox(programme, session=session)
        name, timezone = programme.name, programme.timezone
    return render_template(
        "web/outbox/index.html", rows=rows, slug=slug, programme_name=name, timezone=timezone
    )
