"""`write_json` prints what `json.dump(indent=2, ensure_ascii=False)` prints, from iterators."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tracker.cli.json_stream import write_json

_SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _streamed(value: Any) -> Any:
    """The same data with every list an iterator (as `status --json` hands it over)."""
    if isinstance(value, dict):
        return {key: _streamed(item) for key, item in value.items()}
    if isinstance(value, list):
        return iter([_streamed(item) for item in value])
    return value


@given(_DOCUMENTS)
def test_streamed_document_reads_exactly_as_json_dump_writes_it(document: Any) -> None:
    out = io.StringIO()
    write_json(_streamed(document), out)
    assert out.getvalue() == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_empty_and_chinese_values_are_written_as_json_does() -> None:
    out = io.StringIO()
    write_json({"programmes": iter(()), "name": "行动计划", "n": [1, {}]}, out)
    assert out.getvalue() == (
        '{\n  "programmes": [],\n  "name": "行动计划",\n  "n": [\n    1,\n    {}\n  ]\n}\n'
    )
