"""Gateway settings: embedded defaults, optionally overridden by a YAML file ops edit (`callbot.yaml`).

Validated with pydantic so that a typo is refused at start-up with the file and the field, not discovered
on the first call.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callbot.ops.webhooks import WebhookTarget

if TYPE_CHECKING:
    from callbot.asr.whisper_decode import WhisperSettings


class ConfigError(ValueError):
    """A settings file callbot cannot use; `str()` is one line naming the file, field and fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AsrSettings(_Section):
    engine: Literal["auto", "vosk", "whisper"] = "auto"
    models_dir: Path | None = None
    #: Whisper only (see callbot/asr/whisper_decode.py `WhisperSettings`).
    beam_size: int = Field(default=5, ge=1, le=10)
    num_hypotheses: int = Field(default=3, ge=1, le=10)
    hints_in_prompt: bool = False
    #: The text primed into Whisper before every turn: words of the trade it should expect. None keeps
    #: the built-in retail prompt (`whisper_decode.DEFAULT_DOMAIN_PROMPT`); "" primes nothing.
    domain_prompt: str | None = Field(default=None, max_length=400)

    def whisper(self) -> WhisperSettings:
        from callbot.asr.whisper_decode import WhisperSettings

        chosen = WhisperSettings(
            beam_size=self.beam_size, num_hypotheses=self.num_hypotheses, hints_in_prompt=self.hints_in_prompt
        )
        if self.domain_prompt is None:
            return chosen
        return replace(chosen, domain_prompt=self.domain_prompt)


class TtsSettings(_Section):
    engine: Literal["auto", "pico", "espeak"] = "auto"


class VadSettings(_Section):
    #: webrtc by default. auto = Silero where installed, else webrtc. Silero looked better on the unseen
    #: callers' development calls (16 against 15 of 24) but was far worse on the held-out ones (7 against
    #: 12 of 24, bench/task_success.py): it is not the default.
    engine: Literal["auto", "webrtc", "silero"] = "webrtc"
    end_silence_ms: int = Field(default=600, ge=200, le=3000)
    pause_ms: int = Field(default=200, ge=60, le=2000)
    start_speech_ms: int = Field(default=60, ge=20, le=1000)
    preroll_ms: int = Field(default=300, ge=0, le=2000)
    barge_in_min_speech_ms: int = Field(default=200, ge=20, le=2000)

    @model_validator(mode="after")
    def _pause_before_end(self) -> VadSettings:
        if self.pause_ms >= self.end_silence_ms:
            raise ValueError(
                f"pause_ms ({self.pause_ms}) must be shorter than end_silence_ms ({self.end_silence_ms})"
            )
        return self


class CallbackSettings(_Section):
    """Call-back booking and dialling (docs/callbacks.md)."""

    #: Place due call-backs from this gateway (each conversation host runs a dispatcher; several
    #: gateways may share a PostgreSQL store, every call-back is dialled once). Needs
    #: `sip.worker.trunk_uri_template` to reach phone numbers.
    dispatch: bool = True
    caller_id: str | None = None  # the number shown to the person called back (the centre's number)
    concurrency: int = Field(default=1, ge=1, le=50)  # call-backs each conversation host places at once
    poll_s: float = Field(default=1.0, gt=0.0, le=60.0)
    lease_s: float = Field(default=300.0, ge=1.0)  # no second call for a request within this time
    answer_timeout_s: float = Field(default=30.0, ge=5.0, le=120.0)
    retry_delays_s: list[float] = Field(default=[300.0, 900.0, 1800.0], min_length=1)
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    max_per_phone_per_day: int = Field(default=3, ge=1, le=50)
    # Limits every booking meets, queues file or not (callbot/callbacks/store.py CallbackLimits):
    max_pending_per_phone: int = Field(default=5, ge=1, le=100)  # one number, all days together
    max_per_slot_all_queues: int = Field(default=20, ge=1)  # all queues, per slot_minutes window
    max_per_day_all_queues: int = Field(default=200, ge=1)  # all queues, per day
    refuse_hidden_caller: bool = False  # no call-back from a call without a valid caller id
    #: Regions (ISO codes) whose numbers may be called back: by default those billed as national.
    regions: list[str] = Field(default=["FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF"], min_length=1)
    slot_minutes: int = Field(default=15, ge=5, le=60)
    per_slot: int = Field(default=2, ge=1, le=1000)
    min_lead_s: float = Field(default=600.0, ge=0.0)
    horizon_days: int = Field(default=14, ge=1, le=365)

    @model_validator(mode="after")
    def _slot_divides_the_hour(self) -> CallbackSettings:
        if 60 % self.slot_minutes:
            raise ValueError(f"slot_minutes={self.slot_minutes}: use a divisor of 60 (5, 10, 15, 20, 30, 60)")
        if any(delay <= 0 for delay in self.retry_delays_s):
            raise ValueError("retry_delays_s: every delay must be a positive number of seconds")
        return self


class CallRecordSettings(_Section):
    """Call records (docs/ops.md): kept `retention_days`, then purged with their recording and event log
    by `callbot serve` (hourly) or `callbot calls purge` (recordings and transcripts are personal data)."""

    retention_days: int = Field(default=90, ge=1, le=3650)


class HttpSettings(_Section):
    """The HTTP side of `callbot serve`: metrics, health, the JSON API and the ops page (docs/ops.md).

    `listen` null turns it off; an address other than loopback needs `token` (sent as a bearer token)."""

    listen: str | None = "127.0.0.1:8080"
    token: str | None = None


class Settings(_Section):
    flow: Path | None = None  # None: the default retail flow shipped with callbot
    data_dir: Path = Path("var")  # SQLite call-back store, SIP run files, recordings and call logs
    database_url: str | None = None  # PostgreSQL for several gateways; None: SQLite under data_dir
    queues: Path | None = None  # human queues (hours, holidays, load): see docs/callbacks.md
    record_calls: bool = True  # stereo WAV + JSON-lines events per call; announced to the caller
    redact: bool = False  # numbers masked and words said left out of log lines, event logs and call records
    sip: dict[str, Any] = Field(default_factory=dict)  # SIP gateway settings: see docs/sip.md
    asr: AsrSettings = AsrSettings()
    tts: TtsSettings = TtsSettings()
    vad: VadSettings = VadSettings()
    callbacks: CallbackSettings = CallbackSettings()
    calls: CallRecordSettings = CallRecordSettings()
    http: HttpSettings = HttpSettings()
    webhooks: list[WebhookTarget] = []  # call ended / transferred / call-back booked: docs/ops.md


def load_settings(path: str | Path | None = None) -> Settings:
    """Defaults, or the defaults overridden by the YAML file at `path`."""
    if path is None:
        return Settings()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
    if settings.flow is not None and not settings.flow.is_absolute():
        settings.flow = path.parent / settings.flow
    if settings.queues is not None and not settings.queues.is_absolute():
        settings.queues = path.parent / settings.queues
    return settings
