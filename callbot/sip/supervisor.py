"""Runs the SIP side of callbot: N worker processes, their call handlers, and the Kamailio front.

Why processes: the PJSIP build holds at most four calls per process, and a busy Python thread next to
PJSIP starves its media clock, so every worker is a small process of its own and the conversations run
elsewhere. This supervisor starts them, restarts whichever dies (with a growing back-off), and on SIGTERM
stops the way a telephone service should: workers stop taking calls (the front answers 503 with
Retry-After), calls in progress go on until they end or `drain_timeout_s` passes, then everything exits.

    python -m callbot.sip.supervisor --config sip.yaml

A status file (`<run_dir>/status.json`) lists every process, its pid and restart count.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from callbot.sip.config import ConfigError, WorkerConfig
from callbot.sip.kamailio import FrontConfig, kamailio_command, write_front

log = logging.getLogger("callbot.sip.supervisor")

_PR_SET_PDEATHSIG = 1
_STABLE_AFTER_S = 30.0
_MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class SupervisorConfig:
    """What to run. `worker` holds the WorkerConfig settings shared by every worker."""

    workers: int = 1
    bind_address: str = "127.0.0.1"
    sip_port: int = 5060
    worker_base_port: int | None = None
    rtp_base_port: int = 20000
    rtp_ports_per_worker: int = 200
    front: str = "always"
    run_dir: str = "var/sip"
    handler_address: str | None = None
    handler_factory: str | None = None
    handler_options: dict[str, Any] = field(default_factory=dict)
    drain_timeout_s: float = 60.0
    restart_backoff_s: float = 1.0
    #: What the front refuses before a worker sees it (callbot/sip/kamailio.py says why).
    max_message_bytes: int = 4000
    max_media_lines: int = 4
    invites_per_source: int = 16
    #: Calls in progress one address may hold at the front; unset: no limit (see FrontConfig).
    calls_per_source: int | None = None
    #: Calls in progress one caller number may hold at the front; unset: no limit (see FrontConfig).
    calls_per_caller: int | None = None
    #: The front's refusal counters, served on 127.0.0.1 at this port (`/metrics`); unset: not served.
    front_metrics_port: int | None = None
    worker: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"workers: {self.workers} must be between 1 and 64")
        if self.front not in ("auto", "always", "never"):
            raise ConfigError(f"front: {self.front!r} must be auto, always or never")
        try:
            self.front_config()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if self.workers > 1 and self.front == "never":
            raise ConfigError("front: never is only possible with one worker (they cannot share a SIP port)")
        if (self.handler_address is None) == (self.handler_factory is None):
            raise ConfigError(
                "give exactly one of handler_address (a running call-handler host) or handler_factory "
                "(module:function, one host process per worker is started)"
            )
        reserved = {
            "handler_address",
            "worker_id",
            "bind_address",
            "rtp_bind_address",
            "outbound_proxy",
            "sip_port",
            "rtp_port",
            "rtp_port_range",
        }
        clash = sorted(reserved & set(self.worker))
        if clash:
            raise ConfigError(f"worker: {', '.join(clash)} are set by the supervisor, remove them")

    @property
    def uses_front(self) -> bool:
        """The front is the edge of every deployment ("auto" is kept for older settings files): only
        Kamailio checks what PJSIP cannot afford (callbot/sip/kamailio.py). `never` exposes the worker."""
        return self.front != "never"

    @property
    def front_proxy_uri(self) -> str | None:
        """Where a worker behind the front sends the requests it starts (it can reach nothing else)."""
        if not self.uses_front:
            return None
        host = "127.0.0.1" if self.bind_address in ("0.0.0.0", "127.0.0.1") else self.bind_address
        return f"sip:{host}:{self.sip_port};lr"

    @property
    def worker_sip_address(self) -> str:
        """Behind the front a worker's SIP listens on loopback only, so nothing bypasses the front."""
        return "127.0.0.1" if self.uses_front else self.bind_address

    @property
    def run_path(self) -> Path:
        return Path(self.run_dir).resolve()

    def worker_port(self, index: int) -> int:
        if not self.uses_front:
            return self.sip_port
        base = self.worker_base_port if self.worker_base_port is not None else self.sip_port + 10
        return base + index

    def handler_socket(self, index: int) -> str:
        if self.handler_address is not None:
            return self.handler_address
        return str(self.run_path / f"handler-{index}.sock")

    def worker_config(self, index: int) -> WorkerConfig:
        values = {
            "drain_timeout_s": self.drain_timeout_s,
            **self.worker,
            "worker_id": f"sip-{index}",
            "bind_address": self.worker_sip_address,
            "rtp_bind_address": self.bind_address,
            "outbound_proxy": self.front_proxy_uri,
            "sip_port": self.worker_port(index),
            "rtp_port": self.rtp_base_port + index * self.rtp_ports_per_worker,
            "rtp_port_range": self.rtp_ports_per_worker,
            "handler_address": self.handler_socket(index),
        }
        return WorkerConfig.from_mapping(values)

    def front_config(self) -> FrontConfig:
        retry = int(self.worker.get("retry_after_s", 10))
        workers = tuple((self.worker_sip_address, self.worker_port(i)) for i in range(self.workers))
        return FrontConfig(
            self.bind_address,
            self.sip_port,
            workers,
            self.run_path,
            retry_after_s=retry,
            max_message_bytes=self.max_message_bytes,
            max_media_lines=self.max_media_lines,
            invites_per_source=self.invites_per_source,
            calls_per_source=self.calls_per_source,
            calls_per_caller=self.calls_per_caller,
            advertised_address=self.worker.get("public_address"),
            metrics_port=self.front_metrics_port,
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SupervisorConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown SIP setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        try:
            config = cls(**values)
        except TypeError as exc:
            raise ConfigError(f"SIP settings: {exc}") from exc
        for index in range(config.workers):
            config.worker_config(index)  # every worker's settings are checked before anything starts
        return config


def load_supervisor_config(path: str | Path) -> SupervisorConfig:
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return SupervisorConfig.from_mapping(values)


class Managed:
    """One child process the supervisor keeps alive."""

    def __init__(
        self, name: str, argv: list[str], backoff_s: float, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.base_backoff_s = backoff_s
        self.backoff_s = backoff_s
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, preexec_fn=_die_with_parent)
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("%s started (pid %d)", self.name, self.process.pid)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def check(self, now: float) -> bool:
        """Restart the process if it died; True when something changed."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                self.start()
                return True
            return False
        if self.process is None or self.process.poll() is None:
            if self.process is not None and now - self.started_at > _STABLE_AFTER_S:
                self.backoff_s = self.base_backoff_s
            return False
        log.error(
            "%s (pid %d) exited with %s; restarting in %.1f s",
            self.name,
            self.process.pid,
            self.process.returncode,
            self.backoff_s,
        )
        self.restart_at = now + self.backoff_s
        self.backoff_s = min(self.backoff_s * 2, _MAX_BACKOFF_S)
        return True

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    def wait(self, timeout: float) -> bool:
        if self.process is None:
            return True
        try:
            self.process.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            log.warning("%s did not stop in time: killing it", self.name)
            self.process.kill()
            self.process.wait()


class Supervisor:
    def __init__(self, config: SupervisorConfig, python: str = sys.executable) -> None:
        self.config = config
        self.python = python
        self.hosts: list[Managed] = []
        self.workers: list[Managed] = []
        self.front: Managed | None = None
        self._stopping = False

    def prepare(self) -> None:
        config = self.config
        run = config.run_path
        run.mkdir(parents=True, exist_ok=True)
        run.chmod(0o700)  # the run files name the handler sockets; other users have no business there
        backoff = config.restart_backoff_s
        if config.handler_factory is not None:
            for index in range(config.workers):
                argv = [
                    self.python,
                    "-m",
                    "callbot.sip.host",
                    "--address",
                    config.handler_socket(index),
                    "--handler",
                    config.handler_factory,
                    "--options",
                    json.dumps(config.handler_options),
                ]
                authkey = config.worker.get("handler_authkey")
                env = {**os.environ, "CALLBOT_SIP_AUTHKEY": str(authkey)} if authkey else None
                self.hosts.append(Managed(f"handler-{index}", argv, backoff, env))
        for index in range(config.workers):
            # The run file holds no secret: the trunk password and the link key go by environment.
            worker_config = config.worker_config(index)
            path = run / f"worker-{index}.json"
            write_private(path, json.dumps(worker_config.to_mapping(secrets=False), indent=2))
            argv = [self.python, "-m", "callbot.sip.worker", "--config", str(path)]
            secrets = worker_config.secrets_environment()
            env = {**os.environ, **secrets} if secrets else None
            self.workers.append(Managed(f"worker-{index}", argv, backoff, env))
        if config.uses_front:
            kamailio = shutil.which("kamailio") or (
                "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
            )
            if kamailio is None:
                raise ConfigError(
                    "the SIP front needs Kamailio: apt-get install kamailio (or, with one worker, "
                    "front: never exposes the worker itself, see docs/sip.md)"
                )
            front = config.front_config()
            self.front = Managed("front", kamailio_command(front, write_front(front), kamailio), backoff)

    def run(self) -> int:
        self.prepare()
        for managed in self._all():
            managed.start()
        self._write_status()
        while not self._stopping:
            now = time.monotonic()
            if any([managed.check(now) for managed in self._all()]):
                self._write_status()
            time.sleep(0.2)
        self._stop()
        return 0

    def request_stop(self) -> None:
        self._stopping = True

    def _all(self) -> list[Managed]:
        return [*self.hosts, *self.workers, *([self.front] if self.front else [])]

    def _stop(self) -> None:
        log.info("stopping: workers drain their calls (up to %.0f s)", self.config.drain_timeout_s)
        for worker in self.workers:
            worker.restart_at = None
            worker.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.drain_timeout_s + 5.0
        for worker in self.workers:
            if not worker.wait(max(0.0, deadline - time.monotonic())):
                worker.kill()
        for managed in [*self.hosts, *([self.front] if self.front else [])]:
            managed.signal(signal.SIGTERM)
        for managed in [*self.hosts, *([self.front] if self.front else [])]:
            if not managed.wait(5.0):
                managed.kill()
        self._write_status()
        log.info("stopped")

    def _write_status(self) -> None:
        status = {
            managed.name: {"pid": managed.pid, "restarts": managed.restarts, "argv": managed.argv}
            for managed in self._all()
        }
        path = self.config.run_path / "status.json"
        temporary = path.with_suffix(".tmp")
        write_private(temporary, json.dumps(status, indent=2))
        os.replace(temporary, path)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, whatever the umask of whoever started us."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)


def _die_with_parent() -> None:
    """Children get SIGTERM if the supervisor itself dies, so no orphan keeps a SIP port."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callbot.sip.supervisor", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", required=True, help="SIP settings (YAML), see docs/sip.md")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    os.umask(0o077)  # recordings, logs and run files of the processes started here: owner only
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        supervisor = Supervisor(load_supervisor_config(args.config))
        signal.signal(signal.SIGTERM, lambda *_: supervisor.request_stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.request_stop())
        return supervisor.run()
    except ConfigError as exc:
        print(f"callbot sip: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
