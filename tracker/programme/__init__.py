"""The programme file: reading YAML into a validated `ProgrammeSpec` (`reading`), the
records it yields (`spec`), and the converters for each kind of value (`values`)."""

from __future__ import annotations

from tracker.programme.reading import read_programme_file
from tracker.programme.spec import (
    ActionSpec,
    CoordinatorSpec,
    ParticipantSpec,
    ProgrammeSpec,
    RuleSpec,
)

__all__ = [
    "ActionSpec",
    "CoordinatorSpec",
    "ParticipantSpec",
    "ProgrammeSpec",
    "RuleSpec",
    "read_programme_file",
]
