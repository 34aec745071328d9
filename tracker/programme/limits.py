"""Bounds on a programme file, checked before it is composed.

A hostile or mistaken file must cost little and fail with one line: a file
far larger than any programme, a 10,000-level nesting (PyYAML's composer
recurses, so it would end in a RecursionError), an alias bomb (a few lines
that expand to billions of values when walked), or a tag that asks for a
Python object. The check walks the parser's event stream, which needs no
recursion and no memory per value, and stops at the first limit crossed.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

MEGABYTE = 1024 * 1024
VALUES_PER_MEGABYTE = 250_000  # a real file has about 150,000 (a value every ~7 bytes)
MAX_DEPTH = 24  # the deepest real path is 6 levels (participants > actions > action > due)

# Tags a YAML file may name explicitly: the plain types of YAML's core schema.
# Everything else (!!python/object, !!binary, custom tags) is refused.
_ALLOWED_TAGS = frozenset(
    {"!"}
    | {
        f"tag:yaml.org,2002:{name}"
        for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
    }
)

# The C parser (libyaml) when PyYAML was built with it: about ten times faster.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingLimits:
    """How large a programme file may be; `TRACKER_MAX_PROGRAMME_MB` scales them."""

    megabytes: int = 20
    max_depth: int = MAX_DEPTH

    @property
    def max_bytes(self) -> int:
        return self.megabytes * MEGABYTE

    @property
    def max_values(self) -> int:
        """Values counted as a reader would walk them: an alias counts its whole target."""
        return self.megabytes * VALUES_PER_MEGABYTE


def too_large(size: int, limits: ReadingLimits) -> str | None:
    """The problem with a file of `size` bytes (or characters), if it is over the limit."""
    if size <= limits.max_bytes:
        return None
    return (
        f"the file is larger than {limits.megabytes} MB "
        "(raise TRACKER_MAX_PROGRAMME_MB to read a larger programme)"
    )


def shape_problem(text: str | bytes, limits: ReadingLimits) -> str | None:
    """The first limit the YAML in `text` (or its bytes) crosses, as one line; None if none.

    1. Size: more characters than the limit's bytes is over it whatever the encoding.
    2. Events, in order: each explicit tag must be a plain type; each collection
       opened deepens the nesting, which must stay within `max_depth`.
    3. Expanded values: a running count in which an alias adds the expanded
       size of the collection it names, so a bomb is caught while it is read.
    A syntax error is left for the composer, which reports it with its line.
    """
    if (problem := too_large(len(text), limits)) is not None:
        return problem
    depth = 0
    total = 0
    sizes: list[int] = []  # expanded size of each open collection
    anchors: list[str | None] = []
    anchored: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=LOADER):
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, yaml.AliasEvent):
                size = anchored.get(event.anchor or "", 1)
            elif isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
                tag = event.tag
                if tag is not None and tag not in _ALLOWED_TAGS:
                    return f"line {line}: the tag {tag!r} is not allowed in a programme file"
                size = 1
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > limits.max_depth:
                        return _too_deep(line, limits)
                    total += 1
                    sizes.append(1)
                    anchors.append(event.anchor)
                    continue
                if event.anchor:
                    anchored[event.anchor] = 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                size = sizes.pop()
                anchor = anchors.pop()
                if anchor:
                    anchored[anchor] = size
                if sizes:
                    sizes[-1] += size
                continue
            else:
                continue
            total += size
            if sizes:
                sizes[-1] += size
            if total > limits.max_values:
                return (
                    f"line {line}: the file holds more than {limits.max_values:,} values "
                    "(counting what its aliases repeat); raise TRACKER_MAX_PROGRAMME_MB "
                    "to read a larger programme"
                )
    except yaml.YAMLError as error:
        # libyaml stops at its own depth (1,000) while scanning ahead: say it our way.
        if "nesting depth" in str(error):
            mark = getattr(error, "problem_mark", None)
            return _too_deep(mark.line + 1 if mark is not None else 1, limits)
        return None  # a syntax error: the composer reports it with its line
    return None


def _too_deep(line: int, limits: ReadingLimits) -> str:
    return (
        f"line {line}: nested more than {limits.max_depth} levels deep (a programme file needs 6)"
    )
