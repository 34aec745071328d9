"""The follow-up schedule editor: the rules as a form, a 90-day preview, then save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from tracker.db.orm import Programme
from tracker.errors import TrackerError
from tracker.programme.rules import RULE_FIELDS, RuleFieldsError, rule_fields, rule_from_fields
from tracker.programme.spec import RuleSpec
from tracker.services.schedule import (
    MAX_PREVIEW_DAYS,
    PREVIEW_DAYS,
    SchedulePreview,
    current_rules,
    preview_schedule,
    save_schedule,
)
from tracker.web.access import load_programme
from tracker.web.context import actor, now, unit_of_work

blueprint = Blueprint("schedule", __name__, url_prefix="/programmes/<slug>/schedule")

# Blank rows offered for new rules, below the programme's own.
_NEW_ROWS = 1
_MAX_ROWS = 50


@blueprint.get("", endpoint="edit")
def edit(slug: str) -> str:
    days = _days(request.args)
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        rules = current_rules(programme)
        preview = _preview(programme, rules, session=session, days=days)
        page = _page(slug, programme.name, programme.timezone, days)
    rows = [rule_fields(rule) for rule in rules] + [_blank() for _ in range(_NEW_ROWS)]
    return render_template(
        "web/schedule/edit.html", rows=rows, problems={}, preview=preview, edited=False, **page
    )


@blueprint.post("", endpoint="submit")
def submit(slug: str) -> Response | tuple[str, int] | str:
    """`preview` shows what the rules in the form would send; `save` stores them."""
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        days = _days(request.form)
        page = _page(slug, programme.name, programme.timezone, days)
        rows = _posted_rows(request.form)
        rules, problems = _read(rows)
        if problems:
            flash(_("Some rules are not right: see the fields marked below."), "error")
            shown = rows + [_blank() for _ in range(_NEW_ROWS)]
            return render_template(
                "web/schedule/edit.html",
                rows=shown,
                problems=problems,
                preview=None,
                edited=True,
                **page,
            ), 422
        if request.form.get("action") == "save":
            try:
                changes = save_schedule(programme, rules, session=session, now=now(), actor=actor())
            except TrackerError as error:
                flash(str(error), "error")
                return redirect(url_for("schedule.edit", slug=slug))
        else:
            preview = _preview(programme, rules, session=session, days=days)
            shown = [rule_fields(rule) for rule in rules] + [_blank() for _ in range(_NEW_ROWS)]
            return render_template(
                "web/schedule/edit.html",
                rows=shown,
                problems={},
                preview=preview,
                edited=True,
                **page,
            )
    if changes:
        flash(_("The schedule is saved: %(changes)s", changes="; ".join(changes)), "success")
    else:
        flash(_("Nothing changed: the rules were already these."), "info")
    return redirect(url_for("schedule.edit", slug=slug))


def _page(slug: str, name: str, timezone: str, days: int) -> dict[str, object]:
    return {
        "slug": slug,
        "days": days,
        "programme_name": name,
        "timezone": timezone,
        "fields": RULE_FIELDS,
        "max_days": MAX_PREVIEW_DAYS,
    }


def _blank() -> dict[str, str]:
    return dict.fromkeys(RULE_FIELDS, "")


def _posted_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The form's rule rows (`rule-3-every` …) that are not blank or marked for removal."""
    rows = []
    for index in range(_MAX_ROWS):
        row = {name: form.get(f"rule-{index}-{name}", "").strip() for name in RULE_FIELDS}
        if form.get(f"rule-{index}-remove") or not any(row.values()):
            continue
        rows.append(row)
    return rows


def _read(rows: list[dict[str, str]]) -> tuple[list[RuleSpec], dict[int, dict[str, str]]]:
    rules: list[RuleSpec] = []
    problems: dict[int, dict[str, str]] = {}
    for index, row in enumerate(rows):
        try:
            rules.append(rule_from_fields(row))
        except RuleFieldsError as error:
            problems[index] = error.problems
    return rules, problems


def _days(values: Mapping[str, str]) -> int:
    try:
        days = int(values.get("days", PREVIEW_DAYS))
    except ValueError:
        return PREVIEW_DAYS
    return min(max(days, 1), MAX_PREVIEW_DAYS)


def _preview(
    programme: Programme, rules: Sequence[RuleSpec], *, session: Session, days: int
) -> SchedulePreview:
    """What `rules` would send over `days` from now, holidays named in the reader's language."""
    return preview_schedule(
        programme,
        rules,
        session=session,
        now=now(),
        days=days,
        holiday_language=_holiday_language(),
    )


def _holiday_language() -> str:
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en_US"
