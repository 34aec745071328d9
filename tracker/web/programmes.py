"""The coordinator's programmes, and one programme's overview."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker.services.dashboard import coordinator_programmes, programme_overview
from tracker.web.access import load_programme
from tracker.web.context import now, signed_in, unit_of_work

blueprint = Blueprint("programmes", __name__, url_prefix="/programmes")


@blueprint.get("", endpoint="index")
def programme_list() -> str:
    with unit_of_work() as session:
        programmes = coordinator_programmes(signed_in().coordinator_id, session=session, now=now())
    return render_template("web/programmes/index.html", programmes=programmes)


@blueprint.get("/<slug>", endpoint="overview")
def overview(slug: str) -> str:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        page = programme_overview(programme, session=session, now=now())
    return render_template("web/programmes/overview.html", page=page)
