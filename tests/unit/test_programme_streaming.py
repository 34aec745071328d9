"""Composing a programme file a participant at a time gives the nodes `yaml.compose` gives."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.programme.limits import LOADER
from tracker.programme.streaming import compose_head, participant_nodes

Shape = tuple[Any, ...]


def shape(node: yaml.Node) -> Shape:
    """Everything the reader uses of a node: kind, tag, value, style and both marks."""
    marks = (
        node.start_mark.line,
        node.start_mark.column,
        node.end_mark.line,
        node.end_mark.column,
    )
    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.tag, node.value, node.style, marks)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", node.tag, node.flow_style, marks, [shape(item) for item in node.value])
    assert isinstance(node, yaml.MappingNode)
    pairs = [(shape(key), shape(value)) for key, value in node.value]
    return ("map", node.tag, node.flow_style, marks, pairs)


def streamed(text: str | bytes) -> Shape | None:
    """The document as the streaming reader composes it, its participants put back."""
    root, participants = compose_head(text)
    if participants is not None:
        participants.value = list(participant_nodes(text))
    return shape(root) if root is not None else None


def composed(text: str | bytes) -> Shape | None:
    root = yaml.compose(text, Loader=LOADER)
    return shape(root) if root is not None else None


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
scalars = st.one_of(words, st.integers(), st.booleans(), st.none(), st.dates())
actions = st.lists(
    st.fixed_dictionaries({"ref": words, "title": words, "due": st.dates()}), max_size=3
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Programme-like files: keys in any order, block or flow style, shared (anchored) values."""
    shared = draw(actions)  # dumped once with an anchor, then as aliases
    people = [
        {
            "name": draw(words),
            "email": draw(words),
            "extra": draw(scalars),
            "actions": shared if draw(st.booleans()) else draw(actions),
        }
        for _ in range(draw(st.integers(0, 5)))
    ]
    top: dict[str, Any] = {
        "programme": {"slug": draw(words), "starts_on": draw(st.dates())},
        "participants": people if draw(st.booleans()) else draw(scalars),
        "follow_up": [{"kind": draw(words), "days": draw(st.integers())}],
    }
    keys = draw(st.permutations(list(top)))
    ordered = {key: top[key] for key in keys[: draw(st.integers(1, len(keys)))]}
    return yaml.dump(
        ordered,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        sort_keys=False,
    )


@settings(max_examples=150, deadline=None)
@given(documents())
def test_streamed_nodes_are_the_composed_nodes(text: str) -> None:
    assert streamed(text) == composed(text)
    assert streamed(text.encode("utf-8")) == composed(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "- a list\n- at the top\n",
        "&top {participants: [{name: a}]}\n",
        "participants: &all [{name: a}]\nother: *all\n",
        "participants: [{name: a}]\nparticipants: [{name: b}]\n",
        "programme: {x: &p 1}\nparticipants:\n  - {name: *p}\n  - !!str 2\n",
        "participants:\n- &a {name: a}\n- *a\n",
        "participants: []\n",
        "participants:\n",
        "\ufeffparticipants: [{name: a}]\n",
    ],
)
def test_unusual_files_compose_alike(text: str) -> None:
    assert streamed(text) == composed(text)
    assert streamed(text.encode("utf-8")) == composed(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("participants:\n- &a 1\n- &a 2\n", "found duplicate anchor"),
        ("participants:\n- *nowhere\n", "found undefined alias"),
        ("participants: [1]\n---\nmore: 2\n", "expected a single document"),
        ("participants: [1\n", "expected ',' or ']'"),
    ],
)
def test_broken_files_fail_alike(text: str, problem: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.compose(text, Loader=LOADER)
    with pytest.raises(yaml.YAMLError) as raised:
        streamed(text)
    assert problem in str(raised.value)
    assert reported(raised.value) == reported(expected.value)


def reported(error: yaml.YAMLError) -> tuple[object, ...]:
    """What the reader says of a YAML error: its problem, and where."""
    assert isinstance(error, yaml.MarkedYAMLError)
    assert error.problem_mark is not None
    return (error.problem, error.problem_mark.line, error.problem_mark.column)
