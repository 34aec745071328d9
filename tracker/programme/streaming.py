"""Composing a programme file a participant at a time, so that its memory stays flat.

`yaml.compose` builds the nodes of the whole file at once: for a programme of
100,000 participants, gigabytes. Here a composer walks the parser's event
stream and composes the top of the file (the `programme` and `follow_up`
keys) as usual, but the items of its `participants` list one at a time:

- `compose_head` returns the root with the participants list left empty (its
  items are skipped, event by event, without composing them);
- `participant_nodes` yields each item of that list, composed on its own and
  dropped by the caller when it is read.

Anchors work as in `yaml.compose` for everything that follows them in the
file (a participant may repeat `*standard_actions` defined earlier); only the
top of the file cannot name an anchor set inside a participant, since their
nodes are not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

import yaml
from yaml.composer import ComposerError
from yaml.resolver import Resolver

from tracker.programme.limits import LOADER

PARTICIPANTS = "participants"
CollectionNode = TypeVar("CollectionNode", yaml.SequenceNode, yaml.MappingNode)


class _Composer:
    """PyYAML's composer (with the safe loader's tags) over the parser's events.

    It composes node by node as `yaml.compose` does (same tags, marks, anchor
    and alias rules, and libyaml's wording of their errors), except for the
    participants list, which it hands out an item at a time.
    """

    def __init__(self, data: str | bytes) -> None:
        self._events: Any = LOADER(data)  # only its parser is used (libyaml's if there)
        self._resolve: Callable[[type[yaml.Node], str | None, Any], str] = Resolver().resolve
        self._anchors: dict[str, yaml.Node] = {}
        self.root: yaml.Node | None = None
        self.streamed: yaml.SequenceNode | None = None  # the participants list, left empty

    def document(self, *, skip_participants: bool) -> Iterator[yaml.Node]:
        """Yield each participant (none when skipped); then the root is in `self.root`.

        The same checks as `yaml.compose`: one document at most.
        """
        self._events.get_event()  # the stream's start
        if self._events.check_event(yaml.StreamEndEvent):
            return
        start = self._events.get_event()  # the document's start
        first = self._events.peek_event()
        if isinstance(first, yaml.MappingStartEvent) and first.anchor is None:
            self.root = yield from self._top_mapping(skip_participants)
        else:
            self.root = self._node()
        self._events.get_event()  # the document's end
        if not self._events.check_event(yaml.StreamEndEvent):
            raise ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                self._events.get_event().start_mark,
            )

    def _top_mapping(self, skip_participants: bool) -> Generator[yaml.Node, None, yaml.Node]:
        node = self._collection(yaml.MappingNode, self._events.get_event())
        while not self._events.check_event(yaml.MappingEndEvent):
            key = self._node()
            following = self._events.peek_event()
            if (
                self.streamed is None
                and isinstance(key, yaml.ScalarNode)
                and key.value == PARTICIPANTS
                and isinstance(following, yaml.SequenceStartEvent)
                and following.anchor is None
            ):
                value: yaml.Node = yield from self._participants(skip_participants)
            else:
                value = self._node()
            node.value.append((key, value))
        node.end_mark = self._events.get_event().end_mark
        return node

    def _participants(self, skip: bool) -> Generator[yaml.Node, None, yaml.Node]:
        node = self._collection(yaml.SequenceNode, self._events.get_event())
        self.streamed = node
        while not self._events.check_event(yaml.SequenceEndEvent):
            if skip:
                self._skip_node()
            else:
                yield self._node()
        node.end_mark = self._events.get_event().end_mark
        return node

    def _node(self) -> yaml.Node:
        """The next node, composed as PyYAML's `Composer.compose_node` does."""
        events = self._events
        if events.check_event(yaml.AliasEvent):
            alias = events.get_event()
            if alias.anchor not in self._anchors:
                raise ComposerError(None, None, "found undefined alias", alias.start_mark)
            return self._anchors[alias.anchor]
        if events.check_event(yaml.ScalarEvent):
            event = events.get_event()
            self._check_anchor(event)
            tag = event.tag
            if tag is None or tag == "!":
                tag = self._resolve(yaml.ScalarNode, event.value, event.implicit)
            scalar = yaml.ScalarNode(
                tag, event.value, event.start_mark, event.end_mark, style=event.style
            )
            if event.anchor is not None:
                self._anchors[event.anchor] = scalar
            return scalar
        if events.check_event(yaml.SequenceStartEvent):
            sequence = self._collection(yaml.SequenceNode, events.get_event())
            while not events.check_event(yaml.SequenceEndEvent):
                sequence.value.append(self._node())
            sequence.end_mark = events.get_event().end_mark
            return sequence
        mapping = self._collection(yaml.MappingNode, events.get_event())
        while not events.check_event(yaml.MappingEndEvent):
            key = self._node()
            mapping.value.append((key, self._node()))
        mapping.end_mark = events.get_event().end_mark
        return mapping

    def _collection(self, kind: type[CollectionNode], start: Any) -> CollectionNode:
        """An empty collection node for `start`, known under its anchor from now on."""
        self._check_anchor(start)
        tag = start.tag
        if tag is None or tag == "!":
            tag = self._resolve(kind, None, start.implicit)
        node = kind(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if start.anchor is not None:
            self._anchors[start.anchor] = node
        return node

    def _check_anchor(self, event: Any) -> None:
        if event.anchor is not None and event.anchor in self._anchors:
            raise ComposerError(
                "found duplicate anchor; first occurrence",
                self._anchors[event.anchor].start_mark,
                "second occurrence",
                event.start_mark,
            )

    def _skip_node(self) -> None:
        """Consume one node's events without composing it."""
        depth = 0
        while True:
            event = self._events.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if depth == 0:
                return


def compose_head(data: str | bytes) -> tuple[yaml.Node | None, yaml.SequenceNode | None]:
    """The root node, and its participants list if it was left empty (to be streamed).

    Raises `yaml.YAMLError` as `yaml.compose` does.
    """
    composer = _Composer(data)
    for _ in composer.document(skip_participants=True):
        pass
    return composer.root, composer.streamed


def participant_nodes(data: str | bytes) -> Iterator[yaml.Node]:
    """Each item of the file's participants list, composed one at a time."""
    return _Composer(data).document(skip_participants=False)
