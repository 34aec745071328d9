"""`tracker participant add|edit` and `tracker action add|edit|archive`: one change, no file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tracker.cli.coordinator_commands import participant_group
from tracker.cli.runtime import Runtime, parse_now
from tracker.errors import TrackerError
from tracker.mail.render import create_mail_environment, template_languages
from tracker.programme.fields import FieldsError
from tracker.services.coordinating import find_participant
from tracker.services.editing import (
    add_action,
    add_participant,
    archive_action,
    edit_action,
    edit_participant,
    find_action,
)
from tracker.services.schedule import find_programme

ACTOR = "cli"
_PROGRAMME = click.option(
    "--programme", "slug", metavar="SLUG", help="Needed when the address is in several programmes."
)
_NOW = click.option("--now", "now_text", metavar="ISO8601", help="Record as at this moment.")


def _participant_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for name, text in reversed(
        [
            ("organisation", "Their organisation."),
            ("language", "Language of their emails (like zh-CN); '' for the programme's."),
            ("timezone", "IANA time zone (like Asia/Shanghai); '' for the programme's."),
            ("country", "ISO 3166 code for public holidays (like CN); '' for the programme's."),
        ]
    ):
        command = click.option(f"--{name}", name, metavar="TEXT", help=text)(command)
    return command


def _given(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


def _languages() -> tuple[str, ...]:
    return template_languages(create_mail_environment())


def _fields_error(error: FieldsError) -> TrackerError:
    return TrackerError("; ".join(f"{name}: {text}" for name, text in error.problems.items()))


@participant_group.command("add")
@click.argument("slug")
@click.argument("email")
@click.argument("name")
@_participant_options
@_NOW
def participant_add(
    slug: str,
    email: str,
    name: str,
    organisation: str | None,
    language: str | None,
    timezone: str | None,
    country: str | None,
    now_text: str | None,
) -> None:
    """Add participant EMAIL called NAME to programme SLUG (actions: `tracker action add`)."""
    fields = _given(
        email=email,
        name=name,
        organisation=organisation,
        language=language,
        timezone=timezone,
        country=country,
    )
    runtime = Runtime.from_environment()
    try:
        with runtime.unit_of_work() as session:
            programme = find_programme(slug, session=session)
            participant = add_participant(
                programme,
                fields,
                session=session,
                now=parse_now(now_text),
                actor=ACTOR,
                languages=_languages(),
            )
            added = participant.email
    except FieldsError as error:
        raise _fields_error(error) from None
    click.echo(f"{added} is now a participant of {slug}")


@participant_group.command("edit")
@click.argument("email")
@click.option("--name", metavar="TEXT", help="Their name.")
@_participant_options
@_PROGRAMME
@_NOW
def participant_edit(
    email: str,
    name: str | None,
    organisation: str | None,
    language: str | None,
    timezone: str | None,
    country: str | None,
    slug: str | None,
    now_text: str | None,
) -> None:
    """Change the name, organisation, language, time zone or country of participant EMAIL."""
    fields = _given(
        name=name, organisation=organisation, language=language, timezone=timezone, country=country
    )
    if not fields:
        raise click.UsageError("name at least one of --name, --organisation, --language, …")
    runtime = Runtime.from_environment()
    try:
        with runtime.unit_of_work() as session:
            participant = find_participant(email, slug=slug, session=session)
            changes = edit_participant(
                participant,
                fields,
                session=session,
                now=parse_now(now_text),
                actor=ACTOR,
                languages=_languages(),
            )
    except FieldsError as error:
        raise _fields_error(error) from None
    for line in changes:
        click.echo(f"  {line}")
    click.echo(f"{email}: {len(changes)} change(s)" if changes else f"{email}: nothing to change")


@click.group("action")
def action_group() -> None:
    """Add, edit or archive one action of a participant."""


@action_group.command("add")
@click.argument("email")
@click.argument("ref")
@click.argument("title")
@click.argument("due", metavar="DUE")
@_PROGRAMME
@_NOW
def action_add(
    email: str, ref: str, title: str, due: str, slug: str | None, now_text: str | None
) -> None:
    """Add action REF called TITLE, due on DUE (YYYY-MM-DD), to participant EMAIL."""
    runtime = Runtime.from_environment()
    try:
        with runtime.unit_of_work() as session:
            participant = find_participant(email, slug=slug, session=session)
            add_action(
                participant,
                {"ref": ref, "title": title, "due": due},
                session=session,
                now=parse_now(now_text),
                actor=ACTOR,
            )
    except FieldsError as error:
        raise _fields_error(error) from None
    click.echo(f"action {ref} added for {email}")


@action_group.command("edit")
@click.argument("email")
@click.argument("ref")
@click.option("--title", metavar="TEXT", help="The action's new title.")
@click.option("--due", metavar="YYYY-MM-DD", help="The action's new due date.")
@_PROGRAMME
@_NOW
def action_edit(
    email: str,
    ref: str,
    title: str | None,
    due: str | None,
    slug: str | None,
    now_text: str | None,
) -> None:
    """Change the title or due date of action REF of participant EMAIL."""
    fields = _given(title=title, due=due)
    if not fields:
        raise click.UsageError("name --title, --due or both")
    runtime = Runtime.from_environment()
    try:
        with runtime.unit_of_work() as session:
            participant = find_participant(email, slug=slug, session=session)
            action = find_action(participant, ref, session=session)
            changes = edit_action(
                action, fields, session=session, now=parse_now(now_text), actor=ACTOR
            )
    except FieldsError as error:
        raise _fields_error(error) from None
    for line in changes:
        click.echo(f"  {line}")
    click.echo(f"{email}: {len(changes)} change(s)" if changes else f"{email}: nothing to change")


@action_group.command("archive")
@click.argument("email")
@click.argument("ref")
@_PROGRAMME
@_NOW
def action_archive(email: str, ref: str, slug: str | None, now_text: str | None) -> None:
    """Stop following up action REF of EMAIL; its history stays."""
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        participant = find_participant(email, slug=slug, session=session)
        action = find_action(participant, ref, session=session)
        archive_action(action, session=session, now=parse_now(now_text), actor=ACTOR)
    click.echo(f"action {ref} of {email} archived")


def register(group: click.Group) -> None:
    group.add_command(action_group)
