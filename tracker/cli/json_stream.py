"""One JSON document written as it is produced: lists may be iterators.

`write_json` prints exactly what `json.dump(document, indent=2,
ensure_ascii=False)` prints for the same data with every iterator made a list,
without ever holding a whole list: `tracker status --json` of a large
programme streams participant by participant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

_INDENT = "  "


def write_json(document: Any, out: IO[str]) -> None:
    _write(document, out, 0)
    out.write("\n")


def _write(value: Any, out: IO[str], depth: int) -> None:
    if isinstance(value, Mapping):
        _write_items(((json.dumps(k, ensure_ascii=False), v) for k, v in value.items()),
                     "{", "}", out, depth)  # fmt: skip
    elif isinstance(value, list | tuple | Iterator):
        _write_items(((None, v) for v in value), "[", "]", out, depth)
    else:
        out.write(json.dumps(value, ensure_ascii=False))


def _write_items(
    items: Iterator[tuple[str | None, Any]], opening: str, closing: str, out: IO[str], depth: int
) -> None:
    inner = _INDENT * (depth + 1)
    first = True
    for key, value in items:
        out.write(f"{opening}\n{inner}" if first else f",\n{inner}")
        first = False
        if key is not None:
            out.write(f"{key}: ")
        _write(value, out, depth + 1)
    out.write(f"{opening}{closing}" if first else f"\n{_INDENT * depth}{closing}")
