"""espeak-ng through pyttsx3, confined to one worker process.

pyttsx3 is not thread-safe (concurrent calls fail with "run loop already started" or swap output files;
changing the rate between calls gives the wrong rate), and a process forked after espeak has initialised
hangs. So the engine lives in a single process started with the `spawn` context, set up once (voice,
rate), and serves one request at a time; on this side a lock lets any number of session threads call
`synthesize`. Keeping synthesis in another process also keeps it off the interpreter that runs the SIP
media threads.

Why the rate is set on espeak-ng directly and pyttsx3's cancel is switched off: pyttsx3 opens espeak-ng in
its asynchronous mode, where a setting is a command queued to espeak-ng's own thread. pyttsx3 defers
`setProperty` to the next `runAndWait`, whose end-of-loop step calls `espeak_Cancel` whenever that thread
is still busy. The cancel drops the command the thread takes next without running it and puts every
setting back to the last one applied, so a rate queued just before it was lost (the driver's start-up
200 wpm stayed for the life of the worker), and a cancel landing as a request started could drop that
request's text (no audio). Nothing is ever cancelled here: the worker waits for espeak-ng to be idle
instead, and checks the rate espeak-ng reports before each request.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import weakref
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from callbot.tts.base import SynthesisError, Synthesizer, check_sample_rate, nothing_to_say

log = logging.getLogger(__name__)

#: espeak-ng's accepted speaking rates, in words per minute.
RATE_RANGE = (80, 450)

#: espeakRATE in espeak-ng's speak_lib.h.
_ESPEAK_RATE = 1


_MAIN_GUARD_HINT = (
    'if a script creates the synthesiser, put its top-level code under `if __name__ == "__main__":` '
    "(the worker is started with multiprocessing's spawn, which imports the main module again)"
)


class _WorkerDied(SynthesisError):
    """The worker process ended without answering."""


def espeak_available() -> bool:
    """pyttsx3 importable and the espeak-ng library present (what the espeak engine needs to start)."""
    import ctypes.util
    import importlib.util

    return importlib.util.find_spec("pyttsx3") is not None and bool(
        ctypes.util.find_library("espeak-ng") or ctypes.util.find_library("espeak")
    )


class EspeakSynthesizer(Synthesizer):
    """espeak-ng French voice (`roa/fr` by default) at a fixed rate, in one spawned worker process.

    The worker starts in the constructor, so a missing library or voice is reported at start-up. If it
    dies, the request in progress fails with SynthesisError and the next request starts a new one.
    As with any `spawn` start, a script creating one must keep its top level under
    ``if __name__ == "__main__":``.
    """

    name = "espeak"

    def __init__(
        self,
        *,
        voice: str = "roa/fr",
        rate: int = 175,
        timeout_s: float = 30.0,
        start_timeout_s: float = 60.0,
    ) -> None:
        low, high = RATE_RANGE
        if not isinstance(rate, int) or not low <= rate <= high:
            raise ValueError(f"espeak rate must be {low}–{high} words per minute, got {rate!r}")
        self.voice = voice
        self.rate = rate
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        #: The rate espeak-ng itself reports for the voice (pyttsx3's WAV header always says 22050).
        self.native_rate = 0
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._closed = False
        # Owned here, not by the worker: a killed worker cannot clean up after itself.
        self._workdir = tempfile.mkdtemp(prefix="callbot-espeak-")
        self._remove_workdir = weakref.finalize(self, shutil.rmtree, self._workdir, ignore_errors=True)
        with self._lock:
            try:
                self._start_worker()
            except BaseException:
                self._remove_workdir()
                raise

    @property
    def description(self) -> str:
        return f"espeak-ng {self.voice} via pyttsx3, {self.rate} wpm"

    @property
    def worker_pid(self) -> int | None:
        """Process id of the running worker (None when none runs): for monitoring and tests."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        """PCM16 mono at `sample_rate`; blank or punctuation-only text gives b"" (nothing to say)."""
        check_sample_rate(sample_rate)
        if nothing_to_say(text):
            return b""
        with self._lock:
            if self._closed:
                raise SynthesisError("the espeak synthesiser is closed; create a new one")
            if self._process is None or not self._process.is_alive():
                if self._process is not None:
                    log.warning("espeak worker exited (code %s); starting a new one", self._process.exitcode)
                self._stop_worker()
                self._start_worker()
            reply = self._ask((text, sample_rate), self.timeout_s, f"synthesising {text[:60]!r}")
        status, payload = reply
        if status != "ok":
            raise SynthesisError(f"espeak could not synthesise {text[:60]!r}: {payload}")
        assert isinstance(payload, bytes)
        return payload

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._connection is not None and self._process is not None and self._process.is_alive():
                with contextlib.suppress(OSError):
                    self._connection.send(None)
                self._process.join(timeout=2.0)
            self._stop_worker()
            self._remove_workdir()

    # --- worker management (always under self._lock) ------------------------------------------------------

    def _start_worker(self) -> None:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child_end, self.voice, self.rate, self._workdir),
            name="callbot-espeak",
            daemon=True,
        )
        process.start()
        child_end.close()  # so that the worker's death reads as end-of-file here
        self._process, self._connection = process, parent_end
        try:
            status, *details = self._receive(self.start_timeout_s, "starting")
        except _WorkerDied as exc:
            raise SynthesisError(f"{exc}; {_MAIN_GUARD_HINT}") from exc
        if status != "ready":
            self._stop_worker()
            raise SynthesisError(f"espeak worker did not start: {details[0]}")
        self.native_rate = int(details[1])

    def _ask(self, request: tuple[str, int], timeout_s: float, doing: str) -> tuple[Any, ...]:
        assert self._connection is not None
        try:
            self._connection.send(request)
        except OSError as exc:
            self._stop_worker()
            raise SynthesisError(f"espeak worker died before {doing}: {exc}") from exc
        return self._receive(timeout_s, doing)

    def _receive(self, timeout_s: float, doing: str) -> tuple[Any, ...]:
        assert self._connection is not None and self._process is not None
        try:
            if not self._connection.poll(timeout_s):
                self._stop_worker()
                raise SynthesisError(f"espeak worker gave no answer within {timeout_s:g} s while {doing}")
            reply = self._connection.recv()
        except (EOFError, OSError) as exc:
            self._process.join(timeout=1.0)
            code = self._process.exitcode
            self._stop_worker()
            raise _WorkerDied(f"espeak worker died (exit code {code}) while {doing}") from exc
        assert isinstance(reply, tuple)
        return reply

    def _stop_worker(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=5.0)
            with contextlib.suppress(ValueError):
                process.close()


# --- inside the worker process ---------------------------------------------------------------------------


def _worker_main(connection: Connection, voice: str, rate: int, workdir: str) -> None:
    """Own pyttsx3 for the life of the process and answer requests in order: ("ok", pcm) or ("error", why)."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - pyttsx3 prints "Audio saved to …" on every file
    try:
        engine, native_rate = _start_engine(voice, rate)
    except Exception as exc:
        connection.send(("error", str(exc)))
        return
    connection.send(("ready", voice, native_rate))
    path = Path(workdir) / "prompt.wav"
    while True:
        try:
            request = connection.recv()
        except EOFError:  # the parent went away
            return
        if request is None:
            return
        text, sample_rate = request
        try:
            pcm = _synthesize_once(engine, native_rate, rate, text, sample_rate, path)
            reply: tuple[str, Any] = ("ok", pcm)
        except Exception as exc:
            reply = ("error", str(exc) or type(exc).__name__)
        connection.send(reply)


def _start_engine(voice: str, rate: int) -> tuple[Any, int]:
    try:
        import pyttsx3
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver
    except (ImportError, OSError) as exc:
        raise RuntimeError(f"pyttsx3 or the espeak-ng library is missing ({exc}); install espeak-ng") from exc
    engine = pyttsx3.init("espeak")
    _never_cancel(engine)
    voices = engine.getProperty("voices")
    if not any(v.id == voice for v in voices):
        french = ", ".join(v.id for v in voices if "fr" in v.id.split("/")[-1])
        raise RuntimeError(f"espeak-ng has no voice {voice!r}; French voices here: {french or 'none'}")
    # Not engine.setProperty: pyttsx3 would hold both settings back until the first request's run loop,
    # whose cancel can drop them (see the module docstring). The driver's own start-up settings are
    # still queued on espeak-ng's thread: let them land first, so that ours come last.
    _espeak.dll.espeak_Synchronize()
    EspeakDriver.setProperty("voice", voice)  # applied at once, on this thread
    _apply_rate(rate)
    # pyttsx3 writes 22050 Hz in every header; ask espeak-ng what it really produces for this voice.
    native_rate = int(_espeak.dll.espeak_ng_GetSampleRate())
    if native_rate <= 0:
        raise RuntimeError(f"espeak-ng reports a sample rate of {native_rate} Hz")
    return engine, native_rate


def _never_cancel(engine: Any) -> None:
    """Make pyttsx3's end-of-loop stop a no-op: the worker only ever starts a request once espeak is idle.

    pyttsx3's `runAndWait` ends its loop through the driver's `stop`, which calls `espeak_Cancel` when
    espeak-ng's thread is still busy; that cancel is what lost settings and texts.
    """
    driver = getattr(getattr(engine, "proxy", None), "_driver", None)
    if driver is None or not callable(getattr(driver, "stop", None)):
        raise RuntimeError("this pyttsx3 has no espeak driver with a stop method; use pyttsx3 2.99")
    driver.stop = _leave_espeak_running


def _leave_espeak_running() -> None:
    """Stands in for the driver's stop: nothing is playing when the worker's run loop ends."""


def _apply_rate(rate: int) -> None:
    """Set espeak-ng's rate and wait until its thread has applied it, then check what it reports."""
    from pyttsx3.drivers import _espeak

    status = _espeak.dll.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
    _espeak.dll.espeak_Synchronize()
    applied = int(_espeak.dll.espeak_GetParameter(_ESPEAK_RATE, 1))
    if applied != rate:
        raise RuntimeError(f"espeak-ng speaks at {applied} wpm after setting {rate} wpm (status {status})")


def _synthesize_once(
    engine: Any, native_rate: int, rate: int, text: str, sample_rate: int, path: Path
) -> bytes:
    from pyttsx3.drivers import _espeak

    from callbot.audio import read_wav, resample

    # Idle first: audio espeak-ng still produced would go into this request's file.
    _espeak.dll.espeak_Synchronize()
    if int(_espeak.dll.espeak_GetParameter(_ESPEAK_RATE, 1)) != rate:
        _apply_rate(rate)  # whatever reset it, this request still speaks at the configured rate
    path.unlink(missing_ok=True)  # a stale file from the last request must not pass for this one
    engine.save_to_file(text, str(path))
    engine.runAndWait()
    _espeak.dll.espeak_Synchronize()  # the file is written from espeak-ng's thread, at the end of the text
    if not path.exists() or path.stat().st_size <= 44:
        raise RuntimeError("pyttsx3 wrote no audio")
    wav = read_wav(path)
    # The header rate is a constant in pyttsx3 (22050), not a measurement: an MBROLA voice runs
    # at 16 kHz under the same header. The samples are espeak-ng's, so its own figure is the true rate.
    if not wav.pcm:
        raise RuntimeError("pyttsx3 wrote a WAV without samples")
    return resample(wav.pcm, native_rate, sample_rate)
