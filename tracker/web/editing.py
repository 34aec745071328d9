"""Add or edit one participant or action in a form, without a file."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from tracker.db.orm import Participant
from tracker.errors import TrackerError
from tracker.mail.render import template_languages
from tracker.programme.fields import FieldsError
from tracker.services.editing import (
    ParticipantFields,
    add_action,
    add_participant,
    archive_action,
    edit_action,
    edit_participant,
    find_action,
    participant_fields,
)
from tracker.web.access import load_participant, load_programme
from tracker.web.context import actor, now, unit_of_work, web

blueprint = Blueprint("editing", __name__, url_prefix="/programmes/<slug>/participants")

PARTICIPANT_FORM = ("name", "organisation", "language", "timezone", "country")
ACTION_FORM = ("ref", "title", "due")


@blueprint.route("/new", methods=["GET", "POST"], endpoint="new_participant")
def new_participant(slug: str) -> Response | str | tuple[str, int]:
    with unit_of_work() as session:
        programme = load_programme(slug, session=session)
        page = {"slug": slug, "programme_name": programme.name}
        if request.method == "GET":
            return render_template("web/editing/new.html", values={}, problems={}, **page)
        values = _posted(("email", *PARTICIPANT_FORM))
        try:
            participant = add_participant(
                programme, values, session=session, now=now(), actor=actor(), languages=_languages()
            )
        except FieldsError as error:
            return render_template(
                "web/editing/new.html", values=values, problems=error.problems, **page
            ), 422
        participant_id, email = participant.id, participant.email
    message = _("%(email)s is now a participant: add their actions below.", email=email)
    flash(message, "success")
    return redirect(url_for("editing.edit", slug=slug, participant_id=participant_id))


@blueprint.route("/<int:participant_id>/edit", methods=["GET", "POST"], endpoint="edit")
def edit(slug: str, participant_id: int) -> Response | str | tuple[str, int]:
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        if request.method == "POST":
            values = _posted(PARTICIPANT_FORM)
            try:
                changes = edit_participant(
                    participant,
                    values,
                    session=session,
                    now=now(),
                    actor=actor(),
                    languages=_languages(),
                )
            except FieldsError as error:
                record = participant_fields(participant, session=session)
                return _edit_page(slug, record, values, error.problems), 422
            _flash_changes(changes)
            return redirect(url_for("editing.edit", slug=slug, participant_id=participant_id))
        record = participant_fields(participant, session=session)
    return _edit_page(slug, record, record.fields, {})


@blueprint.post("/<int:participant_id>/actions", endpoint="add_action")
def add_action_view(slug: str, participant_id: int) -> Response | str | tuple[str, int]:
    def change(session: Session, participant: Participant) -> list[str]:
        add_action(participant, _posted(ACTION_FORM), session=session, now=now(), actor=actor())
        return [_("action %(ref)s added", ref=request.form.get("ref", ""))]

    return _action_change(slug, participant_id, change)


@blueprint.post("/<int:participant_id>/actions/edit", endpoint="edit_action")
def edit_action_view(slug: str, participant_id: int) -> Response | str | tuple[str, int]:
    def change(session: Session, participant: Participant) -> list[str]:
        action = find_action(participant, request.form.get("ref", ""), session=session)
        fields = _posted(("title", "due"))
        return edit_action(action, fields, session=session, now=now(), actor=actor())

    return _action_change(slug, participant_id, change)


@blueprint.post("/<int:participant_id>/actions/archive", endpoint="archive_action")
def archive_action_view(slug: str, participant_id: int) -> Response | str | tuple[str, int]:
    def change(session: Session, participant: Participant) -> list[str]:
        action = find_action(participant, request.form.get("ref", ""), session=session)
        archive_action(action, session=session, now=now(), actor=actor())
        return [_("action %(ref)s archived", ref=action.ref)]

    return _action_change(slug, participant_id, change)


def _action_change(
    slug: str, participant_id: int, change: Callable[[Session, Participant], list[str]]
) -> Response | str | tuple[str, int]:
    """Authorise, apply one change to an action, then back to the form (or its problems)."""
    with unit_of_work() as session:
        participant = load_participant(slug, participant_id, session=session)
        try:
            changes = change(session, participant)
        except FieldsError as error:
            record = participant_fields(participant, session=session)
            return _edit_page(slug, record, record.fields, {}, action_problems=error.problems), 422
        except TrackerError as error:
            flash(str(error), "error")
            changes = None
    if changes is not None:
        _flash_changes(changes)
    return redirect(url_for("editing.edit", slug=slug, participant_id=participant_id))


def _edit_page(
    slug: str,
    record: ParticipantFields,
    values: dict[str, str],
    problems: dict[str, str],
    *,
    action_problems: dict[str, str] | None = None,
) -> str:
    return render_template(
        "web/editing/edit.html",
        slug=slug,
        record=record,
        values=values,
        problems=problems,
        action_problems=action_problems or {},
        posted_action={name: request.form.get(name, "") for name in ACTION_FORM}
        if action_problems
        else {},
    )


def _languages() -> tuple[str, ...]:
    return template_languages(web().mail_env)


def _posted(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _flash_changes(changes: list[str]) -> None:
    if changes:
        flash(_("Saved: %(changes)s", changes="; ".join(changes)), "success")
    else:
        flash(_("Nothing changed."), "info")
