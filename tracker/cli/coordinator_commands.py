"""Commands for coordinators' own actions: `record`, and `participant` pause, resume,
opt-out and change-email."""

from __future__ import annotations

from datetime import datetime

import click

from tracker.cli.runtime import Runtime, parse_now
from tracker.cli.tables import update_text
from tracker.core.model import ParticipantState
from tracker.services.coordinating import (
    find_participant,
    record_by_coordinator,
    set_participant_state,
)
from tracker.services.email_change import change_participant_email
from tracker.services.pausing import pause_participant

_PROGRAMME = click.option(
    "--programme", "slug", metavar="SLUG", help="Needed when the address is in several programmes."
)
_NOW = click.option("--now", "now_text", metavar="ISO8601", help="Record as at this moment.")


@click.command("record")
@click.argument("email")
@click.argument("text")
@_PROGRAMME
@_NOW
def record_command(email: str, text: str, slug: str | None, now_text: str | None) -> None:
    """Record progress you heard from participant EMAIL (by phone, in a meeting).

    TEXT is written as a participant's reply would be, one action a line:
    "1: done" or "2：进行中 60%，等待预算批复". Text naming no action is kept
    as a general note. Recorded with source "coordinator".
    """
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        participant = find_participant(email, slug=slug, session=session)
        rows = record_by_coordinator(participant, text, session=session, now=parse_now(now_text))
        lines = [
            update_text(
                {
                    "ref": r.action.ref if r.action else None,
                    "status": r.status,
                    "percent": r.percent,
                    "note": r.note,
                }
            )
            for r in rows
        ]
    for line in lines:
        click.echo(f"  {line}")
    click.echo(f"recorded {len(lines)} update(s) for {participant.email}")


@click.group("participant")
def participant_group() -> None:
    """Pause, resume or opt out a participant."""


def _state_command(name: str, state: ParticipantState, summary: str) -> click.Command:
    @participant_group.command(name, help=summary)
    @click.argument("email")
    @_PROGRAMME
    @_NOW
    def command(email: str, slug: str | None, now_text: str | None) -> None:
        runtime = Runtime.from_environment()
        with runtime.unit_of_work() as session:
            participant = find_participant(email, slug=slug, session=session)
            set_participant_state(participant, state, session=session, now=parse_now(now_text))
        click.echo(f"{participant.email} is now {state.value}")

    return command


@participant_group.command("pause")
@click.argument("email")
@click.option(
    "--until",
    "until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="Resume on this day (YYYY-MM-DD, from midnight in their time zone) without anyone acting.",
)
@_PROGRAMME
@_NOW
def pause_command(
    email: str, until: datetime | None, slug: str | None, now_text: str | None
) -> None:
    """Send EMAIL nothing until resumed, or until DATE (leave, a new job).

    Pausing someone already paused with --until changes the day they resume on.
    """
    runtime = Runtime.from_environment()
    day = until.date() if until is not None else None
    with runtime.unit_of_work() as session:
        participant = find_participant(email, slug=slug, session=session)
        now = parse_now(now_text)
        if day is None:
            set_participant_state(participant, ParticipantState.PAUSED, session=session, now=now)
        else:
            pause_participant(participant, until=day, session=session, now=now, actor="cli")
        zone = participant.effective_timezone
    if day is None:
        click.echo(f"{participant.email} is now paused until resumed")
    else:
        click.echo(
            f"{participant.email} is now paused until {day.isoformat()} "
            f"(follow-up resumes that day, 00:00 {zone})"
        )


_state_command(
    "resume", ParticipantState.ACTIVE, "Follow EMAIL up again (also after their address bounced)."
)
_state_command("opt-out", ParticipantState.OPTED_OUT, "EMAIL asked to receive nothing more.")


@participant_group.command("change-email")
@click.argument("old")
@click.argument("new")
@_PROGRAMME
@_NOW
def change_email_command(old: str, new: str, slug: str | None, now_text: str | None) -> None:
    """Participant OLD now uses the address NEW; they keep all their history.

    Reminders not yet sent go to NEW; updates, replies and reminders already
    recorded stay theirs. To make a later import match them, list OLD under
    their `previous_emails:` in the programme file (or write NEW there).
    """
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        participant = find_participant(old, slug=slug, session=session)
        before = change_participant_email(
            participant, new, session=session, now=parse_now(now_text)
        )
        after, programme = participant.email, participant.programme.slug
    click.echo(f"{before} is now {after} in {programme}; their history stays with them")


def register(group: click.Group) -> None:
    group.add_command(record_command)
    group.add_command(participant_group)
