"""The speech stack of one process: models loaded once, shared by every call it runs.

Loading a recogniser model takes seconds and hundreds of MB; synthesising the fixed prompts takes a
while too. Both happen once here, at start-up, so that a call only pays for what is new in it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from callbot.asr import load_engine
from callbot.asr.base import RecognizerEngine
from callbot.config import Settings
from callbot.dialog import Conversation, Flow, default_flow_path, load_flow
from callbot.dialog.actions import ScheduleCallback
from callbot.dialog.callback_call import CallbackCallDialog, CallbackCallRequest
from callbot.dialog.collectors import hour_phrases
from callbot.dialog.conversation import QueueUnavailable
from callbot.dialog.flow import CallbackRefusalPrompts, flow_file_sha256
from callbot.dialog.nlu.french_words import french_words
from callbot.queues import QueueDirectory
from callbot.queues.directory import QueueSentences

if TYPE_CHECKING:
    from callbot.callbacks import CallbackStore
from callbot import __version__
from callbot.session.call_session import AudioClock, CallSession, Dialog
from callbot.session.channel import Channel
from callbot.session.events import HEADER_EVENT, HEADER_VERSION, EventLog
from callbot.tts import PromptCache, Synthesizer, create_synthesizer
from callbot.vad import Endpointer, EndpointerConfig, create_detector

TELEPHONE_RATE = 8000


class SpeechStack:
    """Recogniser engine, synthesiser, prompt caches and the call flow, ready to serve calls."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: RecognizerEngine | None = None,
        synthesizer: Synthesizer | None = None,
        flow: Flow | None = None,
        callback_store: CallbackStore | None = None,
        prompt_dir: Path | None = None,
    ) -> None:
        """`prompt_dir` keeps synthesised prompts on disk across processes (`callbot test` workers then
        start without synthesising the flow's fixed prompts again)."""
        self.settings = settings
        self.prompt_dir = prompt_dir
        self.flow = flow if flow is not None else load_flow(settings.flow or default_flow_path())
        self.engine = (
            engine
            if engine is not None
            else load_engine(settings.asr.engine, settings.asr.models_dir, settings.asr.whisper())
        )
        self.synthesizer = synthesizer if synthesizer is not None else create_synthesizer(settings.tts.engine)
        self.queues = QueueDirectory.from_yaml(settings.queues) if settings.queues is not None else None
        self.callback_store = callback_store
        self.flow_sha256 = flow_file_sha256(self.flow.path)
        self._caches: dict[int, PromptCache] = {}
        self._lock = threading.Lock()
        self.prompts(TELEPHONE_RATE).preload(
            [
                *self.flow.fixed_prompts(),
                *self.flow.callback_call.fixed(),
                *self.flow.prompts.fixed(),
                *self._stores_asked_back(),
            ]
        )

    def warm_closed_sets(self) -> int:
        """Score the priors of the phrases the flow's closed sets hold (stores, products, hours) now,
        so that the first caller whose answer needs one does not wait for them (about 2.6 s for the
        retail flow, once per process, the second look's full-window priors included), and read the
        French word list. Returns how many phrases
        were scored; 0 for an engine without priors."""
        french_words()  # the word list the voicing fold consults (callbot/dialog/nlu/french_words.py)
        prior = getattr(self.engine, "prior", None)
        data = self.flow.data
        if prior is None or data is None:
            return 0
        names = [*data.store_answers(), *(product.name for product in data.products.values())]
        phrases = [*names, *hour_phrases()]
        prior(phrases)
        # and those of a short store or product answer's second look (`Recognizer.rescore_short_turn`)
        full_window = getattr(self.engine, "full_window_priors", None)
        if full_window is not None:
            full_window(names)
        return len(phrases)

    def _stores_asked_back(self) -> list[str]:
        """ "Lyon Part-Dieu, c'est bien ça ?" for every store: a store heard without certainty is asked
        back on the turn that already struggled, so its sentence is synthesised ahead."""
        data = self.flow.data
        if data is None:
            return []
        return [self.flow.prompts.confirm_value.format(value=store.name) for store in data.stores.values()]

    def prompts(self, sample_rate: int) -> PromptCache:
        """The prompt cache for one channel rate (fixed prompts synthesised once per rate)."""
        with self._lock:
            cache = self._caches.get(sample_rate)
            if cache is None:
                cache = PromptCache(self.synthesizer, sample_rate, directory=self.prompt_dir)
                self._caches[sample_rate] = cache
            return cache

    def banner(self) -> list[str]:
        """What is running, for the start-up banner and the replay report."""
        return [
            f"flow: {self.flow.name} ({self.flow.path})",
            f"asr: {self.engine.description}",
            f"tts: {self.synthesizer.description}",
            f"vad: {self._vad_name()}",
        ]

    def header(
        self, *, origin: datetime, caller: str | None, callee: str | None, direction: str, sample_rate: int
    ) -> dict[str, object]:
        """The fields of a call's header record: enough to replay the call as it went (`callbot test
        snapshot` reads them), whatever the settings of the machine that replays it."""
        return {
            "version": HEADER_VERSION,
            "callbot": __version__,
            "started_at": origin,
            "direction": direction,
            "caller": caller,
            "callee": callee,
            "flow": {"name": self.flow.name, "path": str(self.flow.path), "sha256": self.flow_sha256},
            "engines": {
                "asr": self.engine.description,
                "tts": self.synthesizer.description,
                "vad": self._vad_name(),
            },
            "sample_rate": sample_rate,
        }

    def _vad_name(self) -> str:
        """The detector calls get ("auto" resolved)."""
        used = type(create_detector(self.settings.vad.engine)).__name__.removesuffix("Detector").lower()
        return used if used == self.settings.vad.engine else f"{used} ({self.settings.vad.engine})"

    def queue_check(self, queue: str, now: datetime) -> QueueUnavailable | None:
        """Before a transfer: None when the queue takes calls now (or is not configured), else why not,
        and whether the caller may still wait (open but saturated) rather than be called back."""
        return check_queue(self.queues, queue, now, self.flow.prompts)

    def store_callback(self, action: ScheduleCallback, *, caller: str | None, call_id: str) -> None:
        """Store a confirmed call-back durably (committed when this returns, before "c'est noté").

        "In the past" is judged on the call's clock (`action.decided_at`); in a replay whose `--now` lies
        before today, a call-back whose time has passed is stored `expired` and never dialled."""
        if self.callback_store is None:
            raise RuntimeError("no call-back store: give SpeechStack(callback_store=...)")
        self.callback_store.add(
            due_at=action.at,
            queue=action.queue or self.flow.settings.fallback_queue,
            phone=action.phone or caller,
            context=action.context,
            caller=caller,
            call_id=call_id,
            as_of=action.decided_at,
        )

    def _callback_time_check(self, queue: str, clock: AudioClock) -> Callable[[datetime], str | None] | None:
        """While the caller is on the line: is the wanted call-back time in `queue`'s hours, with room in
        its slot? (Needs the queues and the call-back store; the call's clock says what "now" is.)"""
        return callback_time_check(
            self.settings, self.queues, self.callback_store, queue, clock.now, self.flow.callback_refused
        )

    def endpointer_config(self) -> EndpointerConfig:
        vad = self.settings.vad
        return EndpointerConfig(
            start_speech_ms=vad.start_speech_ms,
            end_silence_ms=vad.end_silence_ms,
            pause_ms=vad.pause_ms,
            preroll_ms=vad.preroll_ms,
            barge_in_min_speech_ms=vad.barge_in_min_speech_ms,
        )

    def new_endpointer(self, sample_rate: int = TELEPHONE_RATE) -> Endpointer:
        return Endpointer(create_detector(self.settings.vad.engine), self.endpointer_config(), sample_rate)

    def new_session(
        self,
        *,
        call_id: str,
        origin: datetime,
        caller: str | None = None,
        callee: str | None = None,
        channel: Channel | None = None,
        sample_rate: int = TELEPHONE_RATE,
        log_path: str | Path | None = None,
        log_stream: IO[str] | None = None,
        announce_recording: bool = False,
    ) -> CallSession:
        clock = AudioClock(origin)
        header = self.header(
            origin=origin, caller=caller, callee=callee, direction="inbound", sample_rate=sample_rate
        )
        queue = self.flow.settings.fallback_queue
        conversation = Conversation(
            self.flow,
            now=clock.now,
            caller=caller,
            queue_check=self.queue_check,
            check_callback_time=self._callback_time_check(queue, clock),
        )
        return self._session(
            conversation,
            header,
            clock,
            queue,
            call_id,
            channel,
            sample_rate,
            log_path,
            log_stream,
            announce_recording,
        )

    def new_callback_session(
        self,
        request: CallbackCallRequest,
        *,
        call_id: str,
        origin: datetime,
        channel: Channel | None = None,
        sample_rate: int = TELEPHONE_RATE,
        log_path: str | Path | None = None,
        log_stream: IO[str] | None = None,
        announce_recording: bool = False,
    ) -> CallSession:
        """A session for a call-back call the gateway placed: the person is asked whether they are free,
        then put through to `request.queue` with their first call's context (see
        callbot/dialog/callback_call.py)."""
        clock = AudioClock(origin)
        header = self.header(
            origin=origin, caller=None, callee=request.phone, direction="outbound", sample_rate=sample_rate
        )
        settings = self.flow.settings
        dialog = CallbackCallDialog(
            request,
            self.flow.callback_call,
            now=clock.now,
            check_callback_time=self._callback_time_check(request.queue, clock),
            max_retries=settings.max_retries,
            no_input_timeout_ms=settings.no_input_timeout_ms,
        )
        return self._session(
            dialog,
            header,
            clock,
            request.queue,
            call_id,
            channel,
            sample_rate,
            log_path,
            log_stream,
            announce_recording,
        )

    def _session(
        self,
        dialog: Dialog,
        header: dict[str, object],
        clock: AudioClock,
        fallback_queue: str,
        call_id: str,
        channel: Channel | None,
        sample_rate: int,
        log_path: str | Path | None,
        log_stream: IO[str] | None,
        announce_recording: bool,
    ) -> CallSession:
        """One call's session around `dialog`, with this stack's recogniser, voice and endpointer; its
        event log opens with the call's header record."""
        log = EventLog(call_id, log_path, log_stream, redact=self.settings.redact)
        log.emit(0, HEADER_EVENT, **header)
        return CallSession(
            conversation=dialog,
            clock=clock,
            recognizer=self.engine.new_recognizer(),
            prompts=self.prompts(sample_rate),
            endpointer=self.new_endpointer(sample_rate),
            log=log,
            channel=channel,
            sample_rate=sample_rate,
            fallback_queue=fallback_queue,
            announce_recording=announce_recording,
            recording_notice=self.flow.prompts.recording_notice,
            apology=self.flow.prompts.technical_fault,
            callback_refusals=self.flow.callback_refused,
        )


def check_queue(
    queues: QueueDirectory | None, queue: str, now: datetime, sentences: QueueSentences | None = None
) -> QueueUnavailable | None:
    """`SpeechStack.queue_check` without a stack (`callbot chat` applies the same rule); the caller is
    told why in `sentences` (the flow's `prompts:`)."""
    if queues is None or queue not in queues:
        return None
    status = queues.status(queue, now)
    if status.takes_calls:
        return None
    return QueueUnavailable(status.why_not_fr(now, sentences), can_wait=status.open)


def callback_time_check(
    settings: Settings,
    queues: QueueDirectory | None,
    store: CallbackStore | None,
    queue: str,
    now: Callable[[], datetime],
    refusals: CallbackRefusalPrompts | None = None,
) -> Callable[[datetime], str | None] | None:
    """Whether a wanted call-back time is in `queue`'s hours with room in its slot (None: not checked,
    for want of queues or a store); shared by live calls, replays and `callbot chat`. A refusal is said
    in `refusals` (the flow's `callback_refused:`)."""
    if queues is None or store is None or queue not in queues:
        return None
    from callbot.callbacks import CallbackBooking
    from callbot.callbacks.outbound import slot_rules

    booking = CallbackBooking(store, queues, slot_rules(settings), clock=now, refusals=refusals)
    return booking.time_check(queue)
