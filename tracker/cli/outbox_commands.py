"""`tracker outbox`: what waits to be sent, what is being retried, what failed; `retry`."""

from __future__ import annotations

from collections import Counter

import click

from tracker.cli.runtime import Runtime, parse_now, print_json
from tracker.cli.tables import format_table, truncate
from tracker.services.outbox import (
    LISTED_STATES,
    WAITING_STATES,
    OutboxEntry,
    list_outbox,
    retry_failed,
)

_ORDER = ("failed", "retrying", "sending", "planned", "sent", "cancelled")


@click.group("outbox", invoke_without_command=True)
@click.option(
    "--state",
    "states",
    type=click.Choice(LISTED_STATES),
    multiple=True,
    help="Only messages in this state (repeatable). Default: planned, sending and failed.",
)
@click.option("--programme", "slug", metavar="SLUG", help="Only this programme's messages.")
@click.option(
    "--limit",
    default=200,
    show_default=True,
    type=click.IntRange(min=1),
    help="Show at most this many.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the messages as one JSON document.")
@click.pass_context
def outbox_group(
    ctx: click.Context, states: tuple[str, ...], slug: str | None, limit: int, as_json: bool
) -> None:
    """The outbox: what is waiting, being retried or failed, with the last error.

    A planned message that failed before and waits for its next try shows as
    `retrying`. `tracker outbox retry ID` puts a failed message back.
    """
    if ctx.invoked_subcommand is not None:
        return
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        listing = list_outbox(
            session=session, states=states or WAITING_STATES, programme=slug, limit=limit
        )
    if as_json:
        print_json({"messages": [e.to_json() for e in listing.entries], "total": listing.total})
        return
    if not listing.entries:
        chosen = ", ".join(states) if states else "waiting, being retried or failed"
        click.echo(f"the outbox has no message {chosen}")
        return
    click.echo(_table(listing.entries))
    counts = Counter(e.state for e in listing.entries)
    summary = ", ".join(f"{counts[s]} {s}" for s in _ORDER if counts[s])
    shown = (
        f" (the first {len(listing.entries)} of {listing.total})" if listing.total > limit else ""
    )
    click.echo(f"\n{summary}{shown}")
    if counts["failed"]:
        click.echo("`tracker outbox retry ID` (or --all-failed) puts failed messages back")


def _table(entries: tuple[OutboxEntry, ...]) -> str:
    rows = [
        [
            str(e.id),
            e.state,
            e.kind,
            truncate(", ".join(e.to), 36),
            _when(e),
            str(e.attempts),
            truncate(e.error or "", 70),
        ]
        for e in entries
    ]
    return format_table(["id", "state", "kind", "to", "when", "tries", "last error"], rows)


def _when(entry: OutboxEntry) -> str:
    moment = entry.next_attempt_at if entry.state in ("planned", "retrying") else entry.at
    return (moment or entry.scheduled_at).strftime("%Y-%m-%d %H:%M")


@outbox_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed message.")
@click.option("--now", "now_text", metavar="ISO8601", help="Due again as at this moment.")
@click.option("--json", "as_json", is_flag=True, help="Print what was put back as JSON.")
def retry_command(
    ids: tuple[int, ...], all_failed: bool, now_text: str | None, as_json: bool
) -> None:
    """Put failed messages back in the outbox: the next pass sends them.

    Each gets a fresh set of attempts. Name the messages by id (as `tracker
    outbox --state failed` lists them), or give --all-failed.
    """
    if bool(ids) == all_failed:
        raise click.UsageError("name the messages to retry by id, or give --all-failed")
    now = parse_now(now_text)
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        retried = retry_failed(session=session, ids=None if all_failed else list(ids), now=now)
    if as_json:
        print_json({"retried": retried})
        return
    if not retried:
        click.echo("no failed messages to retry")
        return
    listed = ", ".join(str(i) for i in retried)
    plural = "s" if len(retried) != 1 else ""
    click.echo(f"put back {len(retried)} message{plural} ({listed}): the next send pass sends them")


def register(group: click.Group) -> None:
    group.add_command(outbox_group)
