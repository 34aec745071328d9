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

from collections.abc import Iterator
import yaml
from yaml.composer import Composer, ComposerError
from yaml.resolver import Resolver

try:
    from yaml.cyaml import CParser as _EventParser  # libyaml: about ten times faster
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _EventParser  # type: ignore[assignment]

PARTICIPANTS = "participants"


class _StreamComposer(Composer, Resolver):  # type: ignore[misc]
    """PyYAML's composer (and the safe loader's resolver) over the parser's events."""

    def __init__(self, data: str | bytes) -> None:
        Composer.__init__(self)
        Resolver.__init__(self)
        parser = _EventParser(data)
        self.check_event = parser.check_event
        self.peek_event = parser.peek_event
        self.get_event = parser.get_event
        self.skipped: yaml.SequenceNode | None = None  # the participants list, left empty

    def document(self, *, skip_participants: bool) -> Iterator[yaml.Node]:
        """Yield each participant (none when skipped); the root is then in `self.root`.

        The same checks as `yaml.compose`: one document at most.
        """
        self.root: yaml.Node | None = None
        self.get_event()  # the stream's start
        if self.check_event(yaml.StreamEndEvent):
            return
        start = self.get_event()  # the document's start
        if self.check_event(yaml.MappingStartEvent):
            self.root = yield from self._top_mapping(skip_participants)
        else:
            self.root = self.compose_node(None, None)
        self.get_event()  # the document's end
        if not self.check_event(yaml.StreamEndEvent):
            raise ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                self.get_event().start_mark,
            )

    def _top_mapping(self, skip_participants: bool) -> Iterator[yaml.Node]:
        # PyYAML's compose_mapping_node, with the first participants list streamed.
        start = self.peek_event()
        if start.anchor is not None:
            return self.compose_node(None, None)  # type: ignore[no-any-return]
        self.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.MappingNode, None, start.implicit)
        node = yaml.MappingNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        while not self.check_event(yaml.MappingEndEvent):
            key = self.compose_node(node, None)
            if (
                self.skipped is None
                and isinstance(key, yaml.ScalarNode)
                and key.value == PARTICIPANTS
                and self.check_event(yaml.SequenceStartEvent)
                and self.peek_event().anchor is None
            ):
                value = yield from self._participants(skip_participants)
            else:
                value = self.compose_node(node, key)
            node.value.append((key, value))
        node.end_mark = self.get_event().end_mark
        return node

    def _participants(self, skip: bool) -> Iterator[yaml.Node]:
        start = self.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.SequenceNode, None, start.implicit)
        node = yaml.SequenceNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        self.skipped = node
        index = 0
        while not self.check_event(yaml.SequenceEndEvent):
            if skip:
                self._skip_node()
            else:
                yield self.compose_node(node, index)
            index += 1
        node.end_mark = self.get_event().end_mark
        return node

    def _skip_node(self) -> None:
        """Consume one node's events without composing it."""
        depth = 0
        while True:
            event = self.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if depth == 0:
                return


def compose_head(data: str | bytes) -> tuple[yaml.Node | None, yaml.SequenceNode | None]:
    """The root node, and its participants list if it was left empty (to stream it).

    Raises `yaml.YAMLError` as `yaml.compose` does.
    """
    composer = _StreamComposer(data)
    for _ in composer.document(skip_participants=True):
        pass
    return composer.root, composer.skipped


def participant_nodes(data: str | bytes) -> Iterator[yaml.Node]:
    """Each item of the file's participants list, composed one at a time."""
    return _StreamComposer(data).document(skip_participants=False)
