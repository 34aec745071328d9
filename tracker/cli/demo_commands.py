"""`tracker demo`: the whole story, with no setup and no network."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from tracker.cli.programme_commands import status_text
from tracker.demo import run_demo
from tracker.services.review import held_messages
from tracker.services.status import programme_status


@click.command("demo")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tracker-demo"),
    show_default=True,
    help="Where the demo keeps its database and the messages it 'sends' (made afresh).",
)
@click.option(
    "--no-serve",
    is_flag=True,
    help="Exit at the end (the coordinators' dashboard is not part of this version, "
    "so the demo always ends after the story).",
)
def demo_command(folder: Path, no_serve: bool) -> None:
    """Play a programme's follow-up from start to end on an embedded example.

    Uses its own SQLite database and writes outgoing mail to files: it needs
    no configuration, touches no other database and sends nothing.
    """
    factory = run_demo(folder, click.echo)
    with factory() as session:
        status = programme_status(session=session)
        held = held_messages(session=session)["held"]
    click.echo("\nWhere everything stands (as `tracker status` shows it):\n")
    for programme in status["programmes"]:
        click.echo(status_text(programme))
    click.echo(f"\nHeld for a coordinator (`tracker review`): {len(held)}")
    for row in held:
        click.echo(f"  {row['id']}: {row['reason']} from {row['from']} — {row['detail']}")
    command = _this_command()
    click.echo(
        f"\nTry it yourself: TRACKER_DATABASE_URL=sqlite:///{folder}/demo.db {command} status"
    )


def _this_command() -> str:
    """How to run this `tracker` again: by name when PATH finds this one, else by path."""
    invoked = Path(sys.argv[0]).resolve()
    on_path = shutil.which("tracker")
    if on_path is not None and Path(on_path).resolve() == invoked:
        return "tracker"
    return os.path.relpath(invoked)
