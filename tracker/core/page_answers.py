"""What one action's row of the personal page says, in the terms of the reply grammar.

The page offers a status, a percentage and a note for each open action. The
same rules as a reply apply: 100% means done, done without a percentage
means 100, a percentage alone means in progress, and a percentage below 100
beside "done" means in progress at that percentage. A row that changes
nothing (same status and percentage, no note, no file) records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.core.model import ActionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class RowAnswer:
    """One row as recorded: status and percent after the grammar's rules."""

    status: ActionStatus | None
    percent: int | None
    note: str


def settle_row(
    *,
    current_status: ActionStatus,
    current_percent: int | None,
    status: ActionStatus | None,
    percent: int | None,
    note: str,
    has_file: bool,
) -> RowAnswer | None:
    """The update a page row asks for, or None when it changes nothing.

    1. Percentages are whole numbers from 0 to 100 (others: ValueError).
    2. The grammar's rules settle status and percent together.
    3. Nothing changed and nothing said: None.
    """
    if percent is not None and not 0 <= percent <= 100:
        raise ValueError("a percentage is between 0 and 100")
    note = note.strip()
    if status is None and percent is not None:
        status = ActionStatus.IN_PROGRESS
    if percent == 100 and status in (ActionStatus.IN_PROGRESS, ActionStatus.DONE):
        status = ActionStatus.DONE
    elif status is ActionStatus.DONE and percent is None:
        percent = 100
    elif status is ActionStatus.DONE and percent is not None and percent < 100:
        status = ActionStatus.IN_PROGRESS
    same = status is None or (status == current_status and percent == current_percent)
    if same and not note and not has_file:
        return None
    if same:
        # Only a note (or a file): it changes neither status nor percent.
        return RowAnswer(status=None, percent=None, note=note)
    return RowAnswer(status=status, percent=percent, note=note)
