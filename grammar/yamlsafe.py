"""Bounded YAML: what a spec or a profile may hold, and nothing that can blow up on reading it.

``yaml.safe_load`` constructs no objects, but it still expands aliases (a 300-byte "billion
laughs" document becomes gigabytes), recurses once per nesting level (RecursionError), turns a
5,001-digit integer into a ValueError and lets a duplicate key silently win. :func:`load_yaml`
reads with a SafeLoader that bounds all of these and raises :class:`YamlError` with a one-line
problem instead. The bounds are far above anything a song spec needs.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from grammar.errors import shorten

MAX_BYTES = 1_000_000  # a long spec with 64 sections of chords is ~20 kB
MAX_ALIASES = 100  # anchors are for reusing a section's settings, not for building trees
MAX_DEPTH = 32  # a spec is 4 levels deep (sections -> A -> chords)
MAX_NODES = 100_000  # after alias expansion: what the constructed data may hold at most
MAX_INT_DIGITS = 100  # seeds fit in 10 digits


class YamlError(ValueError):
    """The text is not YAML we read; ``problem`` is one line, ``line`` is 1-based (or None)."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        where = f" at line {line}" if line is not None else ""
        super().__init__(f"{problem}{where}")
        self.problem = problem
        self.line = line


def _line(node: Node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader with bounds on aliases, depth and expanded size; duplicate keys rejected."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    # aliases and depth are counted while the node tree is composed, before anything is built
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlError(f"more than {MAX_ALIASES} aliases (*name)", mark.line + 1)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node: Node) -> Any:
        _check_size(node)
        return super().construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, ScalarNode):
                    key = self.construct_object(key_node, deep=True)
                    if key in seen:
                        raise YamlError(f"duplicate key '{shorten(key)}'", _line(key_node))
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _int(loader: yaml.SafeLoader, node: Node) -> int:
    assert isinstance(node, ScalarNode)
    digits = sum(ch.isdigit() for ch in node.value)
    if digits > MAX_INT_DIGITS:
        raise YamlError(f"a number of {digits} digits (at most {MAX_INT_DIGITS})", _line(node))
    return yaml.SafeLoader.construct_yaml_int(loader, node)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", _int)


def _check_size(root: Node) -> None:
    """Count the nodes of the document with aliases expanded (iteratively, with an early stop),
    so a tree of aliases that would expand to millions of values is refused unbuilt."""
    total = 0
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        total += 1
        if total > MAX_NODES:
            raise YamlError(f"holds more than {MAX_NODES:,} values once aliases are expanded")
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack.extend((k, v))


def load_yaml(text: str) -> Any:
    """Parse one YAML document with the bounds above; YamlError on any problem."""
    if len(text) > MAX_BYTES:
        raise YamlError(f"is {len(text):,} characters long (at most {MAX_BYTES:,})")
    try:
        return yaml.load(text, Loader=BoundedLoader)
    except YamlError:
        raise
    except ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlError(
            shorten(exc.problem or "cannot be read", 120), mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise YamlError(
            f"YAML syntax error: {shorten(problem, 120)}", mark.line + 1 if mark else None
        ) from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        # a last guard: the bounds above should make these unreachable
        raise YamlError(f"cannot be read ({type(exc).__name__})") from None


assert sys.getrecursionlimit() > 4 * MAX_DEPTH  # the composer recurses a few frames per level
