"""`tracker review`: messages held for a coordinator, shown safely, then assigned or discarded."""

from __future__ import annotations

import sys

import click

from tracker.cli.runtime import Runtime, parse_now, print_json
from tracker.cli.tables import update_text
from tracker.cli.terminal import printable, printable_bytes
from tracker.clock import SystemClock
from tracker.services.deciding import IntakeResult
from tracker.services.review import (
    MessageView,
    assign_held,
    discard_held,
    held_messages,
    show_message,
)


@click.group("review", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
@click.pass_context
def review_group(ctx: click.Context, as_json: bool) -> None:
    """Messages held for a coordinator (or whose processing failed), with why.

    Without a subcommand, lists them. `review show ID` shows one as the
    tracker reads it; `review assign ID EMAIL` applies it to a participant;
    `review discard ID` throws it away.
    """
    if ctx.invoked_subcommand is not None:
        return
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        document = held_messages(session=session)
    if as_json:
        print_json(document)
        return
    if not document["held"]:
        click.echo("nothing held for review")
    for row in document["held"]:
        sender = printable(row["from"] or "-", keep_newlines=False)
        subject = printable(row["subject"] or "", keep_newlines=False)
        click.echo(f"{row['id']:>5}  {row['received_at'][:16]}  {sender}  {subject}")
        click.echo(f"       why: {row['why']}")
        if row["detail"]:
            click.echo(f"       {printable(row['detail'], keep_newlines=False)}")
    if document["held"]:
        click.echo(
            "see one with `tracker review show ID`, then `tracker review assign ID EMAIL` "
            "or `tracker review discard ID`"
        )


@review_group.command("show")
@click.argument("message_id", metavar="ID", type=int)
@click.option(
    "--raw",
    is_flag=True,
    help="Print the raw message instead (its bytes when piped; control characters "
    "shown as escapes on a terminal).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
def review_show(message_id: int, raw: bool, as_json: bool) -> None:
    """Show message ID as the tracker reads it: who sent it, why it waits, what it says,
    and the updates it would record."""
    runtime = Runtime.from_environment()
    runtime.require_current_schema()
    view = show_message(message_id, session_factory=runtime.session_factory)
    if raw:
        if sys.stdout.isatty():
            click.echo(printable_bytes(view.raw))
        else:
            sys.stdout.buffer.write(view.raw)
        return
    if as_json:
        print_json(view.to_json())
        return
    click.echo(_view_text(view))


def _view_text(view: MessageView) -> str:
    state = "held for review" if view.state == "held" else view.state
    lines = [f"message {view.id}: {state}"]
    if view.why:
        lines.append(f"why:       {view.why}")
    if view.detail:
        lines.append(f"detail:    {printable(view.detail, keep_newlines=False)}")
    headers = dict(view.headers)
    for name in ("From", "To", "Cc", "Date", "Subject"):
        if name in headers or name != "Cc":
            value = printable(headers.get(name, "(none)"), keep_newlines=False)
            lines.append(f"{name + ':':<10} {value}")
    received = view.received_at.strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"received:  {received} ({view.source}, {len(view.raw)} bytes)")
    if view.reading_problem:
        lines.append(f"not read:  {printable(view.reading_problem, keep_newlines=False)}")
    lines.append("reply text:")
    lines += [f"  | {printable(line)}" for line in view.reply_text.splitlines() or [""]]
    whose = f"as a reply from {view.participant}" if view.participant else "as numbered actions"
    lines.append(f"it would record ({whose}):")
    lines += [f"  {printable(update_text(row))}" for row in view.updates] or ["  nothing"]
    if view.unknown_refs:
        lines.append(f"no such action: {', '.join(view.unknown_refs)}")
    if view.state in ("held", "failed"):
        lines.append(
            f"decide: tracker review assign {view.id} EMAIL  |  tracker review discard {view.id}"
            + (f"  |  tracker reprocess {view.id}" if view.state == "failed" else "")
        )
    return "\n".join(lines)


@review_group.command("assign")
@click.argument("message_id", metavar="ID", type=int)
@click.argument("email")
@click.option(
    "--programme", "slug", metavar="SLUG", help="Needed when the address is in several programmes."
)
@click.option("--now", "now_text", metavar="ISO8601", hidden=True)
def review_assign(message_id: int, email: str, slug: str | None, now_text: str | None) -> None:
    """Apply held message ID as a reply from participant EMAIL.

    Its updates take the time the message was sent (its Date, never later
    than when it was received), so an old message does not override newer
    progress.
    """
    runtime = Runtime.from_environment()
    runtime.require_current_schema()
    result = assign_held(
        message_id,
        email,
        slug=slug,
        session_factory=runtime.session_factory,
        now=parse_now(now_text),
    )
    click.echo(assigned_text(result))


def assigned_text(result: IntakeResult) -> str:
    if result.state == "duplicate":
        return f"message {result.inbound_id}: {result.detail}"
    lines = [f"message {result.inbound_id} applied as a reply from {result.participant}:"]
    lines += [f"  {printable(update_text(update))}" for update in result.updates]
    return "\n".join(lines if result.updates else [*lines, "  nothing to record"])


@review_group.command("discard")
@click.argument("message_id", metavar="ID", type=int)
def review_discard(message_id: int) -> None:
    """Throw held (or failed) message ID away; it stays stored, marked discarded."""
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        discard_held(message_id, session=session, now=SystemClock().now())
    click.echo(f"message {message_id} discarded")
