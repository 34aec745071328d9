"""`UtcDateTime` converts each moment once per process (a memo in its bind
processor): what it hands the engine must be what the conversion gives for
that very value, whatever was converted before it (zones, and `fold`, which
tells apart the two instants of a repeated local hour)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from tracker.db.types import UtcDateTime

ZONES = [UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Shanghai")]
# The night the clocks go back in Paris (02:00-03:00 happens twice), from
# 01:00 to 04:00 in steps of half an hour.
AUTUMN = datetime(2019, 10, 27, 0, 0, tzinfo=UTC)  # its zone is replaced below
DIALECTS = [sqlite.dialect(), postgresql.psycopg.dialect()]

moments = st.builds(
    lambda minutes, micro, zone, fold: (
        AUTUMN + timedelta(minutes=minutes, microseconds=micro)
    ).replace(tzinfo=zone, fold=fold),
    st.integers(min_value=2, max_value=8).map(lambda n: n * 30),
    st.sampled_from([0, 999_999]),
    st.sampled_from(ZONES),
    st.sampled_from([0, 1]),
)


def _with_memo(dialect: Dialect) -> Callable[[datetime | None], object]:
    """The bind processor an engine of `dialect` uses (the type adapted to it)."""
    process = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    return process


def _without_memo(dialect: Dialect) -> Callable[[datetime | None], object]:
    """The conversion as SQLAlchemy composes it (ours, then the engine's)."""
    process = TypeDecorator.bind_processor(UtcDateTime().dialect_impl(dialect), dialect)
    assert process is not None
    return process


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@given(values=st.lists(moments, max_size=20))
def test_each_value_is_converted_as_without_the_memo(
    dialect: Dialect, values: list[datetime]
) -> None:
    process = _with_memo(dialect)
    expected = _without_memo(dialect)
    # Each value, its twin of the other `fold` (equal in Python, but in the
    # repeated hour another instant), None, then all again from the memo.
    twins = [v.replace(fold=1 - v.fold) for v in values]
    sequence = [*values, *twins, None, *values, *twins]
    assert [process(v) for v in sequence] == [expected(v) for v in sequence]


def test_the_two_instants_of_a_repeated_hour_stay_apart() -> None:
    first = datetime(2019, 10, 27, 2, 30, tzinfo=ZoneInfo("Europe/Paris"))
    second = first.replace(fold=1)
    assert first == second  # equal in Python, an hour apart in fact
    process = _with_memo(sqlite.dialect())
    assert [process(first), process(second)] == [
        "2019-10-27 00:30:00.000000",
        "2019-10-27 01:30:00.000000",
    ]


def test_a_naive_value_is_still_refused_after_its_aware_twin() -> None:
    process = _with_memo(sqlite.dialect())
    process(datetime(2019, 6, 24, 2, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2019, 6, 24, 2, 0, tzinfo=UTC).replace(tzinfo=None))
