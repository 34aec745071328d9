"""Commands that read mail: `parse`, `ingest`, `fetch-mail`, `updates`, `reprocess` (and
`review`, in its own module)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from tracker.cli.progress import progress_bar, wants_progress
from tracker.cli.review_commands import review_group
from tracker.cli.runtime import Runtime, parse_now, print_json
from tracker.cli.tables import update_text
from tracker.cli.terminal import printable
from tracker.clock import SystemClock
from tracker.db.locks import exclusive
from tracker.errors import TrackerError
from tracker.inbound.parse import parse_message, reading_details, to_contract_json
from tracker.mail.imap import FetchReport, fetch_new_messages
from tracker.services.intake import IntakeResult, ingest, process_stored, reprocess
from tracker.services.review import REASON_WORDS, update_history
from tracker.services.storing import store_inbound

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure; the MTA keeps the message and retries
MAX_INPUT_BYTES = 64 * 1024 * 1024  # read a little past the parser's limit, to store and hold


def _read_input(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES)
    try:
        with Path(source).open("rb") as handle:
            return handle.read(MAX_INPUT_BYTES)
    except FileNotFoundError:
        raise TrackerError(f"{source}: no such file") from None
    except OSError as error:
        raise TrackerError(f"{source}: cannot read it ({error.strerror})") from None


@click.command("parse")
@click.argument("file", metavar="FILE|-")
@click.option(
    "--refs",
    metavar="A,B",
    help="The participant's action refs, comma-separated: read the reply as intake does "
    "for that participant (refs like 'A1' or '2.1'; other refs are reported as unknown).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
@click.option(
    "--details",
    is_flag=True,
    help="With --json, add the rest of the reading after the contract's keys: the general "
    "note, unknown refs, questions, the trusted sender and any problem.",
)
def parse_command(file: str, refs: str | None, as_json: bool, details: bool) -> None:
    """Show what the tracker reads in one message (no database needed)."""
    known_refs = _refs_option(refs)
    parsed = parse_message(_read_input(file), known_refs=known_refs)
    if as_json:
        document = to_contract_json(parsed)
        print_json(document | reading_details(parsed) if details else document)
        return
    click.echo(
        f"kind:      {parsed.kind.value}"
        + (f" ({parsed.kind_reason})" if parsed.kind_reason else "")
    )
    if parsed.problem:
        click.echo(f"problem:   {parsed.problem}")
    click.echo(f"from:      {parsed.from_address or '-'}")
    if parsed.sender is None:
        click.echo(f"sender:    not trusted: {parsed.sender_problem}")
    click.echo(f"subject:   {parsed.subject}")
    click.echo(f"language:  {parsed.language}")
    click.echo(f"token:     {parsed.token or '-'}")
    for address in parsed.bounced_recipients:
        click.echo(f"bounced:   {address}")
    click.echo("reply text:")
    for line in parsed.reply_text.splitlines() or [""]:
        click.echo(f"  | {line}")
    for update in parsed.updates:
        percent = f" {update.percent}%" if update.percent is not None else ""
        status = update.status.value if update.status else "-"
        click.echo(
            f"update {update.ref}: {status}{percent}" + (f" — {update.note}" if update.note else "")
        )
    for ref in parsed.unknown_refs:
        yours = f"; the refs given are {', '.join(known_refs)}" if known_refs else ""
        click.echo(f"unknown:   no action {ref}{yours}")
    for question in parsed.questions:
        click.echo(f"question:  {question}")
    if parsed.general_note:
        click.echo(f"general:   {parsed.general_note}")


def _refs_option(refs: str | None) -> list[str] | None:
    if refs is None:
        return None
    known = [ref.strip() for ref in refs.split(",") if ref.strip()]
    if not known:
        raise click.BadParameter("give at least one ref, like --refs 1,2", param_hint="--refs")
    return known


@click.command("ingest")
@click.argument("file", metavar="[FILE|-]", default="-")
@click.option("--now", "now_text", metavar="ISO8601", help="When it was received (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print what happened as JSON.")
@click.option(
    "--exit-tempfail",
    is_flag=True,
    help="When the message could not be stored (database down, bad settings), exit 75 "
    "(EX_TEMPFAIL) instead of 1, so that an MTA pipe defers and retries rather than bounces.",
)
def ingest_command(file: str, now_text: str | None, as_json: bool, exit_tempfail: bool) -> None:
    """Take one raw message (as an MTA pipe delivers it): store, then record it.

    Exits 0 whenever the message is safely stored, whatever it turned out to
    be; a message that cannot be trusted waits in `tracker review`. From an
    MTA, use --exit-tempfail (Postfix: `pipe ... argv=tracker ingest --exit-tempfail`).
    """
    raw = _read_input(file)
    if not raw.strip():
        raise TrackerError("the message is empty: nothing stored")
    try:
        runtime = Runtime.from_environment()
        secret = runtime.settings.require_secret_key()
        runtime.require_current_schema()
        result = ingest(
            raw,
            session_factory=runtime.session_factory,
            secret_key=secret,
            source="pipe",
            now=parse_now(now_text),
            limits=runtime.reading_limits,
        )
    except (TrackerError, SQLAlchemyError, OSError) as error:
        if not exit_tempfail:
            raise
        click.echo(f"error: not stored, try again later: {_one_line(error)}", err=True)
        sys.exit(EX_TEMPFAIL)
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(_describe(result))


def _one_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    cause = error.__context__
    if text.startswith("no such savepoint") and cause is not None:
        # SQLite rolls the whole transaction back by itself on a full disk or an I/O
        # error, so undoing the savepoint fails too; the first error is the one to tell.
        return _one_line(cause)
    return text.splitlines()[0] if text else type(error).__name__


def _describe(result: IntakeResult) -> str:
    """What happened to one message, as a coordinator reads it."""
    prefix = f"message {result.inbound_id}" + (" (already stored)" if result.duplicate else "")
    detail = printable(result.detail, keep_newlines=False)
    if result.state == "stored":
        return f"{prefix}: {detail}"
    if result.state == "held":
        why = REASON_WORDS.get(result.reason or "", "it waits for a coordinator")
        return f"{prefix}: held for review: {why} ({detail})"
    if result.state == "failed":
        return (
            f"{prefix}: failed: {detail}; it waits in `tracker review` "
            f"(after a fix: `tracker reprocess {result.inbound_id}`)"
        )
    if result.state == "duplicate":
        return f"{prefix}: duplicate: {detail}"
    lines = [
        f"{prefix}: {result.kind}, {detail}"
        + (f" for {result.participant}" if result.participant else "")
    ]
    lines += [f"  {printable(update_text(update))}" for update in result.updates]
    return "\n".join(lines)


def fetch_and_process(
    runtime: Runtime, now: datetime | None = None
) -> tuple[FetchReport, list[IntakeResult]]:
    """One IMAP pass: store each new message (committed before it is flagged), then process."""
    settings = runtime.settings
    if settings.imap is None:
        raise TrackerError("TRACKER_IMAP_URL is not set: there is no mailbox to fetch from")
    secret = settings.require_secret_key()
    runtime.require_current_schema()
    clock = SystemClock()

    def store(raw: bytes) -> None:
        with runtime.session_factory.begin() as session:
            store_inbound(raw, session=session, source="imap", now=now or clock.now())

    with exclusive(runtime.engine, f"imap:{settings.imap.address}/{settings.imap.folder}") as mine:
        if not mine:
            empty = FetchReport(fetched=0, stored=0, failed=0, errors=())
            return empty, []  # another process is polling this mailbox right now
        report = fetch_new_messages(settings.imap, store)
    results = process_stored(
        session_factory=runtime.session_factory,
        secret_key=secret,
        now=now or clock.now(),
        limits=runtime.reading_limits,
    )
    return report, results


@click.command("fetch-mail")
@click.option(
    "--now", "now_text", metavar="ISO8601", help="Record messages as received at this moment."
)
@click.option("--json", "as_json", is_flag=True, help="Print what the pass did as JSON.")
def fetch_mail_command(now_text: str | None, as_json: bool) -> None:
    """One pass over the IMAP mailbox of TRACKER_IMAP_URL."""
    runtime = Runtime.from_environment()
    report, results = fetch_and_process(runtime, parse_now(now_text) if now_text else None)
    if as_json:
        print_json(
            {
                "fetched": report.fetched,
                "stored": report.stored,
                "failed": report.failed,
                "errors": list(report.errors),
                "processed": [r.to_json() for r in results],
            }
        )
    else:
        for result in results:
            click.echo(_describe(result))
        click.echo(f"fetched {report.fetched}, stored {report.stored}, failed {report.failed}")
        for error in report.errors:
            click.echo(f"warning: {error}", err=True)
    if report.errors and not report.stored:
        sys.exit(1)


@click.command("updates")
@click.option("--programme", "slug", metavar="SLUG", help="Only this programme.")
@click.option("--participant", "email", metavar="EMAIL", help="Only this participant.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
def updates_command(slug: str | None, email: str | None, as_json: bool) -> None:
    """The history of recorded updates, oldest first."""
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        document = update_history(session=session, slug=slug, email=email)
    if as_json:
        print_json(document)
        return
    if not document["updates"]:
        click.echo("no updates recorded yet")
    for row in document["updates"]:
        asks = "  [question]" if row["question"] else ""
        text = printable(update_text(row), keep_newlines=False)
        click.echo(f"{row['at'][:16]}  {row['participant']}  {text}{asks}")


@click.command("reprocess")
@click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
@click.option("--now", "now_text", metavar="ISO8601", help="Record as at this moment.")
@click.option("--json", "as_json", is_flag=True, help="Print what happened as JSON.")
def reprocess_command(ids: tuple[int, ...], now_text: str | None, as_json: bool) -> None:
    """Read stored messages again (after a fix): the given IDs, or all never processed.

    What a message recorded before is replaced, never duplicated. Exits 1
    when a message fails (it stays in `tracker review` with the reason).
    """
    runtime = Runtime.from_environment()
    secret = runtime.settings.require_secret_key()
    runtime.require_current_schema()
    now = parse_now(now_text)
    factory = runtime.session_factory
    total = len(ids) if ids else None
    with progress_bar("reading messages", total, enabled=wants_progress(as_json=as_json)) as bar:
        if ids:
            results = reprocess(
                list(ids),
                session_factory=factory,
                secret_key=secret,
                now=now,
                advance=bar,
                limits=runtime.reading_limits,
            )
        else:
            results = process_stored(
                session_factory=factory,
                secret_key=secret,
                now=now,
                advance=bar,
                limits=runtime.reading_limits,
            )
    failed = [r for r in results if r.state == "failed"]
    if as_json:
        print_json({"processed": [r.to_json() for r in results], "failed": len(failed)})
    else:
        for result in results:
            click.echo(_describe(result))
        click.echo(f"{len(results)} message(s) processed, {len(failed)} failed")
    if failed:
        if not as_json:
            click.echo(
                f"error: {len(failed)} message(s) failed: "
                + ", ".join(str(r.inbound_id) for r in failed),
                err=True,
            )
        sys.exit(1)


def register(group: click.Group) -> None:
    for command in (
        parse_command,
        ingest_command,
        fetch_mail_command,
        review_group,
        updates_command,
        reprocess_command,
    ):
        group.add_command(command)
