"""Settings of one SIP worker process, validated up front with one-line errors that say how to fix them."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The pjsua2-python 2.15.1 wheel is compiled with PJSUA_MAX_CALLS = 4: a fifth INVITE gets PJSIP's own
# "486 Busy Here" before any application code runs, so a worker never promises more.
PJSUA_CALL_SLOTS = 4
KNOWN_CODECS = ("PCMA", "PCMU", "G722", "GSM", "iLBC", "speex", "L16")
TRANSPORTS = ("udp", "tcp")
#: Settings that are secrets: never written to a run file, handed to a worker through its environment.
SECRET_SETTINGS = {"handler_authkey": "CALLBOT_SIP_AUTHKEY", "trunk_password": "CALLBOT_SIP_TRUNK_PASSWORD"}


class ConfigError(ValueError):
    """A setting callbot cannot use; the message names the setting and what would be accepted."""


@dataclass(frozen=True)
class WorkerConfig:
    """One pjsua2 endpoint: where it listens, which calls it takes, where its handler lives."""

    handler_address: str
    worker_id: str = "sip-0"
    bind_address: str = "127.0.0.1"
    sip_port: int = 5060
    transports: tuple[str, ...] = TRANSPORTS
    public_address: str | None = None
    #: Where RTP sockets are bound when it differs from `bind_address`: behind the front a worker's SIP
    #: listens on loopback only, while its media must stay reachable by the callers.
    rtp_bind_address: str | None = None
    rtp_port: int = 20000
    rtp_port_range: int = 200
    #: SIP URI every request the worker starts goes through (a call-back's INVITE, the REGISTER):
    #: behind the front, the front, since the worker's SIP listens on loopback only.
    outbound_proxy: str | None = None
    users: tuple[str, ...] = ()
    codecs: tuple[str, ...] = ("PCMA", "PCMU", "G722")
    sample_rate: int = 8000
    max_calls: int = PJSUA_CALL_SLOTS
    retry_after_s: int = 10
    handler_authkey: str | None = None
    recording_dir: str | None = None
    prebuffer_ms: int = 40
    transfer_uri_template: str | None = None
    transfer_timeout_s: float = 30.0
    hangup_after_transfer: bool = True
    trunk_uri_template: str | None = None
    trunk_username: str | None = None
    trunk_password: str | None = None
    trunk_realm: str = "*"
    #: Registrar of the SIP trunk (e.g. "sip:trunk.example:5060"): REGISTER there with the trunk
    #: credentials (digest) and keep the registration fresh; None = no registration (peering by IP).
    trunk_registrar: str | None = None
    register_expires_s: int = 300
    caller_id: str | None = None
    drain_timeout_s: float = 60.0
    max_call_s: float = 3600.0
    #: Hang up a call whose far end sent no RTP for this long (a phone that vanished without a BYE would
    #: hold a call slot and a recogniser until `max_call_s`); 0 turns the check off. Calls the far end put
    #: on hold are not checked.
    rtp_timeout_s: float = 30.0
    #: An answered call whose media never starts (a late-offer INVITE acknowledged without an SDP answer,
    #: a 200 never acknowledged, an SDP PJSIP could not use) is hung up this long after the 200: every
    #: answered call has a deadline from its answer, whatever the peer does.
    media_timeout_s: float = 10.0
    pjsip_log_level: int = 1
    redact: bool = False  # callers' numbers masked in log lines (callbot.privacy)
    user_agent: str = "callbot"

    def __post_init__(self) -> None:
        _check_address("bind_address", self.bind_address)
        if self.rtp_bind_address is not None:
            _check_address("rtp_bind_address", self.rtp_bind_address)
        if self.public_address is not None:
            _check_host("public_address", self.public_address)
        _check_port("sip_port", self.sip_port)
        if self.outbound_proxy is not None and not self.outbound_proxy.startswith("sip:"):
            raise ConfigError(
                f"outbound_proxy: {self.outbound_proxy!r} must be a sip: URI, e.g. sip:10.0.0.1:5060;lr"
            )
        _check_port("rtp_port", self.rtp_port)
        if not 2 <= self.rtp_port_range <= 20000 or self.rtp_port + self.rtp_port_range > 65535:
            raise ConfigError(f"rtp_port_range: {self.rtp_port_range} must be 2..20000 and end below 65536")
        if not self.transports or any(t not in TRANSPORTS for t in self.transports):
            raise ConfigError(
                f"transports: {list(self.transports)} must be a non-empty subset of {TRANSPORTS}"
            )
        if not self.codecs:
            raise ConfigError("codecs: give at least one codec, e.g. [PCMA, PCMU]")
        for codec in self.codecs:
            if codec not in KNOWN_CODECS:
                raise ConfigError(f"codecs: unknown codec {codec!r}; choose from {', '.join(KNOWN_CODECS)}")
        if self.sample_rate not in (8000, 16000):
            raise ConfigError(f"sample_rate: {self.sample_rate} Hz; use 8000, or 16000 for G.722 wideband")
        if not 1 <= self.max_calls <= PJSUA_CALL_SLOTS:
            raise ConfigError(
                f"max_calls: {self.max_calls}; this PJSIP build holds at most {PJSUA_CALL_SLOTS} calls per "
                "process, run more workers behind the SIP front for more"
            )
        if self.retry_after_s < 0:
            raise ConfigError(f"retry_after_s: {self.retry_after_s} must be zero or more seconds")
        if not 0 <= self.prebuffer_ms <= 1000 or self.prebuffer_ms % 20:
            raise ConfigError(
                f"prebuffer_ms: {self.prebuffer_ms} must be a multiple of 20 between 0 and 1000"
            )
        for name in ("transfer_uri_template", "trunk_uri_template"):
            template = getattr(self, name)
            if template is not None and "{" not in template:
                raise ConfigError(f"{name}: {template!r} lacks a placeholder, e.g. 'sip:{{number}}@pbx:5060'")
        if self.media_timeout_s <= 0:
            raise ConfigError("media_timeout_s must be positive: an answered call without media must end")
        if self.transfer_timeout_s <= 0 or self.drain_timeout_s < 0 or self.max_call_s <= 0:
            raise ConfigError(
                "transfer_timeout_s and max_call_s must be positive, drain_timeout_s zero or more"
            )
        if not 0 <= self.pjsip_log_level <= 6:
            raise ConfigError(f"pjsip_log_level: {self.pjsip_log_level} must be 0..6")
        if not self.handler_address:
            raise ConfigError("handler_address: give the Unix socket path where the call handler listens")

    @property
    def contact_host(self) -> str:
        return self.public_address or self.bind_address

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> WorkerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown worker setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        cleaned = dict(values)
        for name in ("transports", "users", "codecs"):
            if name in cleaned:
                value = cleaned[name]
                if isinstance(value, str) or not isinstance(value, list | tuple):
                    raise ConfigError(f"{name}: expected a list, got {value!r}")
                cleaned[name] = tuple(str(v) for v in value)
        try:
            return cls(**cleaned)
        except TypeError as exc:
            raise ConfigError(f"worker settings: {exc}") from exc

    def with_secrets_from(self, environ: Mapping[str, str]) -> WorkerConfig:
        """The secrets a run file leaves out, from the environment the supervisor started us with."""
        authkey = environ.get(SECRET_SETTINGS["handler_authkey"]) or self.handler_authkey
        password = environ.get(SECRET_SETTINGS["trunk_password"]) or self.trunk_password
        return dataclasses.replace(self, handler_authkey=authkey, trunk_password=password)

    def secrets_environment(self) -> dict[str, str]:
        """The environment variables that carry this config's secrets to a worker process."""
        return {
            variable: str(getattr(self, name))
            for name, variable in SECRET_SETTINGS.items()
            if getattr(self, name) is not None
        }

    def to_mapping(self, secrets: bool = True) -> dict[str, Any]:
        """The settings as plain data; `secrets=False` leaves the secrets out (for files on disk)."""
        values = dataclasses.asdict(self)
        if not secrets:
            for name in SECRET_SETTINGS:
                values.pop(name)
        for name in ("transports", "users", "codecs"):
            values[name] = list(values[name])
        return values


def load_worker_config(path: str | Path) -> WorkerConfig:
    """Read a worker config from a JSON or YAML file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read worker config: {exc.strerror}") from exc
    try:
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return WorkerConfig.from_mapping(values).with_secrets_from(os.environ)


def _check_port(name: str, port: int) -> None:
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{name}: {port!r} is not a port number (1..65535)")


def _check_address(name: str, address: str) -> None:
    try:
        ipaddress.ip_address(address)
    except ValueError as exc:
        raise ConfigError(f"{name}: {address!r} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)") from exc


def _check_host(name: str, host: str) -> None:
    if not host or any(c in host for c in " <>;,\"'"):
        raise ConfigError(f"{name}: {host!r} is not a host name or IP address")
