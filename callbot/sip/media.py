"""Per-call media plumbing that the PJSIP clock thread touches: byte moving only, no pjsua2 calls.

PJSIP's conference clock calls every call's port once per 20 ms tick, one call after the other, so
whatever runs here delays every call on the worker. What happens on a tick:
- caller frame in: stamp it on the call's frame clock, queue an `AudioIn` for the handler, keep a copy
  for the recording;
- bot frame out: take 20 ms from the `OutboundBuffer` (silence when it is empty), note any playback
  mark it passed, keep a copy for the recording.
"""

from __future__ import annotations

import os
import threading
import wave
from collections import deque
from pathlib import Path
from queue import SimpleQueue

from callbot.audio.frame import FRAME_MS
from callbot.audio.wav import interleave
from callbot.sip.protocol import AudioIn, Event, PlaybackMark


class OutboundBuffer:
    """Bot audio waiting to be played, written by the link thread and read by the clock thread.

    Playback starts once `prebuffer_frames` worth of audio is queued, or after waiting that many ticks,
    so that audio streamed frame by frame across the process boundary does not stutter on IPC jitter.
    """

    def __init__(self, frame_bytes: int, prebuffer_frames: int = 2) -> None:
        self.frame_bytes = frame_bytes
        self.prebuffer_frames = prebuffer_frames
        self._lock = threading.Lock()
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # read position inside the first chunk
        self._queued = 0  # bytes not yet played
        self._written = 0  # bytes ever written (mark positions count on this)
        self._played = 0
        self._marks: deque[tuple[int, str]] = deque()
        self._starving = True
        self._waited = 0

    def write(self, pcm: bytes, mark: str | None = None) -> None:
        if len(pcm) % 2:
            raise ValueError("outbound audio must be PCM16: an even number of bytes")
        with self._lock:
            if pcm:
                self._chunks.append(pcm)
                self._queued += len(pcm)
                self._written += len(pcm)
            if mark is not None:
                self._marks.append((self._written, mark))

    def clear(self) -> int:
        """Drop everything queued (barge-in); returns the number of bytes dropped."""
        with self._lock:
            dropped = self._queued
            self._chunks.clear()
            self._offset = 0
            self._queued = 0
            self._played = self._written
            self._marks.clear()
            self._starving = True
            self._waited = 0
            return dropped

    @property
    def queued_bytes(self) -> int:
        return self._queued

    def read_frame(self) -> tuple[bytes | None, list[str]]:
        """The next frame (None = silence) and the marks whose audio has now been played entirely."""
        with self._lock:
            if self._starving and self._queued:
                if (
                    self._queued < self.prebuffer_frames * self.frame_bytes
                    and self._waited < self.prebuffer_frames
                ):
                    self._waited += 1
                    return None, self._reached_marks()
                self._starving = False
            if not self._queued:
                self._starving = True
                self._waited = 0
                return None, self._reached_marks()
            frame = self._take(self.frame_bytes)
            self._played += len(frame)
            if len(frame) < self.frame_bytes:
                frame += bytes(self.frame_bytes - len(frame))
            return frame, self._reached_marks()

    def _take(self, size: int) -> bytes:
        parts: list[bytes] = []
        while size and self._chunks:
            head = self._chunks[0]
            piece = head[self._offset : self._offset + size]
            parts.append(piece)
            size -= len(piece)
            self._offset += len(piece)
            if self._offset >= len(head):
                self._chunks.popleft()
                self._offset = 0
        taken = b"".join(parts)
        self._queued -= len(taken)
        return taken

    def _reached_marks(self) -> list[str]:
        reached: list[str] = []
        while self._marks and self._marks[0][0] <= self._played:
            reached.append(self._marks.popleft()[1])
        return reached


class CallRecorder:
    """Stereo WAV of one call: caller on the left, bot on the right, aligned on the 20 ms frame clock.

    Both sides are appended once per clock tick; the file is written in pieces by `flush` (called from the
    worker loop, not from the clock thread) and appears under its final name only once complete.
    """

    def __init__(self, path: Path, sample_rate: int) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.frame_bytes = sample_rate * FRAME_MS // 1000 * 2
        self._partial = path.with_name(path.name + ".part")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._wav = wave.open(str(self._partial), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self._lock = threading.Lock()
        self._caller = bytearray()
        self._bot = bytearray()
        self._caller_total = 0
        self._bot_total = 0

    def caller(self, pcm: bytes) -> None:
        with self._lock:
            # A tick whose caller frame never came is filled with silence so the two sides stay aligned.
            lag = self._bot_total - self.frame_bytes - self._caller_total
            if lag > 0:
                self._caller += bytes(lag)
                self._caller_total += lag
            self._caller += pcm
            self._caller_total += len(pcm)

    def bot(self, pcm: bytes) -> None:
        with self._lock:
            self._bot += pcm
            self._bot_total += len(pcm)

    def flush(self, final: bool = False) -> None:
        with self._lock:
            size = max(len(self._caller), len(self._bot)) if final else min(len(self._caller), len(self._bot))
            left, right = bytes(self._caller[:size]), bytes(self._bot[:size])
            del self._caller[:size]
            del self._bot[:size]
        if size:
            self._wav.writeframes(interleave(left, right))

    def close(self) -> Path:
        self.flush(final=True)
        self._wav.close()
        os.replace(self._partial, self.path)
        return self.path


def finish_partial_recording(part: Path) -> Path | None:
    """Turn the `.wav.part` a dead worker left into a valid `.wav`: the audio written up to its last
    flush, with the RIFF and data sizes made true. None when `part` is not a WAV we wrote.

    Python's `wave` patches the header after every `writeframes`, so a worker killed between two
    flushes leaves a header that is right or a few frames short; the file length is the truth.
    """
    final = part.with_name(part.name.removesuffix(".part"))
    try:
        with open(part, "r+b") as raw:
            header = raw.read(44)
            if (
                len(header) < 44
                or header[:4] != b"RIFF"
                or header[8:16] != b"WAVEfmt "
                or header[36:40] != b"data"
            ):
                return None
            block = int.from_bytes(header[32:34], "little") or 1
            raw.seek(0, os.SEEK_END)
            data = (raw.tell() - 44) // block * block
            raw.truncate(44 + data)
            raw.seek(4)
            raw.write((36 + data).to_bytes(4, "little"))
            raw.seek(40)
            raw.write(data.to_bytes(4, "little"))
    except OSError:
        return None
    os.replace(part, final)
    return final


class MediaBridge:
    """One call's two directions, called by the PJSIP clock thread through `CallPort`."""

    def __init__(
        self,
        call_id: str,
        sample_rate: int,
        events: SimpleQueue[Event | None],
        prebuffer_ms: int = 40,
        recorder: CallRecorder | None = None,
    ) -> None:
        self.call_id = call_id
        self.sample_rate = sample_rate
        self.frame_bytes = sample_rate * FRAME_MS // 1000 * 2
        self.outbound = OutboundBuffer(self.frame_bytes, prebuffer_ms // FRAME_MS)
        self.recorder = recorder
        self._events = events
        self._bytes_per_ms = sample_rate * 2 // 1000
        self.frames_in = 0
        self.frames_out = 0

    @property
    def now_ms(self) -> int:
        return self.frames_in * FRAME_MS

    def caller_frame(self, pcm: bytes) -> None:
        if len(pcm) != self.frame_bytes:
            pcm = pcm[: self.frame_bytes].ljust(self.frame_bytes, b"\0")
        queued_ms = self.outbound.queued_bytes // self._bytes_per_ms
        self._events.put(AudioIn(self.call_id, self.frames_in * FRAME_MS, pcm, queued_ms))
        self.frames_in += 1
        if self.recorder is not None:
            self.recorder.caller(pcm)

    def bot_frame(self) -> bytes | None:
        pcm, marks = self.outbound.read_frame()
        self.frames_out += 1
        for mark in marks:
            self._events.put(PlaybackMark(self.call_id, mark, self.frames_out * FRAME_MS))
        if self.recorder is not None:
            self.recorder.bot(pcm if pcm is not None else bytes(self.frame_bytes))
        return pcm

    @property
    def playing(self) -> bool:
        return self.outbound.queued_bytes > 0
