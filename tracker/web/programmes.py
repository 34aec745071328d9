"""The coordinator's programmes."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker.services.dashboard import coordinator_programmes
from tracker.web.context import now, signed_in, unit_of_work

blueprint = Blueprint("programmes", __name__, url_prefix="/programmes")


@blueprint.get("", endpoint="index")
def programme_list() -> str:
    with unit_of_work() as session:
        programmes = coordinator_programmes(signed_in().coordinator_id, session=session, now=now())
    return render_template("web/programmes/index.html", programmes=programmes)

