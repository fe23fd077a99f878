"""Flow and data-file problems as one-line messages: file, line, what is wrong, how to fix it.

The people who read these are ops staff editing YAML, not Python developers: every message names the
place in the file (`states.accueil.on.horaires`), quotes what was written and suggests the fix, often a
close name ("did you mean 'horaires'?") and the list of valid choices.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from callbot.dialog.yaml_lines import LocatedYaml, YamlPath

Severity = Literal["error", "warning"]

_MAX_LISTED = 12


@dataclass(frozen=True, slots=True)
class FlowIssue:
    """One problem found in a flow or data file. `line` is 1-based, None when the file has no line for it."""

    path: str
    line: int | None
    message: str
    fix: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        kind = "warning: " if self.severity == "warning" else ""
        return f"{where}: {kind}{self.message} — {self.fix}"


class FlowError(Exception):
    """A flow cannot be loaded. `str()` is one line: `path:line: message — fix`.

    `issues` holds every error found (the message shows the first), so a CLI can list them all.
    """

    def __init__(
        self, path: str, line: int | None, message: str, fix: str, issues: Sequence[FlowIssue] = ()
    ) -> None:
        self.path = path
        self.line = line
        self.message = message
        self.fix = fix
        self.issues: tuple[FlowIssue, ...] = tuple(issues) or (FlowIssue(path, line, message, fix),)
        super().__init__(str(FlowIssue(path, line, message, fix)))

    @classmethod
    def from_issues(cls, issues: Sequence[FlowIssue]) -> FlowError:
        errors = [issue for issue in issues if issue.severity == "error"]
        first = errors[0]
        return cls(first.path, first.line, first.message, first.fix, errors)


def known_names(names: Iterable[str]) -> str:
    """`a, b, c` (at most a dozen, then `…`) for the `(known: …)` part of a fix."""
    ordered = list(names)
    if not ordered:
        return "none defined"
    shown = ", ".join(ordered[:_MAX_LISTED])
    return shown + (", …" if len(ordered) > _MAX_LISTED else "")


def closest(name: str, names: Iterable[str]) -> str | None:
    """The known name `name` was most likely meant to be (a typo), or None."""
    matches = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_name_fix(kind: str, name: str, names: Iterable[str], where_defined: str) -> str:
    """The usual fix for a reference to an undefined state, intent, queue or slot."""
    candidates = list(names)
    guess = closest(name, candidates)
    hint = f"did you mean '{guess}'? " if guess else ""
    return f"{hint}define it under {where_defined} or fix the name (known: {known_names(candidates)})"


def dotted(path: YamlPath) -> str:
    """`states.accueil.on[0]` from a path tuple, for messages."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "the top level"


# Fix hints for fields, whatever the block they sit in (ops look for *what to write*).
FIELD_HELP: dict[str, str] = {
    "flow": "name the flow, e.g. flow: retail",
    "language": "write language: fr-FR",
    "settings": "add a settings: block (at least fallback_queue:)",
    "fallback_queue": "name the queue that takes the calls the bot cannot handle, e.g. service_client",
    "queues": "add a queues: block naming at least one human queue",
    "intents": "add an intents: block",
    "states": "add a states: block with at least the start state",
    "examples": "list the phrases callers really say, one per line starting with '- ' (8 to 15 is good)",
    "description": "add description: a short text saying who answers in this queue",
    "type": "write type: followed by order_number, phone, datetime, date, yes_no or entity",
    "name": "add name: the name as it should be spoken",
    "address": "add address: the street address",
    "postcode": 'add postcode: the five-digit postcode between quotes, e.g. "75001"',
    "city": "add city:",
    "phone": 'add phone: the number as written in France, e.g. "01 42 60 38 15"',
    "hours": "add hours: with one line per day, lundi to dimanche",
    "status": "write status: en_preparation, expediee, en_livraison, livree, retardee, annulee or "
    "prete_en_magasin",
    "stores": "add a stores: block",
    "at": "name the datetime slot that holds the call-back time, e.g. at: creneau_rappel",
    "queue": "name a queue defined under queues:",
    "on": "write one line per intent under on:, e.g. horaires: horaires (intent: state to go to)",
    "on_dtmf": 'write one line per key under on_dtmf:, e.g. "0": {transfer: service_client}',
    "then": "write then: {goto: state}, or a block with say:, answer:, goto:, transfer: or hangup:",
}

_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("of at least", "low"),
    "greater_than": ("above", "low"),
    "less_than_equal": ("of at most", "high"),
    "less_than": ("below", "high"),
}

_TYPE_WORDS: dict[str, str] = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number (with a dot, e.g. 0.55)",
    "float_type": "a number (with a dot, e.g. 0.55)",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "list_type": "a list (one item per line starting with '- ')",
    "dict_type": "a block of 'key: value' lines",
    "model_type": "a block of 'key: value' lines",
    "model_attributes_type": "a block of 'key: value' lines",
    "date_from_datetime_parsing": "a date written 2026-12-24",
    "date_parsing": "a date written 2026-12-24",
    "date_type": "a date written 2026-12-24",
    "decimal_parsing": "a price with a dot, e.g. 24.90",
}


def issues_from_validation(
    error: ValidationError, source: LocatedYaml, display_path: str, root: type[BaseModel]
) -> list[FlowIssue]:
    """Turn pydantic's errors into FlowIssues with the line of the offending key."""
    issues: list[FlowIssue] = []
    seen: set[tuple[YamlPath, str]] = set()
    details = error.errors(include_url=False)
    # A misspelt key ('descriptio') is also reported as the missing right one: say it once, as the typo.
    typos = {
        (tuple(d["loc"][:-1]), closest(str(d["loc"][-1]), keys_at(root, tuple(d["loc"][:-1]))))
        for d in details
        if d["type"] == "extra_forbidden"
    }
    for detail in details:
        loc: YamlPath = tuple(
            part for part in detail["loc"] if isinstance(part, str | int) and part != "[key]"
        )
        kind = str(detail["type"])
        if (loc, kind) in seen or (kind == "missing" and (loc[:-1], loc[-1]) in typos):
            continue
        seen.add((loc, kind))
        message, fix = _describe(kind, loc, detail, root)
        issues.append(FlowIssue(display_path, source.line_of(loc), message, fix))
    return issues


def _describe(
    kind: str,
    loc: YamlPath,
    detail: Mapping[str, Any],
    root: type[BaseModel],
) -> tuple[str, str]:
    where = dotted(loc)
    field = next((part for part in reversed(loc) if isinstance(part, str)), "")
    given = detail.get("input")
    if kind == "missing":
        parent = dotted(loc[:-1])
        return f"missing '{field}' in {parent}", FIELD_HELP.get(field, f"add {field}:")
    if kind == "extra_forbidden":
        parent_loc = loc[:-1]
        allowed = keys_at(root, parent_loc)
        guess = closest(field, allowed)
        fix = (
            f"did you mean '{guess}'? (allowed: {known_names(allowed)})"
            if guess
            else f"remove it or use one of: {known_names(allowed)}"
        )
        if " " in field:
            fix = (
                "inside { } a comma separates entries: put text with a comma between double quotes, e.g. "
                + '{say: "Bonjour, bienvenue.", goto: menu}'
            )
        return f"unknown key '{field}' in {dotted(parent_loc)}", fix
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(detail.get("ctx", {}).get("expected", "")))
        guess = closest(str(given), choices)
        hint = f"did you mean '{guess}'? " if guess else ""
        return f"{where} cannot be '{given}'", f"{hint}use one of: {known_names(choices)}"
    if kind in ("too_short",) and isinstance(given, Sequence | Mapping):
        return f"{where} is empty", FIELD_HELP.get(field, "add at least one entry")
    if kind in _BOUNDS:
        words, direction = _BOUNDS[kind]
        limit = next(iter(detail.get("ctx", {}).values()), "")
        return f"{where} is too {direction}: '{given}'", f"write a value {words} {limit}"
    if kind in _TYPE_WORDS:
        shown = (
            "a list" if isinstance(given, list) else "a block" if isinstance(given, dict) else f"'{given}'"
        )
        if given is None:
            shown = "nothing"
        block = kind in ("dict_type", "model_type", "model_attributes_type")
        default = (
            f"indent the 'key: value' lines under '{field}:' by two more spaces, without '- '"
            if block
            else f"write {_TYPE_WORDS[kind]} after '{field}:'"
        )
        return f"{where} must be {_TYPE_WORDS[kind]}, not {shown}", FIELD_HELP.get(field, default)
    if kind == "value_error":
        text = str(detail.get("msg", "")).removeprefix("Value error, ")
        message, _, fix = text.partition(" — ")
        return f"{where}: {message}", fix or "fix the value"
    return f"{where}: {detail.get('msg', kind)}", "fix the value"


def keys_at(root: type[BaseModel], path: YamlPath) -> list[str]:
    """The keys a block at `path` may hold, read from the schema (for "use one of: …")."""
    annotation: Any = root
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for name, f in annotation.model_fields.items() if part in (name, f.alias)), None)
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list, Mapping, Sequence):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """`X` from `X | None`."""
    if get_origin(annotation) in (Union, UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation
