"""SIP/media worker process: one pjsua2 endpoint, at most four calls, bytes in and out, nothing heavy.

Threads, and what each may do (see docs/sip.md):
- the main thread runs the PJSIP loop (`libHandleEvents`), receives every SIP callback and is the only
  thread that calls pjsua2: commands from the handler reach it through `self.commands`;
- PJSIP's conference clock thread calls `CallPort.onFrameReceived/onFrameRequested` for every call,
  every 20 ms: they only copy bytes (`MediaBridge`);
- the link threads (`HandlerLink`) move events and commands over the socket to the call handler.
Every pjsua2 callback is wrapped so that a Python exception never unwinds into C++ (which would abort).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any, TypeVar
from urllib.parse import quote

import pjsua2 as pj

from callbot.privacy import mask_number
from callbot.sip.call_state import CallLifecycle, CallState
from callbot.sip.config import PJSUA_CALL_SLOTS, ConfigError, WorkerConfig, load_worker_config
from callbot.sip.link import HandlerLink
from callbot.sip.media import CallRecorder, MediaBridge
from callbot.sip.protocol import (
    CallEnded,
    CallStarted,
    ClearAudio,
    Command,
    Direction,
    DtmfIn,
    DtmfMethod,
    Event,
    Hangup,
    Originate,
    OriginateResult,
    PlayAudio,
    SendDtmf,
    Transfer,
    TransferStatus,
    WorkerHello,
    call_file_stem,
)
from callbot.sip.sipmsg import caller_number, parse_request, passed_on_headers, uri_user

log = logging.getLogger("callbot.sip.worker")

CODEC_IDS = {"PCMA": "PCMA/8000", "PCMU": "PCMU/8000", "G722": "G722/16000", "GSM": "GSM/8000"}
_FLUSH_EVERY_S = 0.5
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!%*_+`'~.-]+$")
_DIALLABLE = re.compile(r"^(tel:)?\+?[0-9*#]{1,32}$")
_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(method: _F) -> _F:
    """pjsua2 callbacks must never raise: an exception crossing back into C++ aborts the process."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception:
            log.exception("error in pjsua2 callback %s", method.__name__)
            return None

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper  # type: ignore[return-value]


class CallPort(pj.AudioMediaPort):
    """The call's PCM tap: called by the conference clock thread, only moves bytes."""

    def __init__(self, bridge: MediaBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self._silence = pj.ByteVector(bytes(bridge.frame_bytes))

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        try:
            size = frame.size
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and size:
                # ctypes reads the std::vector's data pointer: 2 µs, where bytes(frame.buf) takes 160 µs.
                data = ctypes.c_void_p.from_address(int(frame.buf.this)).value
                pcm = ctypes.string_at(data, size) if data else bytes(self.bridge.frame_bytes)
            else:
                pcm = bytes(self.bridge.frame_bytes)
            self.bridge.caller_frame(pcm)
        except Exception:
            log.exception("caller frame dropped")

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        try:
            pcm = self.bridge.bot_frame()
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(pcm) if pcm is not None else self._silence
            frame.size = self.bridge.frame_bytes
        except Exception:
            log.exception("bot frame dropped")


@dataclass
class ActiveCall:
    """What the worker knows about one call, from INVITE to its last event."""

    call_id: str
    direction: Direction
    call: WorkerCall
    caller: str = ""
    callee: str = ""
    sip_headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    answered_at: float | None = None  # when the 200 went out (inbound): the call's deadlines run from it
    started_at: float = 0.0
    bridge: MediaBridge | None = None
    port: CallPort | None = None
    hangup_reason: str | None = None  # set once the worker decided to end the call
    pending_transfer: Transfer | None = None  # a REFER waiting for the bot's audio to finish
    transfer_deadline: float | None = None
    answer_deadline: float | None = None
    last_status: int = 0
    last_reason: str = ""
    rx_packets: int = -1  # RTP packets received so far (stream statistics), -1 before the first check
    rx_seen_at: float = 0.0  # when that count last moved (the first check counts as a move)
    rx_checked_at: float = 0.0
    life: CallLifecycle = field(init=False)

    def __post_init__(self) -> None:
        start = CallState.OFFERED if self.direction == "inbound" else CallState.DIALING
        self.life = CallLifecycle(self.call_id, start)


class WorkerCall(pj.Call):
    """pjsua2 call whose callbacks are forwarded to the worker."""

    def __init__(self, worker: SipWorker, account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.worker = worker
        self.active: ActiveCall | None = None

    @_guarded
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.worker.on_call_state(self)

    @_guarded
    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.worker.on_call_media_state(self)

    @_guarded
    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.worker.on_dtmf(self, prm.digit, prm.method)

    @_guarded
    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        self.worker.on_transfer_status(self, prm)

    @_guarded
    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        # PJSIP would follow a REFER from the remote party by dialling its target: a caller could make
        # the gateway call any number. Transfers are the bot's decision only.
        prm.statusCode = 603
        log.warning("refused a REFER from the remote party (to %s)", prm.dstUri)


class WorkerAccount(pj.Account):
    def __init__(self, worker: SipWorker) -> None:
        super().__init__()
        self.worker = worker

    @_guarded
    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.worker.on_incoming_call(self, prm)

    @_guarded
    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        """Trunk registration outcome: ops see a refused password or an unreachable registrar at once."""
        if 200 <= prm.code < 300:
            log.info("registered with the trunk (%d, expires %d s)", prm.code, prm.expiration)
        else:
            log.error("trunk registration failed: %d %s", prm.code, prm.reason)


class SipWorker:
    """One pjsua2 endpoint and its calls; `run()` blocks until stopped (SIGTERM drains first)."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.events: SimpleQueue[Event | None] = SimpleQueue()
        self.commands: SimpleQueue[Command] = SimpleQueue()
        self.calls: dict[str, ActiveCall] = {}
        self._pending: list[WorkerCall] = []  # rejected calls kept alive until PJSIP is done with them
        self._graveyard: list[object] = []
        self._draining_since: float | None = None
        self._stop_now = False
        self._ep: pj.Endpoint | None = None
        self._account: WorkerAccount | None = None
        self._frame_ms = 20
        hello = WorkerHello(
            config.worker_id, os.getpid(), config.max_calls, config.sample_rate, config.recording_dir
        )
        authkey = config.handler_authkey.encode() if config.handler_authkey else None
        self.link = HandlerLink(
            config.handler_address, authkey, hello, self.events, self.commands, self._audio_command
        )
        self._was_connected = False

    # ------------------------------------------------------------------------------------ lifecycle
    def run(self) -> int:
        self._start_endpoint()
        self.link.start()
        log.info(
            "worker %s listening on %s:%d (%s), up to %d calls",
            self.config.worker_id,
            self.config.bind_address,
            self.config.sip_port,
            "+".join(self.config.transports),
            self.config.max_calls,
        )
        last_flush = time.monotonic()
        try:
            while True:
                assert self._ep is not None
                self._ep.libHandleEvents(10)
                self._graveyard.clear()
                self._run_commands()
                now = time.monotonic()
                self._check_link()
                self._service_calls(now)
                if now - last_flush >= _FLUSH_EVERY_S:
                    last_flush = now
                    self._flush_recordings()
                if self._should_exit(now):
                    break
        finally:
            self._shutdown()
        return 0

    def drain(self) -> None:
        """Stop taking calls; let the current ones finish until `drain_timeout_s`, then exit."""
        if self._draining_since is None:
            log.info("draining: no new calls, %d in progress", len(self.calls))
            self._draining_since = time.monotonic()

    def stop_now(self) -> None:
        self._stop_now = True

    def _start_endpoint(self) -> None:
        cfg = self.config
        ep = pj.Endpoint()
        ep.libCreate()
        ep_cfg = pj.EpConfig()
        ua = ep_cfg.uaConfig
        ua.threadCnt = 0
        ua.mainThreadOnly = True
        ua.maxCalls = PJSUA_CALL_SLOTS
        ua.userAgent = cfg.user_agent
        ep_cfg.logConfig.level = cfg.pjsip_log_level
        ep_cfg.logConfig.consoleLevel = cfg.pjsip_log_level
        ep_cfg.logConfig.msgLogging = cfg.pjsip_log_level >= 4
        med = ep_cfg.medConfig
        med.clockRate = cfg.sample_rate
        med.sndClockRate = cfg.sample_rate
        med.channelCount = 1
        med.audioFramePtime = self._frame_ms
        med.ptime = self._frame_ms
        med.noVad = True
        med.ecTailLen = 0
        ep.libInit(ep_cfg)
        kinds = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP}
        for name in cfg.transports:
            tcfg = pj.TransportConfig()
            tcfg.port = cfg.sip_port
            tcfg.boundAddress = cfg.bind_address
            if cfg.public_address:
                tcfg.publicAddress = cfg.public_address
            ep.transportCreate(kinds[name], tcfg)
        ep.audDevManager().setNullDev()
        self._set_codec_priorities(ep)
        ep.libStart()
        self._ep = ep

        acfg = pj.AccountConfig()
        user = cfg.users[0] if cfg.users else "callbot"
        acfg.idUri = f"sip:{user}@{cfg.contact_host}:{cfg.sip_port}"
        if cfg.caller_id:
            acfg.idUri = f"sip:{cfg.caller_id}@{cfg.contact_host}:{cfg.sip_port}"
        mtp = acfg.mediaConfig.transportConfig
        mtp.port = cfg.rtp_port
        mtp.portRange = cfg.rtp_port_range
        mtp.boundAddress = cfg.rtp_bind_address or cfg.bind_address
        if cfg.public_address:
            mtp.publicAddress = cfg.public_address
        if cfg.outbound_proxy:
            acfg.sipConfig.proxies.append(cfg.outbound_proxy)
        if cfg.trunk_username:
            acfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", cfg.trunk_realm, cfg.trunk_username, 0, cfg.trunk_password or "")
            )
        if cfg.trunk_registrar:
            # The trunk knows us by its account: our AOR is the trunk user at the registrar's domain.
            domain = cfg.trunk_registrar.split(":", 1)[1].split(";", 1)[0]
            acfg.idUri = f"sip:{cfg.trunk_username or user}@{domain}"
            acfg.regConfig.registrarUri = cfg.trunk_registrar
            acfg.regConfig.timeoutSec = cfg.register_expires_s
            acfg.regConfig.registerOnAdd = True
        account = WorkerAccount(self)
        account.create(acfg, True)
        self._account = account

    def _set_codec_priorities(self, ep: pj.Endpoint) -> None:
        wanted = list(self.config.codecs)
        for info in ep.codecEnum2():
            name = info.codecId.split("/")[0]
            prefix = CODEC_IDS.get(name)
            rank = wanted.index(name) if name in wanted else None
            if rank is not None and (prefix is None or info.codecId.startswith(prefix)):
                ep.codecSetPriority(info.codecId, 250 - rank)
            else:
                ep.codecSetPriority(info.codecId, 0)

    def _should_exit(self, now: float) -> bool:
        if self._stop_now:
            return True
        if self._draining_since is None:
            return False
        live = [a for a in self.calls.values() if not a.life.ended]
        if not live and not self._pending:
            return True
        if now - self._draining_since > self.config.drain_timeout_s:
            for active in live:
                self._hangup(active, "worker stopping")
            # give PJSIP a moment to send the BYEs, then exit whatever the answers
            if now - self._draining_since > self.config.drain_timeout_s + 2.0:
                return True
        return False

    def _shutdown(self) -> None:
        ep = self._ep
        if ep is None:
            return
        for active in list(self.calls.values()):
            if not active.life.ended:
                self._hangup(active, "worker stopping")
        deadline = time.monotonic() + 2.0
        while (self.calls or self._pending) and time.monotonic() < deadline:
            ep.libHandleEvents(10)
            self._service_calls(time.monotonic())
        for active in list(self.calls.values()):
            self._finish(active, forced=True)
        self.link.close()
        # Ports go first on the C++ side, then every Call before libDestroy (crash traps in docs/sip.md).
        self._graveyard.clear()
        self._pending.clear()
        self.calls.clear()
        gc.collect()  # no Call proxy may outlive the library
        if self._account is not None:
            self._account.shutdown()
            self._account = None
        ep.libDestroy()
        self._ep = None

    # ------------------------------------------------------------------------------- inbound calls
    def on_incoming_call(self, account: WorkerAccount, prm: pj.OnIncomingCallParam) -> None:
        call = WorkerCall(self, account, prm.callId)
        request = parse_request(prm.rdata.wholeMsg)
        call_id = request.header("call-id") or f"pjsua-{prm.callId}-{time.monotonic_ns()}"
        live = sum(1 for a in self.calls.values() if not a.life.ended)
        callee = uri_user(request.uri)
        refusal: tuple[int, str] | None = None
        if self._draining_since is not None:
            refusal = (503, "Worker Draining")
        elif live >= self.config.max_calls:
            refusal = (503, "Worker Full")
        elif not self.link.connected.is_set():
            refusal = (503, "Call Handler Unavailable")
        elif self.config.users and callee not in self.config.users:
            refusal = (404, "Not Found")
        if refusal is not None:
            code, reason = refusal
            op = pj.CallOpParam()
            op.statusCode = code
            op.reason = reason
            if code == 503:
                _add_header(op.txOption, "Retry-After", str(self.config.retry_after_s))
            call.answer(op)  # answer(), unlike hangup(), sends the extra headers with the final response
            self._pending.append(call)
            log.info("refused call %s: %d %s", call_id, code, reason)
            return
        active = ActiveCall(
            call_id=call_id,
            direction="inbound",
            call=call,
            caller=uri_user(request.header("from") or ""),
            callee=callee,
            sip_headers=passed_on_headers(request),
        )
        call.active = active
        self.calls[call_id] = active
        op = pj.CallOpParam()
        op.statusCode = 200
        active.answered_at = time.monotonic()
        try:
            call.answer(op)
        except pj.Error as exc:
            log.error("could not answer %s: %s", call_id, exc.reason)
            self.calls.pop(call_id, None)
            call.active = None
            self._pending.append(call)
            refuse = pj.CallOpParam()
            refuse.statusCode = 500
            call.hangup(refuse)

    # ------------------------------------------------------------------------------ call callbacks
    def on_call_state(self, call: WorkerCall) -> None:
        info = call.getInfo()
        active = call.active
        if active is None:
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED and call in self._pending:
                self._pending.remove(call)
                self._graveyard.append(call)
            return
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self._maybe_start(active)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            if not active.life.ended:
                active.life.move(CallState.ENDED)
            active.last_status = info.lastStatusCode
            active.last_reason = info.lastReason

    def on_call_media_state(self, call: WorkerCall) -> None:
        active = call.active
        if active is None:
            return
        if active.port is not None:
            self._connect_media(active)
        else:
            self._maybe_start(active)

    def on_dtmf(self, call: WorkerCall, digit: str, method: int) -> None:
        active = call.active
        if active is None or not active.life.answered or active.bridge is None:
            return
        kind: DtmfMethod = "unknown"
        if method == pj.PJSUA_DTMF_METHOD_RFC2833:
            kind = "rfc4733"
        elif method == pj.PJSUA_DTMF_METHOD_SIP_INFO:
            kind = "sip-info"
        self.events.put(DtmfIn(active.call_id, digit, kind, active.bridge.now_ms))

    def on_transfer_status(self, call: WorkerCall, prm: pj.OnCallTransferStatusParam) -> None:
        active = call.active
        if active is None:
            return
        code = int(prm.statusCode)
        final = bool(prm.finalNotify)
        ok = final and 200 <= code < 300
        if final and not active.life.is_(CallState.TRANSFERRING, CallState.HANGING_UP):
            # Too late: the transfer already timed out and the conversation took the caller back.
            log.info("late transfer outcome for %s ignored: %d %s", active.call_id, code, prm.reason)
            prm.cont = False
            return
        self.events.put(TransferStatus(active.call_id, code, str(prm.reason), final, ok))
        if final:
            prm.cont = False
            active.transfer_deadline = None
            if ok and active.life.is_(CallState.TRANSFERRING, CallState.HANGING_UP):
                active.life.move(CallState.TRANSFERRED)
                if self.config.hangup_after_transfer:
                    self._hangup(active, "transferred", after_playback=False)
            elif not ok and active.life.is_(CallState.TRANSFERRING):
                active.life.move(CallState.MEDIA)  # the conversation goes on (the session decides)
            log.info("transfer of %s ended: %d %s", active.call_id, code, prm.reason)

    def _maybe_start(self, active: ActiveCall) -> None:
        if not active.life.is_(CallState.OFFERED, CallState.DIALING):
            return
        info = active.call.getInfo()
        if active.direction == "outbound" and info.state != pj.PJSIP_INV_STATE_CONFIRMED:
            return  # early media does not count as answered
        media_index = _active_audio_index(info)
        if media_index is None:
            return
        codec = ""
        try:
            stream = active.call.getStreamInfo(media_index)
            codec = f"{stream.codecName}/{stream.codecClockRate}"
        except pj.Error:
            pass
        recorder = None
        if self.config.recording_dir:
            path = Path(self.config.recording_dir) / f"{call_file_stem(active.call_id)}.wav"
            try:
                recorder = CallRecorder(path, self.config.sample_rate)
            except OSError as exc:  # a full or read-only disk must not cost the caller the call
                log.error("call %s will not be recorded: %s", active.call_id, exc)
        bridge = MediaBridge(
            active.call_id, self.config.sample_rate, self.events, self.config.prebuffer_ms, recorder
        )
        active.bridge = bridge
        active.life.move(CallState.MEDIA)
        active.started_at = time.monotonic()
        active.answer_deadline = None
        if active.direction == "outbound" and active.request_id is not None:
            self.events.put(OriginateResult(active.request_id, True, 200, "answered", active.call_id))
        # CallStarted is queued before the port exists, so it reaches the handler before any audio.
        self.events.put(
            CallStarted(
                call_id=active.call_id,
                direction=active.direction,
                caller=active.caller,
                callee=active.callee,
                remote_uri=info.remoteUri,
                local_uri=info.localUri,
                codec=codec,
                sample_rate=self.config.sample_rate,
                sip_headers=active.sip_headers,
                request_id=active.request_id,
                metadata=active.metadata,
                caller_number=caller_number(active.caller),
            )
        )
        port = CallPort(bridge)
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.init(pj.PJMEDIA_FORMAT_PCM, self.config.sample_rate, 1, self._frame_ms * 1000, 16)
        port.createPort(f"call-{call_file_stem(active.call_id)[:40]}", fmt)
        active.port = port
        self._connect_media(active)
        shown = mask_number if self.config.redact else str
        log.info(
            "call %s started (%s, %s -> %s, %s)",
            active.call_id,
            active.direction,
            shown(active.caller),
            shown(active.callee),
            codec,
        )

    def _connect_media(self, active: ActiveCall) -> None:
        info = active.call.getInfo()
        index = _active_audio_index(info)
        if index is None or active.port is None:
            return
        audio = active.call.getAudioMedia(index)
        audio.startTransmit(active.port)
        active.port.startTransmit(audio)

    # ---------------------------------------------------------------------------------- commands
    def _audio_command(self, command: PlayAudio | ClearAudio) -> None:
        """Runs on the link's receive thread: touches the outbound buffer only, never pjsua2."""
        active = self.calls.get(command.call_id)
        if active is None or active.bridge is None or active.hangup_reason is not None:
            return
        if isinstance(command, PlayAudio):
            active.bridge.outbound.write(command.pcm, command.mark)
        else:
            active.bridge.outbound.clear()

    def _run_commands(self) -> None:
        while True:
            try:
                command = self.commands.get_nowait()
            except Empty:
                return
            try:
                self._run_command(command)
            except pj.Error as exc:
                log.warning(
                    "%s failed: %s", type(command).__name__, exc.info() if hasattr(exc, "info") else exc
                )
            except Exception:
                log.exception("%s failed", type(command).__name__)

    def _run_command(self, command: Command) -> None:
        if isinstance(command, Originate):
            self._originate(command)
            return
        active = self.calls.get(command.call_id)
        if active is None or active.life.ended:
            if isinstance(command, Transfer):
                self.events.put(TransferStatus(command.call_id, 481, "no such call", True, False))
            return
        if isinstance(command, Hangup):
            self._hangup(active, f"handler hangup: {command.reason}", command.after_playback)
        elif isinstance(command, Transfer):
            if command.after_playback and active.bridge is not None and active.bridge.playing:
                active.pending_transfer = command
            else:
                self._transfer(active, command)
        elif isinstance(command, SendDtmf):
            prm = pj.CallSendDtmfParam()
            prm.digits = command.digits
            prm.method = pj.PJSUA_DTMF_METHOD_RFC2833
            active.call.sendDtmf(prm)

    def _transfer(self, active: ActiveCall, command: Transfer) -> None:
        if not active.life.is_(CallState.MEDIA):
            why = f"call is {active.life.state}, not in conversation"
            self.events.put(TransferStatus(active.call_id, 409, why, True, False))
            return
        try:
            target = self._transfer_uri(command.target)
            for name, value in (*command.headers, *command.refer_to_headers):
                _check_header(name, value)
        except ValueError as exc:
            self.events.put(TransferStatus(active.call_id, 400, str(exc), True, False))
            return
        if command.refer_to_headers:
            query = "&".join(f"{name}={quote(value, safe='')}" for name, value in command.refer_to_headers)
            target = f"<{target}?{query}>"
        op = pj.CallOpParam(True)
        for name, value in command.headers:
            _add_header(op.txOption, name, value)
        try:
            active.call.xfer(target, op)
        except pj.Error as exc:
            self.events.put(TransferStatus(active.call_id, 500, f"REFER not sent: {exc.reason}", True, False))
            return
        active.life.move(CallState.TRANSFERRING)
        active.transfer_deadline = time.monotonic() + self.config.transfer_timeout_s
        log.info("transfer of %s to %s sent", active.call_id, command.target)

    def _transfer_uri(self, target: str) -> str:
        if target.startswith(("sip:", "sips:")):
            return target
        template = self.config.transfer_uri_template
        if template is None:
            raise ValueError(
                f"transfer target {target!r} is not a SIP URI and no transfer_uri_template is set"
            )
        return template.format(target=target, queue=target, number=target)

    def _originate(self, command: Originate) -> None:
        live = sum(1 for a in self.calls.values() if not a.life.ended)
        if self._draining_since is not None or live >= self.config.max_calls:
            self.events.put(OriginateResult(command.request_id, False, 503, "worker full or draining"))
            return
        try:
            uri = self._dial_uri(command.target)
            for name, value in command.headers:
                _check_header(name, value)
        except ValueError as exc:
            self.events.put(OriginateResult(command.request_id, False, 400, str(exc)))
            return
        assert self._account is not None
        call = WorkerCall(self, self._account)
        op = pj.CallOpParam(True)
        op.opt.audioCount = 1
        op.opt.videoCount = 0
        for name, value in command.headers:
            _add_header(op.txOption, name, value)
        caller_id = command.caller_id or self.config.caller_id
        if caller_id:
            op.txOption.localUri = f"<sip:{caller_id}@{self.config.contact_host}:{self.config.sip_port}>"
        try:
            call.makeCall(uri, op)
        except pj.Error as exc:
            self.events.put(OriginateResult(command.request_id, False, 400, f"INVITE not sent: {exc.reason}"))
            return
        call_id = call.getInfo().callIdString
        active = ActiveCall(
            call_id=call_id,
            direction="outbound",
            call=call,
            caller=caller_id or "",
            callee=uri_user(uri),
            request_id=command.request_id,
            metadata=dict(command.metadata),
            answer_deadline=time.monotonic() + command.timeout_s,
        )
        call.active = active
        self.calls[call_id] = active
        log.info("calling %s (%s)", mask_number(uri) if self.config.redact else uri, call_id)

    def _dial_uri(self, target: str) -> str:
        if target.startswith(("sip:", "sips:")):
            return target
        if _DIALLABLE.match(target):
            template = self.config.trunk_uri_template
            if template is None:
                raise ValueError(f"cannot dial number {target!r}: no trunk_uri_template is configured")
            number = target.removeprefix("tel:")
            return template.format(number=number, target=number)
        raise ValueError(f"cannot dial {target!r}: give a sip: URI or a phone number")

    def _hangup(self, active: ActiveCall, reason: str, after_playback: bool = False) -> None:
        if not active.life.live:
            return  # the BYE is sent, or the call is over
        active.hangup_reason = active.hangup_reason or reason
        if after_playback and active.bridge is not None and active.bridge.playing:
            if not active.life.is_(CallState.HANGING_UP):
                active.life.move(CallState.HANGING_UP)  # the BYE goes once the goodbye has played
            return
        op = pj.CallOpParam()
        if not active.life.answered and active.direction == "inbound":
            op.statusCode = 480
        active.life.move(CallState.BYE_SENT)
        try:
            active.call.hangup(op)
        except pj.Error as exc:
            log.debug("hangup of %s: %s", active.call_id, exc.reason)

    # ----------------------------------------------------------------------------- housekeeping
    def _service_calls(self, now: float) -> None:
        for active in list(self.calls.values()):
            if active.life.ended:
                self._finish(active)
                continue
            playing = active.bridge is not None and active.bridge.playing
            if active.pending_transfer is not None and not playing:
                command, active.pending_transfer = active.pending_transfer, None
                self._transfer(active, command)
            ending = active.life.is_(CallState.HANGING_UP) or (
                active.life.is_(CallState.TRANSFERRED) and active.hangup_reason is not None
            )  # (a REFER that succeeded while the goodbye played leaves the BYE to send)
            if ending and not playing:
                self._hangup(active, active.hangup_reason or "hangup")
            if active.transfer_deadline is not None and now > active.transfer_deadline:
                active.transfer_deadline = None
                if active.life.is_(CallState.TRANSFERRING):
                    active.life.move(CallState.MEDIA)
                self.events.put(
                    TransferStatus(active.call_id, 408, "no transfer outcome in time", True, False)
                )
            if active.answer_deadline is not None and now > active.answer_deadline:
                active.answer_deadline = None
                self._hangup(active, "no answer")
            if (
                active.life.is_(CallState.OFFERED)
                and active.answered_at is not None
                and now - active.answered_at > self.config.media_timeout_s
            ):
                self._hangup(active, f"no media {self.config.media_timeout_s:g} s after the answer")
            in_conversation = active.life.answered and active.hangup_reason is None and active.life.live
            if in_conversation and now - active.started_at > self.config.max_call_s:
                self._hangup(active, "maximum call duration reached")
            if in_conversation and self.config.rtp_timeout_s > 0:
                self._check_rtp(active, now)

    def _check_rtp(self, active: ActiveCall, now: float) -> None:
        """Hang up when the far end has sent no RTP for `rtp_timeout_s` (its phone died without a BYE)."""
        if active.rx_packets >= 0 and now - active.rx_checked_at < 1.0:
            return  # read the statistics about once a second, not on every loop
        active.rx_checked_at = now
        try:
            info = active.call.getInfo()
            index = _active_audio_index(info)
            if index is None:
                active.rx_seen_at = now  # on hold (or no audio yet): silence is expected
                return
            packets = int(active.call.getStreamStat(index).rtcp.rxStat.pkt)
        except pj.Error:
            return
        if packets != active.rx_packets:
            active.rx_packets, active.rx_seen_at = packets, now
            return
        silent_for = now - active.rx_seen_at
        if silent_for > self.config.rtp_timeout_s:
            log.warning("call %s: no RTP for %.0f s; hanging up", active.call_id, silent_for)
            self._hangup(active, f"no RTP for {self.config.rtp_timeout_s:g} s")

    def _finish(self, active: ActiveCall, forced: bool = False) -> None:
        """Release a call PJSIP is done with: port first (C++ side), then report, then drop the Call."""
        self.calls.pop(active.call_id, None)
        port, active.port = active.port, None
        if port is not None:
            port.thisown = False
            pj.AudioMediaPort.__swig_destroy__(port)
        recording = None
        if active.bridge is not None and active.bridge.recorder is not None:
            try:
                recording = str(active.bridge.recorder.close())
            except OSError as exc:
                log.error("recording of %s not written: %s", active.call_id, exc)
        if active.life.answered:
            duration_ms = active.bridge.now_ms if active.bridge is not None else 0
            reason = active.hangup_reason or ("worker stopping" if forced else "remote hangup")
            if CallState.TRANSFERRED in active.life.visited:
                reason = "transferred"
            self.events.put(CallEnded(active.call_id, reason, active.last_status, duration_ms, recording))
        elif active.direction == "outbound" and active.request_id is not None:
            code = 408 if active.hangup_reason == "no answer" else active.last_status or 500
            reason = active.hangup_reason or active.last_reason or "call failed"
            self.events.put(OriginateResult(active.request_id, False, code, reason, active.call_id))
        log.info("call %s ended: %s", active.call_id, active.hangup_reason or active.last_reason)
        active.call.active = None
        self._graveyard.extend([active.call, port])

    def _flush_recordings(self) -> None:
        for active in self.calls.values():
            if active.bridge is not None and active.bridge.recorder is not None:
                try:
                    active.bridge.recorder.flush()
                except OSError as exc:
                    log.error("recording of %s: %s", active.call_id, exc)

    def _check_link(self) -> None:
        connected = self.link.connected.is_set()
        if self._was_connected and not connected:
            for active in self.calls.values():
                self._hangup(active, "call handler lost")
        self._was_connected = connected


def _active_audio_index(info: pj.CallInfo) -> int | None:
    for index, media in enumerate(info.media):
        if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            return index
    return None


def _check_header(name: str, value: str) -> None:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"invalid SIP header name {name!r}")
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"SIP header {name} holds a line break")


def _add_header(option: pj.SipTxOption, name: str, value: str) -> None:
    header = pj.SipHeader()
    header.hName = name
    header.hValue = value
    option.headers.append(header)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callbot.sip.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="worker settings, JSON or YAML (see docs/sip.md)")
    parser.add_argument("--log-level", default="INFO", help="Python log level (DEBUG, INFO, WARNING)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = load_worker_config(args.config)
    except ConfigError as exc:
        print(f"callbot sip worker: {exc}", file=sys.stderr)
        return 2
    worker = SipWorker(config)
    signal.signal(signal.SIGTERM, lambda *_: worker.drain())
    signal.signal(signal.SIGINT, lambda *_: worker.stop_now())
    try:
        return worker.run()
    except pj.Error as exc:
        print(f"callbot sip worker: PJSIP refused to start: {exc.info()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
