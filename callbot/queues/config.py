"""The queues file (`queues.yaml`): schema, checks with line numbers, and the Queue objects it describes.

```yaml
queues:
  service_client:
    sip_uri: sip:service-client@pbx.example.fr
    hours:
      lundi-vendredi: ["09:00-12:30", "14:00-18:00"]
      samedi: ["09:00-12:00"]
    holidays: FR                       # closed on French public holidays; FR-57 adds Alsace-Moselle's
    exceptions:
      "2026-12-24": ["09:00-12:00"]
      "2026-08-14": closed
    max_wait_s: 300
    load:
      http: {url: "http://acd.local/queues/service_client", timeout_ms: 300}
```

A problem is reported as `file:line: queues.x.hours.lundi: what is wrong — how to fix it`, because the
people editing this file are ops staff, not Python developers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callbot.dialog.yaml_lines import LocatedYaml, YamlPath, YamlProblem, load_located
from callbot.queues.directory import Queue
from callbot.queues.hours import WEEKDAY_NAMES, OpeningHours, TimeRange, parse_day_ranges
from callbot.queues.load import DEFAULT_AVG_HANDLE_S, HttpLoad, LoadSource, StaticLoad

_CLOSED_WORDS = frozenset({"closed", "fermé", "ferme", "none", "aucun", "off"})
_NO_HOLIDAYS = frozenset({"none", "aucun", "no", "non", "off", "false"})
_SIP_URI = re.compile(r"^(sips?|tel):\S+$")


class QueueConfigError(ValueError):
    """A queues file callbot cannot use. `str()` is one line: `file:line: where: problem — fix`."""

    def __init__(self, source: str, line: int | None, where: str, message: str, fix: str) -> None:
        self.source, self.line, self.where, self.message, self.fix = source, line, where, message, fix
        place = f"{source}:{line}" if line is not None else source
        super().__init__(f"{place}: {where + ': ' if where else ''}{message} — {fix}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaticLoadSpec(_Strict):
    agents_available: int = Field(ge=0)
    calls_waiting: int = Field(0, ge=0)
    avg_handle_s: float = Field(DEFAULT_AVG_HANDLE_S, gt=0)


class HttpLoadSpec(_Strict):
    url: str
    timeout_ms: int = Field(300, ge=20, le=5000)
    avg_handle_s: float = Field(DEFAULT_AVG_HANDLE_S, gt=0)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://\S+$", value):
            raise ValueError(f"'{value}' is not an HTTP URL — write it like http://acd.local/queues/sav")
        return value


class LoadSpec(_Strict):
    static: StaticLoadSpec | None = None
    http: HttpLoadSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> LoadSpec:
        if (self.static is None) == (self.http is None):
            raise ValueError("give exactly one of 'static' or 'http' — e.g. static: {agents_available: 3}")
        return self


DayHours = list[str] | str | None


class QueueSpec(_Strict):
    sip_uri: str
    hours: dict[str, DayHours] = Field(min_length=1)
    holidays: str | None = "FR"
    exceptions: dict[str, DayHours] = {}
    max_wait_s: float | None = Field(None, ge=0)
    load: LoadSpec | None = None
    timezone: str = "Europe/Paris"

    @field_validator("sip_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if not _SIP_URI.match(value):
            raise ValueError(f"'{value}' is not a SIP URI — write it like sip:service-client@pbx.example.fr")
        return value


class QueuesFile(_Strict):
    queues: dict[str, QueueSpec] = Field(min_length=1)


@dataclass(frozen=True)
class _Located:
    source: str
    yaml: LocatedYaml | None

    def error(self, path: YamlPath, message: str, fix: str) -> QueueConfigError:
        line = self.yaml.line_of(path) if self.yaml is not None else None
        where = ".".join(str(part) for part in path)
        return QueueConfigError(self.source, line, where, message, fix)


def load_queues_file(path: Path) -> dict[str, Queue]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QueueConfigError(
            str(path),
            None,
            "",
            f"cannot read the file ({exc.strerror})",
            "check the path given for the queues file",
        ) from None
    try:
        located = load_located(text)
    except YamlProblem as problem:
        raise QueueConfigError(str(path), problem.line, "", problem.message, problem.fix) from None
    return _build(located.data, _Located(str(path), located))


def queues_from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> dict[str, Queue]:
    return _build(data, _Located(source, None))


def _build(data: Any, where: _Located) -> dict[str, Queue]:
    if not isinstance(data, Mapping) or "queues" not in data:
        raise where.error((), "no 'queues:' section", "start the file with 'queues:' and one entry per queue")
    try:
        spec = QueuesFile.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(exc, where) from None
    return {name: _queue(name, queue, ("queues", name), where) for name, queue in spec.queues.items()}


def _queue(name: str, spec: QueueSpec, path: YamlPath, where: _Located) -> Queue:
    try:
        tz = ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise where.error(
            (*path, "timezone"),
            f"unknown time zone '{spec.timezone}'",
            "write an IANA name such as Europe/Paris",
        ) from None
    hours = OpeningHours(
        weekly=_weekly(spec.hours, (*path, "hours"), where),
        tz=tz,
        holidays=_holidays(spec.holidays, (*path, "holidays"), where),
        exceptions=_exceptions(spec.exceptions, (*path, "exceptions"), where),
    )
    return Queue(name, spec.sip_uri, hours, spec.max_wait_s, _load(spec.load))


def _weekly(
    hours: Mapping[str, DayHours], path: YamlPath, where: _Located
) -> tuple[tuple[TimeRange, ...], ...]:
    week: list[tuple[TimeRange, ...] | None] = [None] * 7
    for key, value in hours.items():
        days = _weekdays(key, (*path, key), where)
        ranges = _day_ranges(value, (*path, key), where)
        for day in days:
            if week[day] is not None:
                raise where.error(
                    (*path, key),
                    f"'{key}' gives hours for a day already given above",
                    "give each weekday once",
                )
            week[day] = ranges
    return tuple(day or () for day in week)


def _weekdays(key: str, path: YamlPath, where: _Located) -> list[int]:
    """'lundi' → [0]; 'lundi-vendredi' / 'monday-friday' → [0..4]."""
    parts = [part.strip().lower() for part in key.split("-")]
    if len(parts) > 2 or any(part not in WEEKDAY_NAMES for part in parts):
        bad = next((part for part in parts if part not in WEEKDAY_NAMES), key)
        close = difflib.get_close_matches(bad, list(WEEKDAY_NAMES), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise where.error(
            path,
            f"'{key}' is not a weekday",
            f"{hint}use lundi … dimanche (or monday … sunday), or a span like lundi-vendredi",
        )
    first, last = WEEKDAY_NAMES[parts[0]], WEEKDAY_NAMES[parts[-1]]
    if last < first:
        raise where.error(
            path, f"'{key}' runs backwards", "write the span from the earlier day, e.g. lundi-vendredi"
        )
    return list(range(first, last + 1))


def _day_ranges(value: DayHours, path: YamlPath, where: _Located) -> tuple[TimeRange, ...]:
    if value is None or (isinstance(value, str) and value.strip().lower() in _CLOSED_WORDS):
        return ()
    texts = [value] if isinstance(value, str) else value
    for index, text in enumerate(texts):
        try:
            parse_day_ranges([text])
        except ValueError as exc:
            raise _split_error(where, (*path, index) if not isinstance(value, str) else path, exc) from None
    try:
        return parse_day_ranges(texts)
    except ValueError as exc:
        raise _split_error(where, path, exc) from None


def _exceptions(
    exceptions: Mapping[str, DayHours], path: YamlPath, where: _Located
) -> dict[date, tuple[TimeRange, ...]]:
    result: dict[date, tuple[TimeRange, ...]] = {}
    for key, value in exceptions.items():
        try:
            day = date.fromisoformat(str(key).strip())
        except ValueError:
            raise where.error(
                (*path, key),
                f"'{key}' is not a date",
                'write the date as "2026-12-24" (year-month-day, in quotes)',
            ) from None
        result[day] = _day_ranges(value, (*path, key), where)
    return result


def _holidays(value: str | None, path: YamlPath, where: _Located) -> holiday_tables.HolidayBase | None:
    """'FR' → French public holidays; 'FR-57' adds a subdivision's (Alsace-Moselle); 'none' → no table."""
    if value is None or value.strip().lower() in _NO_HOLIDAYS:
        return None
    country, _, subdiv = value.strip().partition("-")
    supported = holiday_tables.list_supported_countries()
    if country.upper() not in supported:
        raise where.error(
            path,
            f"no public-holiday table for '{value}'",
            "write a country code such as FR (or FR-57 for Alsace-Moselle), or none",
        )
    country = country.upper()
    subdivisions = [str(s) for s in supported[country]]
    if subdiv and subdiv not in subdivisions:
        raise where.error(
            path,
            f"'{subdiv}' is not a subdivision of {country}",
            f"use one of {', '.join(subdivisions)}, or the country alone",
        )
    languages = getattr(holiday_tables.country_holidays(country), "supported_languages", ())
    return holiday_tables.country_holidays(
        country, subdiv=subdiv or None, language="fr" if "fr" in languages else None
    )


def _load(spec: LoadSpec | None) -> LoadSource | None:
    if spec is None:
        return None
    if spec.static is not None:
        return StaticLoad(spec.static.agents_available, spec.static.calls_waiting, spec.static.avg_handle_s)
    assert spec.http is not None
    return HttpLoad(spec.http.url, spec.http.timeout_ms, spec.http.avg_handle_s)


def _split_error(where: _Located, path: YamlPath, exc: ValueError) -> QueueConfigError:
    message, _, fix = str(exc).partition(" — ")
    return where.error(path, message, fix or "fix this value")


_PYDANTIC_FIXES: dict[str, str] = {
    "missing": "add it",
    "int_parsing": "write a whole number",
    "float_parsing": "write a number",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "greater_than": "use a larger value",
    "too_short": "add at least one entry",
    "dict_type": "write a mapping (key: value lines)",
    "string_type": "write text",
    "list_type": 'write a list, e.g. ["09:00-12:30", "14:00-18:00"]',
    "model_type": "write the settings under it as indented 'key: value' lines",
    "model_attributes_type": "write the settings under it as indented 'key: value' lines",
}

_FIELDS: dict[str, Sequence[str]] = {
    "queue": list(QueueSpec.model_fields),
    "static": list(StaticLoadSpec.model_fields),
    "http": list(HttpLoadSpec.model_fields),
    "load": list(LoadSpec.model_fields),
}


def _pydantic_error(exc: ValidationError, where: _Located) -> QueueConfigError:
    first = exc.errors()[0]
    # Unions (a day's hours: list, text or empty) add the tried type to the location: drop it.
    path: YamlPath = tuple(p for p in first["loc"] if p not in ("list[str]", "str", "none", "function-after"))
    kind = first["type"]
    message = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        field = str(path[-1])
        section = _section_of(path)
        known = _FIELDS.get(section, [])
        close = difflib.get_close_matches(field, list(known), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return where.error(path, f"unknown field '{field}'", f"{hint}known fields: {', '.join(known)}")
    if kind == "missing":
        return where.error(path, f"'{path[-1]}' is missing", "add it")
    if " — " in message:
        text, _, fix = message.partition(" — ")
        return where.error(path, text, fix)
    value = first.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
    return where.error(path, f"{message}{shown}", _PYDANTIC_FIXES.get(kind, "fix this value"))


def _section_of(path: YamlPath) -> str:
    parent = path[-2] if len(path) >= 2 else ""
    if parent in ("static", "http", "load"):
        return str(parent)
    if len(path) == 3 and path[0] == "queues":
        return "queue"
    return ""
