"""Errors a user can cause: each carries one clear line for the CLI to print."""

from __future__ import annotations


class TrackerError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits 1."""


class ConfigError(TrackerError):
    """A missing or malformed configuration value; the message names the key."""


class ProgrammeFileError(TrackerError):
    """A programme file that cannot be imported; carries every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        count = len(problems)
        super().__init__(f"{path}: {count} problem{'s' if count != 1 else ''}, nothing imported")


class NotFoundError(TrackerError):
    """A programme, participant or message named on the command line does not exist."""
