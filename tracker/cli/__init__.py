"""The `tracker` command.

Every command exits 0 on success, 1 on a user error with one line on stderr,
and 2 on bad usage (click's own). Each command family lives in its own module.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from sqlalchemy.exc import InterfaceError, OperationalError

from tracker.errors import ProgrammeFileError, TrackerError


class TrackerGroup(click.Group):
    """Turns our own errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProgrammeFileError as error:
            click.echo(f"error: {error}", err=True)
            for problem in error.problems:
                click.echo(f"  {error.path}: {problem}", err=True)
            sys.exit(1)
        except TrackerError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        except (OperationalError, InterfaceError) as error:
            # The database went away mid-command (a restart, a lost network): what was
            # committed stays, the rest is redone by the next run. One line, no traceback.
            click.echo(f"error: the database connection failed: {_first_line(error)}", err=True)
            sys.exit(1)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, one line per event.")
@click.version_option(package_name="followup-tracker", prog_name="tracker")
def main(verbose: bool) -> None:
    """Follow up on training action plans by email.

    Configuration comes from TRACKER_* environment variables or a .env file
    (see config.example.env).
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _register() -> None:
    from tracker.cli import (
        backup_commands,
        coordinator_commands,
        demo_commands,
        editing_commands,
        export_commands,
        inbound_commands,
        outbox_commands,
        programme_commands,
        schedule_commands,
        sending_commands,
        service_commands,
        web_commands,
    )

    programme_commands.register(main)
    inbound_commands.register(main)
    service_commands.register(main)
    coordinator_commands.register(main)
    main.add_command(demo_commands.demo_command)
    sending_commands.register(main)
    schedule_commands.register(main)
    export_commands.register(main)
    editing_commands.register(main)
    web_commands.register(main)
    outbox_commands.register(main)
    backup_commands.register(main)


_register()
