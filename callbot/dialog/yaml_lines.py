"""YAML reading that remembers the line of every value, so that a flow error can name its line.

Ops staff edit flows by hand: an error message is only useful if it points at the line to fix. PyYAML's
compose API keeps a mark on every node; this module turns the node tree into plain Python values plus a
map from each value's path (keys and list indices) to its line.

Scalars are kept as the text written in the file (only `~`/`null`/empty become None): YAML 1.1 would
otherwise turn the key `on:` into True, `10:00` into 600 and `0` (a DTMF key) into an int. The schema
layer converts text to numbers and booleans where a field asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

YamlPath = tuple[str | int, ...]

_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAX_DEPTH = 60


class YamlProblem(Exception):
    """The text is not valid YAML, or uses a construct a flow file cannot hold; `line` is 1-based."""

    def __init__(self, line: int | None, message: str, fix: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class LocatedYaml:
    """A YAML document as plain values, with the line of each key or list item."""

    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: YamlPath) -> int | None:
        """The line of `path`, or of its nearest written ancestor (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


# Known PyYAML complaints, reworded with the fix an editor of French prompts most likely needs.
_SYNTAX_FIXES: tuple[tuple[str, str], ...] = (
    (
        "mapping values are not allowed",
        'put text that contains ": " between double quotes, e.g. say: "Horaires : 9 h 30 à 19 h"',
    ),
    ("found character '\\t'", "indent with spaces, never tabs"),
    ("could not find expected ':'", "each entry needs 'key: value'; check the indentation of this block"),
    ("did not find expected key", "check the indentation: keys of one block line up exactly"),
    ("found undefined alias", "define the &anchor before using *alias, or remove the *"),
    ("while scanning a quoted scalar", 'close the quote opened here (a " inside quotes is written \\")'),
    ("found unexpected end of stream", "close the quote or bracket opened here"),
    ("expected <block end>", "check the indentation: this line is not aligned with the block above"),
)


def load_located(text: str) -> LocatedYaml:
    """Parse one YAML document; raise YamlProblem with a line for syntax errors and duplicate keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise _syntax_problem(error) from None
    except yaml.YAMLError as error:  # pragma: no cover - PyYAML raises marked errors for text input
        raise YamlProblem(None, f"YAML error: {error}", "fix the YAML syntax") from None
    if node is None:
        return LocatedYaml(data=None)
    lines: dict[YamlPath, int] = {(): node.start_mark.line + 1}
    return LocatedYaml(data=_to_python(node, (), lines, 0), lines=lines)


def _syntax_problem(error: yaml.MarkedYAMLError) -> YamlProblem:
    mark = error.problem_mark or error.context_mark
    unclosed = "end of stream" in (error.problem or "") or "quoted scalar" in (error.context or "")
    if unclosed and error.context_mark is not None:
        mark = error.context_mark  # where the unclosed quote or bracket was opened
    line = mark.line + 1 if mark is not None else None
    problem = " ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
    fix = "fix the YAML syntax on this line"
    for needle, hint in _SYNTAX_FIXES:
        if needle in problem:
            fix = hint
            break
    return YamlProblem(line, f"YAML syntax error: {problem}", fix)


def _to_python(node: Node, path: YamlPath, lines: dict[YamlPath, int], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise YamlProblem(
            node.start_mark.line + 1, "YAML nesting too deep", "remove the alias that refers to itself"
        )
    if isinstance(node, ScalarNode):
        return None if node.tag == _NULL_TAG else str(node.value)
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_to_python(item, (*path, index), lines, depth + 1))
        return items
    if isinstance(node, MappingNode):
        return _mapping_to_python(node, path, lines, depth)
    raise YamlProblem(node.start_mark.line + 1, "unsupported YAML node", "use plain keys, lists and text")


def _mapping_to_python(
    node: MappingNode, path: YamlPath, lines: dict[YamlPath, int], depth: int
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    merged: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            merged.update(_merge_sources(value_node, path, lines, depth))
            continue
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL_TAG:
            raise YamlProblem(line, "a key must be plain text", "write the key as a word followed by ':'")
        key = str(key_node.value)
        if key in first_line:
            raise YamlProblem(
                line,
                f"duplicate key '{key}' (first defined at line {first_line[key]})",
                "keep one of the two, or rename one",
            )
        first_line[key] = line
        lines[(*path, key)] = line
        result[key] = _to_python(value_node, (*path, key), lines, depth + 1)
    # Keys written next to a `<<: *anchor` merge win over the merged ones, as in YAML.
    return {**{k: v for k, v in merged.items() if k not in result}, **result}


def _merge_sources(
    value_node: Node, path: YamlPath, lines: dict[YamlPath, int], depth: int
) -> dict[str, Any]:
    sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
    merged: dict[str, Any] = {}
    for source in sources:
        if not isinstance(source, MappingNode):
            raise YamlProblem(
                source.start_mark.line + 1, "'<<' must merge a mapping", "write '<<: *anchor_of_a_mapping'"
            )
        located: dict[YamlPath, int] = {}
        values = _mapping_to_python(source, path, located, depth + 1)
        for key, value in values.items():
            if key not in merged:
                merged[key] = value
        for key_path, line in located.items():
            lines.setdefault(key_path, line)
    return merged
