"""Walking a composed YAML document: mappings, lists and values, each problem with its line.

`NodeWalker` collects problems and warnings instead of stopping at the first,
so a reader built on it reports everything wrong with a file at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TypeVar

import yaml

T = TypeVar("T")
Mapping = dict[str, tuple[yaml.ScalarNode, yaml.Node]]


class NodeWalker:
    """Reads nodes into values; every problem found is kept with its line."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problem_at(node.start_mark.line + 1, message)

    def problem_at(self, line: int, message: str) -> None:
        self.problems.append(f"line {line}: {_shortened(message)}")

    def warning(self, node: yaml.Node, message: str) -> None:
        self.warnings.append(f"line {node.start_mark.line + 1}: {_shortened(message)}")

    # -- structure ---------------------------------------------------------------------

    def mapping(
        self, node: yaml.Node, what: str, required: set[str], optional: set[str]
    ) -> Mapping | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        result: Mapping = {}
        allowed = required | optional
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, f"{what}: keys must be plain words")
            elif key in result:
                self.problem(key_node, f"{what}: key {key!r} appears twice")
            elif key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                listed = ", ".join(sorted(allowed))
                self.problem(key_node, f"{what}: unknown key {key!r} ({hint}allowed: {listed})")
            else:
                result[key] = (key_node, value_node)
        for key in sorted(required - set(result)):
            self.problem(node, f"{what}: missing key {key!r}")
        return result

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            self.problem(node, f"{what} must be a single value")
            return None
        return str(node.value).strip()

    def field(
        self, fields: Mapping | None, key: str, what: str, convert: Callable[[str], T]
    ) -> T | None:
        """Convert `key` of a mapping; a ValueError's text becomes the problem."""
        if fields is None or key not in fields:
            return None
        node = fields[key][1]
        raw = self.scalar(node, f"{what} {key}")
        if raw is None:
            return None
        try:
            return convert(raw)
        except ValueError as error:
            self.problem(node, f"{what} {key}: {error}")
            return None

    def problems_about(self, node: yaml.Node) -> bool:
        """Whether a problem was already reported on `node`'s line."""
        return any(p.startswith(f"line {node.start_mark.line + 1}:") for p in self.problems)


def _shortened(message: str, limit: int = 300) -> str:
    """A problem quotes the value it is about; a pasted blob is cut in the middle."""
    if len(message) <= limit:
        return message
    half = (limit - 1) // 2
    return message[:half] + "…" + message[-half:]
