"""Test suites: which recordings to replay, as of when, and what each call should do (docs/qa.md).

A suite is a YAML file written by hand or by `callbot test snapshot`. It is validated with pydantic; a
malformed suite is refused before any model loads, with the file and line of the first problem. Paths
in a suite are relative to the suite file. A folder stands for every recording in it, with the
expectations of a suite file inside it when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callbot.dialog.yaml_lines import LocatedYaml, YamlProblem, load_located
from callbot.qa import QaError

PARIS = ZoneInfo("Europe/Paris")
#: The outcomes a call can be expected to have (`Outcome.type` of callbot/session/call_session.py).
OutcomeName = Literal["transfer", "callback", "hangup", "caller_hangup"]
Timing = Literal["turns", "original"]
#: File names a folder's own suite may have.
FOLDER_SUITE_NAMES = ("suite.yaml", "suite.yml")
RECORDING_SUFFIXES = (".wav",)


class SuiteError(QaError):
    """A suite callbot cannot run; `str()` names the file and line to fix."""

    def __init__(self, path: str | Path, line: int | None, message: str, more: Sequence[str] = ()) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__("\n".join([f"{where}: {message}", *more]))
        self.path = str(path)
        self.line = line


def _aware(value: datetime) -> datetime:
    """A time written without an offset is Paris time, as `callbot replay --now` reads it."""
    return value.replace(tzinfo=PARIS) if value.tzinfo is None else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expect(_Strict):
    """What one call should do; every key is optional and only what is written is checked."""

    outcome: OutcomeName | None = None
    callback_at: datetime | None = None
    queue: str | None = None
    #: The intents recognised, in this order; other intents may come between them.
    intents: list[str] | None = None
    #: The last value each slot took during the call, compared as text.
    slots: dict[str, str] | None = None
    #: Substrings of what the bot said (case and spacing ignored).
    bot_says: list[str] | None = None
    max_response_ms: int | None = Field(default=None, gt=0)

    _aware_callback = field_validator("callback_at")(lambda v: None if v is None else _aware(v))


class SuiteCall(_Strict):
    recording: str
    now: datetime | None = None
    caller: str | None = None
    timing: Timing | None = None
    name: str | None = None
    expect: Expect = Expect()

    _aware_now = field_validator("now")(lambda v: None if v is None else _aware(v))


class SuiteFile(_Strict):
    now: datetime | None = None
    caller: str | None = None
    flow: str | None = None
    #: turns: each caller turn when the bot waits (any recording); original: as recorded (barge-ins).
    timing: Timing | None = None
    calls: list[SuiteCall] = Field(default_factory=list)

    _aware_now = field_validator("now")(lambda v: None if v is None else _aware(v))


@dataclass(frozen=True)
class Case:
    """One call to run: the recording, the replay's settings and what to check afterwards."""

    name: str
    recording: Path
    suite: str  # the suite file or folder it came from (JUnit's test suite)
    now: datetime | None  # None: the recording's header or, failing that, the wall clock
    caller: str | None  # None: the header's caller or replay's default; "none": a hidden number
    flow: Path | None  # None: the configured flow
    expect: Expect = field(default_factory=Expect)
    line: int | None = None
    timing: Timing = "turns"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "recording": str(self.recording),
            "suite": self.suite,
            "now": self.now.isoformat() if self.now else None,
            "caller": self.caller,
            "flow": str(self.flow) if self.flow else None,
            "timing": self.timing,
            "expect": self.expect.model_dump(mode="json", exclude_none=True),
        }


def load_suite(path: str | Path) -> list[Case]:
    """The calls of one suite file, paths resolved against the file's folder."""
    _template, cases = _load(Path(path))
    if not cases:
        raise SuiteError(path, 1, "no calls: add at least one under 'calls:'")
    return cases


def _load(path: Path) -> tuple[Case, list[Case]]:
    """(how a recording of the suite's folder that it does not list runs: the suite's defaults, no
    expectations; the suite's calls)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(path, None, f"cannot read: {exc.strerror}") from exc
    try:
        located = load_located(text)
    except YamlProblem as problem:
        raise SuiteError(path, problem.line, f"{problem.message} ({problem.fix})") from None
    if not isinstance(located.data, dict):
        raise SuiteError(path, 1, "expected a mapping with 'calls:' (and optionally now, caller, flow)")
    try:
        suite = SuiteFile.model_validate(located.data)
    except ValidationError as exc:
        raise _located_error(path, located, exc) from None
    base = path.parent
    flow = _resolve(base, suite.flow) if suite.flow else None
    if flow is not None and not flow.is_file():
        raise SuiteError(path, located.line_of(("flow",)), f"flow {suite.flow}: no such file")
    cases = []
    for index, call in enumerate(suite.calls):
        line = located.line_of(("calls", index))
        recording = _resolve(base, call.recording)
        if not recording.is_file():
            where = located.line_of(("calls", index, "recording"))
            raise SuiteError(path, where, f"{call.recording}: no such recording")
        cases.append(
            Case(
                name=call.name or Path(call.recording).stem,
                recording=recording,
                suite=str(path),
                now=call.now or suite.now,
                caller=call.caller or suite.caller,
                flow=flow,
                expect=call.expect,
                line=line,
                timing=call.timing or suite.timing or "turns",
            )
        )
    template = Case("", base, str(path), suite.now, suite.caller, flow, timing=suite.timing or "turns")
    return template, cases


def collect(targets: Sequence[str | Path]) -> list[Case]:
    """The calls of every suite file and folder given, in order; a folder runs each recording in it,
    with the expectations its own suite file gives (recordings it does not list run unchecked)."""
    cases: list[Case] = []
    for target in targets:
        path = Path(target)
        if path.is_dir():
            cases += _folder(path)
        elif path.is_file():
            if path.suffix.lower() in RECORDING_SUFFIXES:
                cases.append(Case(path.stem, path, str(path.parent), None, None, None))
            else:
                cases += load_suite(path)
        else:
            raise SuiteError(path, None, "no such suite, folder or recording")
    names: dict[str, int] = {}
    unique = []
    for case in cases:  # reports key calls by name: two recordings with one stem get distinct names
        count = names[case.name] = names.get(case.name, 0) + 1
        unique.append(case if count == 1 else replace(case, name=f"{case.name}#{count}"))
    return unique


def _folder(folder: Path) -> list[Case]:
    suite_file = next((folder / n for n in FOLDER_SUITE_NAMES if (folder / n).is_file()), None)
    unlisted = Case("", folder, str(folder), None, None, None)
    template, listed = _load(suite_file) if suite_file is not None else (unlisted, [])
    known = {case.recording.resolve() for case in listed}
    extra = [
        replace(template, name=wav.stem, recording=wav, suite=str(folder))
        for wav in sorted(folder.iterdir())
        if wav.suffix.lower() in RECORDING_SUFFIXES and wav.resolve() not in known
    ]
    if not listed and not extra:
        raise SuiteError(folder, None, "no recordings (*.wav) and no suite.yaml in this folder")
    return listed + extra


def _resolve(base: Path, relative: str) -> Path:
    path = Path(relative).expanduser()
    return path if path.is_absolute() else base / path


def _located_error(path: Path, located: LocatedYaml, exc: ValidationError) -> SuiteError:
    """Every problem pydantic found, one line each, the first one's line as the error's line."""
    (line, text), *others = [_problem(located, error) for error in exc.errors()]
    more = [f"{path}:{n}: {t}" if n is not None else f"{path}: {t}" for n, t in others]
    return SuiteError(path, line, text, more)


def _problem(located: LocatedYaml, error: Any) -> tuple[int | None, str]:
    loc = tuple(error["loc"])
    where = ".".join(str(part) for part in loc)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = f"unknown key (known: {_known_keys(loc)})"
    elif error["type"] == "literal_error":
        message = f"{message}, got {error.get('input')!r}"
    elif "datetime" in error["type"]:
        message = f"{message}; write ISO-8601, e.g. 2026-11-23T10:30:00+01:00"
    return located.line_of(loc), f"{where}: {message}"


def _known_keys(loc: tuple[Any, ...]) -> str:
    """The keys allowed where an unknown one was written."""
    parents = [part for part in loc[:-1] if not isinstance(part, int)]
    model: type[BaseModel] = SuiteFile
    if parents[-1:] == ["calls"]:
        model = SuiteCall
    elif parents[-1:] == ["expect"]:
        model = Expect
    return ", ".join(model.model_fields)
