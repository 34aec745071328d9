"""Progress bars for long work: drawn on a terminal, silent under --json or when piped.

Commands that loop over many rows (import, a send pass, reprocess) take an
`advance` callback from `progress_bar` and call it once per item done; the
services never know whether anybody is watching.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

Advance = Callable[[int], None]


def wants_progress(*, as_json: bool = False) -> bool:
    """Whether to draw a bar: only for a person at a terminal, never under --json."""
    return not as_json and sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, total: int | None, *, enabled: bool) -> Iterator[Advance]:
    """Yield `advance(n)`; draws a bar on stderr while the block runs when `enabled`."""
    if not enabled:
        yield _ignore
        return
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def _ignore(_n: int = 1) -> None:
    return None
