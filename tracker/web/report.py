"""The printable progress report of a programme (a print stylesheet; charts as SVG)."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker.services.report import programme_report
from tracker.web.access import load_programme
from tracker.web.context import now, unit_of_work

blueprint = Blueprint("report", __name__, url_prefix="/programmes/<slug>/report")


@blueprint.get("", endpoint="show")
def show(slug: str) -> str:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        report = programme_report(programme, session=session, now=now())
    return render_template("web/report/show.html", report=report, slug=slug)
